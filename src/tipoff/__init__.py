"""tipoff: the nightly hand-off from the NBA feature store to player points predictions."""

__version__ = "0.1.0"
