"""A SQLite store holding the synthetic 2025-26 league, for the tests that replay its nights."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.pipeline.load_data import generate_league_into
from tipoff.testing import FakeClock

SEASON, SEED = "2025-26", 7
READ_AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)  # after every night the tests replay


@contextmanager
def league_store(folder: Path, until: date) -> Iterator[tuple[SqliteStore, FakeClock]]:
    """The league's results before ``until`` in ``folder/s.db``, and a clock at ``READ_AT``."""
    clock = FakeClock(READ_AT)
    store = SqliteStore(f"sqlite:///{folder / 's.db'}", clock).open()
    try:
        generate_league_into(store, SEASON, SEED, until)
        yield store, clock
    finally:
        store.close()
