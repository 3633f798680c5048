"""The SQL store: one implementation of the Store port over SQLAlchemy Core.

``SqliteStore`` (embedded default) and ``PostgresStore`` differ only in how they connect;
every query is shared, so both pass the same contract suites. Constructing a store does no
I/O: ``open()`` (or ``with store:``) connects and migrates. Every public operation is one
transaction retried on transient failures by the store's ``RetryPolicy`` (see ``retry.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import Any, Self

import pandas as pd
from sqlalchemy import (
    Connection, Engine, Table, create_engine, delete, event, func, insert, inspect, select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import StaticPool

from tipoff.adapters.store.sql.retry import RetryPolicy, retried
from tipoff.adapters.store.sql import schema
from tipoff.adapters.store.sql.records import frame_to_rows, rows_to_frame
from tipoff.adapters.store.sql.alerts import AlertQueries
from tipoff.adapters.store.sql.schedule import ScheduleQueries
from tipoff.adapters.store.sql.stage5 import Stage5Queries, row_dicts
from tipoff.adapters.store.sql.waits import WaitQueries
from tipoff.domain.analytics import COLUMNS
from tipoff.errors import ConfigurationError, NotFoundError, PermanentError, TransientError
from tipoff.ports import Clock, RunRecord

_SCHEMA_VERSION = select(func.max(schema.schema_meta.c.version))


def sql_engine(url: str, **options: Any) -> Engine:
    """``create_engine``, with a malformed URL or option as a ``ConfigurationError``."""
    try:
        return create_engine(url, **options)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"invalid store URL or option: {exc}") from exc


_SQLITE_TRANSIENT = ("locked", "busy")


def _is_transient(exc: SQLAlchemyError, dialect: str) -> bool:
    """Server gone, lock, dropped connection or an exhausted pool: worth a retry. On SQLite
    only a locked or busy database is (a missing file or table will not heal by waiting)."""
    if isinstance(exc, (DisconnectionError, PoolTimeoutError)):
        return True
    if isinstance(exc, OperationalError):
        return dialect != "sqlite" or any(word in str(exc.orig).lower()
                                          for word in _SQLITE_TRANSIENT)
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class SqlStore(Stage5Queries, WaitQueries, AlertQueries, ScheduleQueries):
    """System of record over any SQLAlchemy engine (see ``tipoff.ports.Store``)."""

    def __init__(self, engine: Engine, clock: Clock, *,
                 serial: AbstractContextManager | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self._engine = engine
        self._serial = serial or nullcontext()
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._upserts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._engine.url.render_as_string(hide_password=True)})"

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def retry_policy(self) -> RetryPolicy:
        """How transient failures of every operation are retried."""
        return self._retry

    def open(self, *, create: bool = True) -> Self:
        """Connect and migrate the schema (retried like any operation); construction does no I/O.

        With ``create=False`` (read-only commands) nothing is created: a store without
        tipoff's tables raises ``NotFoundError``, and an unreachable server fails at once."""
        if create:
            self._retry.run("open", self._migrate)
        else:
            self._check_exists()
        return self

    # --- infrastructure ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; driver errors leave as TransientError/PermanentError."""
        try:
            with self._serial, self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            if _is_transient(exc, self._engine.dialect.name):
                cause = getattr(exc, "orig", None) or exc
                raise TransientError(f"store unavailable: {cause}") from exc
            raise PermanentError(f"store error: {exc}") from exc
        except OverflowError as exc:  # sqlite3: an integer beyond 64 bits, caused by a value
            raise PermanentError(f"store refused a value: {exc}") from exc

    def _check_exists(self) -> None:
        with self.transaction() as conn:
            if not inspect(conn).has_table(schema.schema_meta.name):
                raise NotFoundError(f"no tipoff store at {self!r}")
            current = conn.execute(_SCHEMA_VERSION).scalar()
        if current is not None and current > schema.SCHEMA_VERSION:
            raise ConfigurationError(f"store schema version {current} is newer than this tipoff "
                                     f"({schema.SCHEMA_VERSION}); upgrade tipoff")

    def _migrate(self) -> None:
        with self.transaction() as conn:
            schema.metadata.create_all(conn)
            for table in schema.metadata.sorted_tables:  # indexes added to existing tables
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            current = conn.execute(_SCHEMA_VERSION).scalar()
            if current is None:
                conn.execute(insert(schema.schema_meta).values(
                    id=1, version=schema.SCHEMA_VERSION, migrated_at=self._clock.now()))
            elif current > schema.SCHEMA_VERSION:
                raise ConfigurationError(
                    f"store schema version {current} is newer than this tipoff "
                    f"({schema.SCHEMA_VERSION}); upgrade tipoff")

    @retried
    def schema_version(self) -> int:
        """The schema version recorded in the store."""
        with self.transaction() as conn:
            return int(conn.execute(_SCHEMA_VERSION).scalar())

    @retried
    def ping(self) -> None:
        """Return if the store answers; ``TransientError``/``PermanentError`` otherwise."""
        with self.transaction() as conn:
            conn.execute(select(1))

    def close(self) -> None:
        """Release the connection pool (safe before ``open`` and twice)."""
        self._engine.dispose()

    def _dialect_insert(self, table: Table):
        """INSERT with ON CONFLICT support for this engine's dialect."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _upsert_statement(self, table: Table):
        """INSERT … ON CONFLICT (primary key) DO UPDATE every other column; run it with a list
        of rows (executemany), so it compiles once and is cached."""
        if table.name not in self._upserts:
            keys = [c.name for c in table.primary_key.columns]
            stmt = self._dialect_insert(table)
            updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
            self._upserts[table.name] = stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        return self._upserts[table.name]

    def _upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows, replacing those whose primary key already exists (full rows only)."""
        if rows:
            conn.execute(self._upsert_statement(table), rows)

    # --- analytics inputs -------------------------------------------------------------------

    @retried
    def replace_analytics(self, frames: Mapping[str, pd.DataFrame], *,
                          dates: tuple[date, date] | None = None) -> dict[str, int]:
        written = {}
        with self.transaction() as conn:
            for name, frame in frames.items():
                table = _analytics_table(name)
                rows = frame_to_rows(frame, table)
                if dates is not None:
                    conn.execute(delete(table).where(table.c.game_date.between(*dates)))
                    if rows:
                        conn.execute(insert(table), rows)  # executemany: the fast path
                elif rows:
                    self._upsert(conn, table, rows)
                written[name] = len(rows)
        return written

    @retried
    def read_analytics(self, table: str, *, start: date | None = None,
                       end: date | None = None, players: Sequence[str] | None = None,
                       columns: Sequence[str] | None = None) -> pd.DataFrame:
        source = _analytics_table(table)
        columns = tuple(columns or COLUMNS[table])
        unknown = [c for c in columns if c not in COLUMNS[table]]
        if unknown:
            raise NotFoundError(f"no columns {unknown} in analytics table {table!r}")
        query = select(*(source.c[c] for c in columns))
        if start is not None:
            query = query.where(source.c.game_date >= start)
        if end is not None:
            query = query.where(source.c.game_date < end)
        if players is not None:
            if "player_lookup" not in COLUMNS[table]:
                raise NotFoundError(f"analytics table {table!r} has no players to filter by")
            query = query.where(source.c.player_lookup.in_(sorted(set(players))))
        with self.transaction() as conn:
            rows = conn.execute(query).all()
        return rows_to_frame(rows, columns, source)

    @retried
    def game_dates(self) -> list[date]:
        with self.transaction() as conn:
            query = select(schema.games.c.game_date).distinct().order_by(schema.games.c.game_date)
            return list(conn.execute(query).scalars())

    # --- features ---------------------------------------------------------------------------

    @retried
    def replace_features(self, game_date: date, feature_version: str,
                         rows: list[dict[str, Any]]) -> int:
        table = schema.feature_store
        with self.transaction() as conn:
            conn.execute(delete(table).where(table.c.game_date == game_date,
                                             table.c.feature_version == feature_version))
            if rows:
                conn.execute(insert(table), rows)
        return len(rows)

    @retried
    def read_features(self, game_date: date, feature_version: str) -> list[dict[str, Any]]:
        table = schema.feature_store
        query = (select(table)
                 .where(table.c.game_date == game_date, table.c.feature_version == feature_version)
                 .order_by(table.c.player_lookup))
        with self.transaction() as conn:
            return row_dicts(conn.execute(query))

    # --- run history ------------------------------------------------------------------------

    @retried
    def record_run(self, run: RunRecord) -> None:
        row = run.as_row()
        with self.transaction() as conn:
            self._upsert(conn, schema.run_history, [row])

    @retried
    def runs(self, *, processor: str | None = None,
             game_date: date | None = None) -> list[RunRecord]:
        table = schema.run_history
        query = select(table).order_by(table.c.started_at, table.c.run_id)
        if processor is not None:
            query = query.where(table.c.processor == processor)
        if game_date is not None:
            query = query.where(table.c.game_date == game_date)
        with self.transaction() as conn:
            return [_run_record(r._mapping) for r in conn.execute(query)]


def _run_record(row: Mapping[str, Any]) -> RunRecord:
    fields = {k: v for k, v in row.items() if k != "duration_ms"}
    return RunRecord(**fields)


def _analytics_table(name: str) -> Table:
    try:
        return schema.ANALYTICS_TABLES[name]
    except KeyError:
        known = ", ".join(sorted(schema.ANALYTICS_TABLES))
        raise NotFoundError(f"unknown analytics table {name!r} (known: {known})") from None


class SqliteStore(SqlStore):
    """The embedded store: one SQLite file (or ``sqlite://`` in memory), no server needed."""

    def __init__(self, url: str, clock: Clock, *, retry: RetryPolicy | None = None) -> None:
        options: dict[str, Any] = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        serial = None
        if url.rstrip("/") in ("sqlite:", "sqlite:///:memory:"):
            # One shared connection (each connection would see its own empty database), so
            # transactions from different threads must take turns.
            options["poolclass"] = StaticPool
            serial = threading.RLock()
        engine = sql_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        super().__init__(engine, clock, serial=serial, retry=retry)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
