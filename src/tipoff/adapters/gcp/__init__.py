"""Google Cloud appliers: make the resources of a plan exist."""
