"""Shared fixtures: stores over every adapter, and the CI rule that real services must be up.

Set ``TIPOFF_REQUIRE_SERVICES=1`` (``.ci/run`` does) to turn "service unavailable" skips into
failures.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tipoff.logs import configure_logging
from tipoff.testing import FakeClock

configure_logging()  # plain tracebacks: the pretty ones render every local and are slow

POSTGRES_URL = os.environ.get("TIPOFF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SHARED_DATA = Path(os.environ.get(
    "TIPOFF_NBA_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nba"))


def service_unavailable(reason: str) -> None:
    """Skip locally; fail when services are required (CI)."""
    if os.environ.get("TIPOFF_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def plain_logging():
    """Tests that drive the pipeline without an entry point log as the commands do (plain
    tracebacks), not with structlog's default, which renders every local of a traceback."""
    from tipoff.logs import configure_logging

    configure_logging()


@pytest.fixture(scope="session", autouse=True)
def private_model_cache(tmp_path_factory):
    """Point ``tipoff demo``'s model cache (``$XDG_CACHE_HOME/tipoff``) at a folder of this
    session, for the tests and the processes they start: never the user's real cache."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc))


def _postgres_store(clock):
    from tipoff.adapters.store.sql.postgres import PostgresStore
    from tipoff.errors import AdapterError

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        store = PostgresStore(POSTGRES_URL, clock, schema=schema).open()
    except (AdapterError, Exception) as exc:  # any connection failure means "no server here"
        service_unavailable(f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}")
    return store, schema


def _drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    from tipoff.adapters.store.sql.postgres import psycopg_url

    engine = create_engine(psycopg_url(POSTGRES_URL))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgres"])
def any_store(request, tmp_path, clock):
    """A fresh, empty store of every adapter."""
    from tipoff.adapters.store.sql.store import SqliteStore

    if request.param == "postgres":
        store, schema = _postgres_store(clock)
        yield store
        store.close()
        _drop_schema(schema)
        return
    url = "sqlite://" if request.param == "sqlite-memory" else f"sqlite:///{tmp_path / 'store.db'}"
    store = SqliteStore(url, clock).open()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path, clock):
    """A fresh SQLite file store."""
    from tipoff.adapters.store.sql.store import SqliteStore

    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}", clock).open()
    yield store
    store.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real NBA data folder; skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared NBA data not found at {SHARED_DATA}")
    return SHARED_DATA


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
