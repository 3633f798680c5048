"""Alert log queries of the SQL store (at most once per game date, type and channel)."""

from __future__ import annotations


class AlertQueries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_upsert()``."""
