"""Scheduler queries of the SQL store: job runs claimed once per local day, the leader lease."""

from __future__ import annotations


class ScheduleQueries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_upsert()``."""
