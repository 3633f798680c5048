"""Thin long-running processes: the coordinator (HTTP), workers and the scheduler."""
