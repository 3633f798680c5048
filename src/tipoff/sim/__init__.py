"""Synthetic and imported NBA data: the deterministic league, the importer, the simulators."""
