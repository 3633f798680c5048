"""The exception tree of tipoff.

    TipoffError
    ├── ConfigurationError      settings that cannot work (bad URL, missing secret)
    ├── NotFoundError           a date, batch or row that does not exist
    ├── ConflictError           a state change that contradicts the stored state
    ├── InputError              a file or request that cannot be used (bad rows, no rows)
    └── AdapterError            an external system failed
        ├── TransientError      worth retrying (connection refused, server restart)
        └── PermanentError      retrying cannot help (dead letter and alert)

Adapters translate their SDK's errors into AdapterError subclasses, chained with
``raise ... from exc``; no driver exception escapes an adapter.
"""


class TipoffError(Exception):
    """Root of every error tipoff raises on purpose."""


class ConfigurationError(TipoffError):
    """The configuration cannot work."""


class NotFoundError(TipoffError):
    """The requested thing does not exist."""


class ConflictError(TipoffError):
    """The request contradicts the stored state."""


class InputError(TipoffError):
    """A file or request cannot be used as given."""


class AdapterError(TipoffError):
    """An external system (database, broker, alert channel) failed."""


class TransientError(AdapterError):
    """A failure that may succeed when retried."""


class PermanentError(AdapterError):
    """A failure that retrying cannot fix."""
