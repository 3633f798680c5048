"""The composition root: the only place outside ``tipoff.adapters`` that imports adapters.

Stores, buses, alert channels, model stores and clocks are chosen here from Settings and URLs
(URL options validated here: a bad one is a one-line ``ConfigurationError``), and the
in-process night (coordinator + workers on a bus) is wired here for the demo and benchmarks.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tipoff.config import Settings, mask_url_password
from tipoff.domain.systems import XGBoostSystem
from tipoff.errors import ConfigurationError, NotFoundError
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.demo import DemoWiring
from tipoff.pipeline.runtime import subscribe_coordinator, subscribe_workers
from tipoff.pipeline.worker import Worker
from tipoff.ports import (
    Alerter, AlertLog, Bus, Clock, ModelStore, Store, Warehouse, WorkerStore,
)


def open_store(url: str, clock: Clock, *, create: bool = True) -> Store:
    """An opened (connected, migrated) store for ``url``: ``sqlite:///path`` (embedded) or
    ``postgresql://…``; the store retries transient failures with backoff itself.

    With ``create=False`` (commands that only read or act on an existing night) nothing is
    created — no file, folder, schema or table: a missing store is a ``NotFoundError``."""
    try:
        return _open_store(url, clock, create)
    except NotFoundError:
        raise NotFoundError(f"no tipoff store at {mask_url_password(url)}") from None


def _open_store(url: str, clock: Clock, create: bool) -> Store:
    if url.startswith("sqlite:"):
        from tipoff.adapters.store.sql.store import SqliteStore

        path = _sqlite_path(url)
        if create:
            _ensure_parent(path)
        elif path is not None and not path.is_file():
            raise NotFoundError(str(path))
        return SqliteStore(url, clock).open(create=create)
    if url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        from tipoff.adapters.store.sql.postgres import PostgresStore

        server, options = _split_query(url, keep=("sslmode", "connect_timeout", "application_name"))
        return PostgresStore(server, clock, schema=_postgres_schema(options),
                             create_schema=create).open(create=create)
    raise ConfigurationError(
        f"unsupported store URL {url!r}: use sqlite:///FILE or postgresql://HOST/DB")


def open_bus(url: str, clock: Clock, *, create: bool = True) -> Bus:
    """An opened bus for ``url``: ``memory://`` (in-process), ``nats://host:port`` or
    ``pubsub://PROJECT`` (Google Cloud Pub/Sub; its emulator when ``PUBSUB_EMULATOR_HOST`` is set).
    ``create=False`` creates no stream or topic (read-only commands)."""
    if url.startswith("memory:"):
        from tipoff.adapters.bus.memory import MemoryBus

        return MemoryBus(clock).open(create=create)
    if url.startswith(("nats:", "tls:")):
        from tipoff.adapters.bus.nats.bus import NatsBus

        server, options = _split_query(url)
        return NatsBus(server, clock, **_nats_options(options)).open(create=create)
    if url.startswith("pubsub:"):
        from tipoff.adapters.bus.pubsub.bus import PubSubBus

        project, arguments = _pubsub_target(url)
        return PubSubBus(project, clock, **arguments).open(create=create)
    raise ConfigurationError(
        f"unsupported bus URL {url!r}: use memory://, nats://HOST:PORT or pubsub://PROJECT")


def open_warehouse(url: str) -> Warehouse:
    """An opened warehouse for ``bigquery://PROJECT/DATASET[?endpoint=URL&location=LOC]``
    (``endpoint`` points at a local emulator, with anonymous credentials)."""
    parts = urlsplit(url)
    dataset = parts.path.strip("/")
    if parts.scheme != "bigquery" or not parts.netloc or not re.fullmatch(r"\w{1,1024}", dataset):
        raise ConfigurationError(f"unsupported warehouse URL {url!r}: use "
                                 "bigquery://PROJECT/DATASET[?endpoint=URL]")
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - {"endpoint", "location"}
    if unknown:
        raise ConfigurationError(f"unknown warehouse URL options {sorted(unknown)}; "
                                 "known: ['endpoint', 'location']")
    from tipoff.adapters.warehouse.bigquery import BigQueryWarehouse

    return BigQueryWarehouse(parts.netloc, dataset, **options).open()


def _postgres_schema(options: dict[str, str]) -> str | None:
    """The ``?schema=`` of a PostgreSQL URL, the only option tipoff reads there."""
    unknown = set(options) - {"schema"}
    if unknown:
        raise ConfigurationError(f"unknown PostgreSQL URL options {sorted(unknown)}; known: "
                                 "['schema', 'sslmode', 'connect_timeout', 'application_name']")
    schema = options.get("schema")
    if schema is not None and not schema.replace("_", "").isalnum():
        raise ConfigurationError(f"bad URL option schema={schema!r}: letters, digits and '_' only")
    return schema


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` store URL (None for another store or in-memory)."""
    return _sqlite_path(url) if url.startswith("sqlite:") else None


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL (None for an in-memory database)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path.split("?", 1)[0]).expanduser()


