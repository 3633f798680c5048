"""Synthetic and imported NBA data: the deterministic league, the real-data importer, simulators."""
