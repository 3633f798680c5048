"""Benchmarks: stage 4, stage 5 and event-to-claim in process; scale-out across processes."""
