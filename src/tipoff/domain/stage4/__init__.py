"""Stage 4: the feature row of every player on a slate (pure, vectorised)."""
