"""The only place adapters are chosen, from Settings and URLs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tipoff.errors import ConfigurationError
from tipoff.ports import Bus, Clock, Store


def open_store(url: str, clock: Clock) -> Store:
    """An opened (connected, migrated) store for ``url``: ``sqlite:///path`` (embedded) or
    ``postgresql://…``; the store retries transient failures with backoff itself."""
    if url.startswith("sqlite:"):
        from tipoff.adapters.store.sql.store import SqliteStore

        _ensure_parent(url)
        return SqliteStore(url, clock).open()
    if url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        from tipoff.adapters.store.sql.postgres import PostgresStore

        server, options = _split_query(url, keep=("sslmode", "connect_timeout", "application_name"))
        return PostgresStore(server, clock, schema=options.pop("schema", None)).open()
    raise ConfigurationError(
        f"unsupported store URL {url!r}: use sqlite:///FILE or postgresql://HOST/DB")


def open_bus(url: str, clock: Clock) -> Bus:
    """An opened bus for ``url``: ``memory://`` (in-process) or ``nats://host:port``."""
    if url.startswith("memory:"):
        from tipoff.adapters.bus.memory import MemoryBus

        return MemoryBus(clock).open()
    if url.startswith(("nats:", "tls:")):
        from tipoff.adapters.bus.nats.bus import NatsBus

        server, options = _split_query(url)
        return NatsBus(server, clock, **_nats_options(options)).open()
    raise ConfigurationError(f"unsupported bus URL {url!r}: use memory:// or nats://HOST:PORT")


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _split_query(url: str, keep: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """Split tipoff's own query options off a URL (driver options in ``keep`` stay)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    kept = {k: v for k, v in query.items() if k in keep}
    own = {k: v for k, v in query.items() if k not in keep}
    return urlunsplit(parts._replace(query=urlencode(kept))), own


def _nats_options(options: dict[str, str]) -> dict:
    """``?prefix=&ack_wait_s=&max_deliver=`` of a nats:// URL as NatsBus arguments."""
    known = {"prefix", "ack_wait_s", "max_deliver"}
    unknown = set(options) - known
    if unknown:
        raise ConfigurationError(f"unknown NATS URL options {sorted(unknown)}; known: {sorted(known)}")
    result: dict = {}
    if "prefix" in options:
        result["stream_prefix"] = options["prefix"]
    if "ack_wait_s" in options:
        result["ack_wait"] = timedelta(seconds=float(options["ack_wait_s"]))
    if "max_deliver" in options:
        result["max_deliver"] = int(options["max_deliver"])
    return result
