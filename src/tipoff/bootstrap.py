"""The only place adapters are chosen, from Settings and URLs."""

from __future__ import annotations

from pathlib import Path

from tipoff.errors import ConfigurationError
from tipoff.ports import Bus, Clock


def open_store(url: str, clock: Clock):
    """A store for ``url``: ``sqlite:///path`` (embedded) or ``postgresql://…``; transient
    failures are retried with backoff."""
    from tipoff.adapters.store.retrying import RetryingStore

    if url.startswith("sqlite:"):
        from tipoff.adapters.store.sql import SqliteStore

        _ensure_parent(url)
        return RetryingStore(SqliteStore(url, clock))
    if url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        from tipoff.adapters.store.postgres import PostgresStore

        return RetryingStore(PostgresStore(url, clock))
    raise ConfigurationError(
        f"unsupported store URL {url!r}: use sqlite:///FILE or postgresql://HOST/DB")


def open_bus(url: str, clock: Clock) -> Bus:
    """A bus for ``url``: ``memory://`` (in-process) or ``nats://host:port``."""
    if url.startswith("memory:"):
        from tipoff.adapters.bus.memory import MemoryBus

        return MemoryBus(clock)
    if url.startswith(("nats:", "tls:")):
        from tipoff.adapters.bus.nats import NatsBus

        return NatsBus(url, clock)
    raise ConfigurationError(f"unsupported bus URL {url!r}: use memory:// or nats://HOST:PORT")


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