def _ensure_parent(path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _split_query(url: str, keep: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """Split tipoff's own query options off a URL (driver options in ``keep`` stay)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    kept = {k: v for k, v in query.items() if k in keep}
    own = {k: v for k, v in query.items() if k not in keep}
    return urlunsplit(parts._replace(query=urlencode(kept))), own


def _pubsub_target(url: str) -> tuple[str, dict]:
    """The project of ``pubsub://PROJECT[?prefix=&ack_deadline_s=&max_delivery=]`` and the
    ``PubSubBus`` arguments of its options."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    known = {"prefix", "ack_deadline_s", "max_delivery"}
    unknown = set(options) - known
    if unknown:
        raise ConfigurationError(f"unknown Pub/Sub URL options {sorted(unknown)}; known: {sorted(known)}")
    if not parts.netloc or parts.path not in ("", "/"):
        raise ConfigurationError(f"Pub/Sub bus URL {url!r} must be pubsub://PROJECT")
    result: dict = {}
    try:
        if "prefix" in options:
            result["prefix"] = options["prefix"]
        if "ack_deadline_s" in options:
            seconds = int(options["ack_deadline_s"])
            if not 10 <= seconds <= 600:
                raise ValueError("ack_deadline_s must be between 10 and 600")
            result["ack_deadline"] = timedelta(seconds=seconds)
        if "max_delivery" in options:
            result["max_attempts"] = int(options["max_delivery"])
            if result["max_attempts"] < 1:
                raise ValueError("max_delivery must be at least 1")
    except ValueError as exc:
        raise ConfigurationError(f"bad Pub/Sub URL option in {url!r}: {exc}") from exc
    return parts.netloc, result


def _nats_options(options: dict[str, str]) -> dict:
    """``?prefix=&ack_wait_s=&max_deliver=`` of a nats:// URL as NatsBus arguments, validated
    here so a bad option is a one-line ``ConfigurationError``, never the adapter's ValueError."""
    known = {"prefix", "ack_wait_s", "max_deliver"}
    unknown = set(options) - known
    if unknown:
        raise ConfigurationError(f"unknown NATS URL options {sorted(unknown)}; known: {sorted(known)}")
    result: dict = {}
    if "prefix" in options:
        result["stream_prefix"] = _name_option("prefix", options["prefix"])
    if "ack_wait_s" in options:
        result["ack_wait"] = timedelta(seconds=_number_option("ack_wait_s", options["ack_wait_s"],
                                                              float, minimum=0.001))
    if "max_deliver" in options:
        result["max_deliver"] = _number_option("max_deliver", options["max_deliver"], int, minimum=1)
    return result


_NAME = re.compile(r"^[A-Za-z0-9-]+(_[A-Za-z0-9-]+)*$")


def _name_option(option: str, value: str) -> str:
    if not _NAME.match(value):
        raise ConfigurationError(
            f"bad URL option {option}={value!r}: letters, digits, '-' and single '_' only")
    return value


def _number_option(option: str, value: str, kind: type, *, minimum: float):
    try:
        number = kind(value)
    except ValueError:
        raise ConfigurationError(f"bad URL option {option}={value!r}: not a {kind.__name__}") from None
    if not number >= minimum:  # also refuses NaN
        raise ConfigurationError(f"bad URL option {option}={value!r}: must be at least {minimum:g}")
    return number


# --- time -------------------------------------------------------------------------------------

def system_clock() -> Clock:
    """The real clock (timezone-aware UTC)."""
    from tipoff.adapters.clock import SystemClock

    return SystemClock()


def scaled_clock(start: datetime, speed: float = 1.0) -> Clock:
    """A clock that starts at ``start`` and runs ``speed`` times real time (rehearsals, demo)."""
    from tipoff.adapters.clock import ScaledClock, SystemClock

    return ScaledClock(start, speed, SystemClock())


# --- alerts -----------------------------------------------------------------------------------

def alert_channels(settings: Settings) -> list[Alerter]:
    """The configured channels: log always first, then Slack and e-mail when configured."""
    from tipoff.adapters.alerts.log import LogAlerter

    channels: list[Alerter] = [LogAlerter()]
    if settings.slack_webhook_url is not None:
        from tipoff.adapters.alerts.slack import SlackAlerter

        channels.append(SlackAlerter(settings.slack_webhook_url))
    if settings.smtp_host:
        channels.append(_email_channel(settings))
    return channels


def alert_dispatcher(settings: Settings, store: AlertLog, clock: Clock) -> AlertDispatcher:
    """Every configured channel behind one dispatcher (once per game date, type and channel)."""
    return AlertDispatcher(store, clock, alert_channels(settings))


def log_alerts(store: AlertLog, clock: Clock) -> AlertDispatcher:
    """Alerts to the log only (the default of settings without Slack or e-mail)."""
    return alert_dispatcher(Settings(), store, clock)


def _email_channel(settings: Settings) -> Alerter:
    from tipoff.adapters.alerts.email import EmailAlerter

    recipients = [r.strip() for r in (settings.smtp_to or "").split(",") if r.strip()]
    if not settings.smtp_from or not recipients:
        raise ConfigurationError("TIPOFF_SMTP_HOST is set, so TIPOFF_SMTP_FROM and "
                                 "TIPOFF_SMTP_TO (comma-separated) are required")
    return EmailAlerter(settings.smtp_host or "", settings.smtp_port, settings.smtp_from, recipients,
                        user=settings.smtp_user, password=settings.smtp_password,
                        starttls=settings.smtp_starttls)


# --- models -----------------------------------------------------------------------------------

def model_store(model_dir: str | Path) -> ModelStore:
    """Model artefacts as ``NAME.json`` files in ``model_dir``."""
    from tipoff.adapters.model_files import FileModelStore

    return FileModelStore(model_dir)


def model_file(path: str | Path) -> tuple[ModelStore, str]:
    """The model store and name of one explicit artefact file (``tipoff backtest --model``)."""
    from tipoff.adapters.model_files import FileModelStore

    target = Path(path)
    return FileModelStore(target.parent, suffix=""), target.name


# --- one process's wiring ---------------------------------------------------------------------

EMBEDDED_BATCH = 500  # in one process a whole night's requests fit one worker call


def embedded_night(store: Store, bus: Bus, clock: Clock, model: XGBoostSystem, *,
                   workers: int = 1, alerts: AlertDispatcher | None = None,
                   max_batch: int = EMBEDDED_BATCH) -> Coordinator:
    """Coordinator and ``workers`` workers in this process on ``bus`` (demo, benchmarks,
    simulator); alerts go to the log unless ``alerts`` says otherwise. Each worker call takes
    up to ``max_batch`` requests: one feature read, one model call, one write transaction."""
    coordinator = Coordinator(store, bus, clock, alerts=alerts or log_alerts(store, clock))
    subscribe_coordinator(bus, coordinator)
    subscribe_workers(bus, worker_pool(store, bus, clock, model, workers, prefix="worker-"),
                      max_batch=max_batch)
    return coordinator


def worker_pool(store: WorkerStore, bus: Bus, clock: Clock, model: XGBoostSystem | None,
                count: int, *, prefix: str) -> list[Worker]:
    """``count`` competing workers named ``PREFIX1``, ``PREFIX2``… (no model needed for none)."""
    if count == 0:
        return []
    assert model is not None, "prediction workers need a model"
    return [Worker(store, bus, clock, model, worker_id=f"{prefix}{n + 1}") for n in range(count)]


def demo_wiring(workdir: Path, cache_dir: Path | None = None,
                model_dir: Path | None = None) -> DemoWiring:
    """The demo's adapters: URL-chosen store and bus, a real-time clock from the demo's start,
    models in ``MODEL_DIR`` (default ``WORKDIR/models``; copied from or saved to
    ``CACHE_DIR/models/KEY`` when a cache is given), and the in-process night."""
    cache = None
    if cache_dir is not None:
        cache = lambda key: model_store(Path(cache_dir) / "models" / key)  # noqa: E731
    return DemoWiring(open_store=open_store, open_bus=open_bus, clock=scaled_clock,
                      models=model_store(model_dir or Path(workdir) / "models"),
                      embedded=embedded_night,
                      cache=cache, code_version=code_version())


def code_version() -> str:
    """The package version and a hash of the sources that build features and train models:
    any change to them gives a new model cache key."""
    import hashlib

    from tipoff import __version__

    root = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for folder in ("domain", "sim", "pipeline"):
        for source in sorted((root / folder).rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def model_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """The user's cache folder for tipoff: ``$XDG_CACHE_HOME/tipoff``, else ``~/.cache/tipoff``."""
    import os

    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or ""
    return (Path(base) if base else Path.home() / ".cache") / "tipoff"


# --- benchmark clean-up -----------------------------------------------------------------------

def discard_store_schema(store_url: str, schema: str) -> None:
    """Drop a PostgreSQL schema a benchmark created (and everything in it)."""
    from sqlalchemy import create_engine, text

    from tipoff.adapters.store.sql.postgres import psycopg_url

    _name_option("schema", schema)
    engine = create_engine(psycopg_url(urlsplit(store_url)._replace(query="").geturl()))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def discard_bus_streams(bus_url: str, prefix: str) -> None:
    """Delete the NATS streams of ``prefix`` a benchmark created."""
    from tipoff.adapters.bus.nats.bus import NatsBus

    with NatsBus(urlsplit(bus_url)._replace(query="").geturl(), system_clock(),
                 stream_prefix=_name_option("prefix", prefix)) as bus:
        bus.delete_streams()


def memory_bus(clock: Clock) -> Bus:
    """A fresh in-process bus (benchmarks that time one step alone)."""
    return open_bus("memory://", clock)


def apply_gcp_plan(project: str, resources: list, endpoint: str | None = None,
                   iam_endpoint: str | None = None) -> dict[str, list]:
    """Apply a plan with the Google client libraries: Pub/Sub, service accounts, Cloud Run
    services and their invoker bindings, Cloud Scheduler jobs. With ``PUBSUB_EMULATOR_HOST`` set
    and no stand-in endpoints, only the Pub/Sub part runs (on the emulator); the rest is skipped.
    ``endpoint`` (REST: Run, Scheduler) and ``iam_endpoint`` (gRPC: IAM) point at a local stand-in
    with anonymous credentials; otherwise Application Default Credentials are used."""
    import os

    from tipoff.adapters.gcp.iam_apply import apply_service_accounts
    from tipoff.adapters.gcp.pubsub_apply import apply_pubsub
    from tipoff.adapters.gcp.run_apply import apply_run
    from tipoff.adapters.gcp.scheduler_apply import apply_scheduler

    if (endpoint is None) != (iam_endpoint is None):
        raise ConfigurationError("a local stand-in needs both --endpoint and --iam-endpoint")
    applied = apply_pubsub(project, resources)
    rest = [r for r in resources if r.kind not in ("topic", "subscription")]
    if os.environ.get("PUBSUB_EMULATOR_HOST") and endpoint is None:
        reason = ("PUBSUB_EMULATOR_HOST is set: only the Pub/Sub part was applied (on the "
                  "emulator); Google has no emulator for IAM, Cloud Run or Cloud Scheduler")
        return {"changed": applied.changed, "unchanged": applied.unchanged,
                "skipped": [{"name": r.name, "reason": reason} for r in rest]}
    applied.extend(apply_service_accounts(project, rest, iam_endpoint))
    applied.extend(apply_run(project, rest, endpoint))
    applied.extend(apply_scheduler(project, rest, endpoint))
    return {"changed": applied.changed, "unchanged": applied.unchanged, "skipped": []}
