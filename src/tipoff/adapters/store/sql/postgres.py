"""PostgreSQL store: the same SQL as SQLite, over psycopg 3 with a connection pool."""

from __future__ import annotations

from sqlalchemy import event

from tipoff.adapters.store.sql.retry import RetryPolicy
from tipoff.adapters.store.sql.store import SqlStore, sql_engine
from tipoff.errors import ConfigurationError
from tipoff.ports import Clock


def psycopg_url(url: str) -> str:
    """``postgresql://…`` → the SQLAlchemy URL of the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ConfigurationError(f"not a PostgreSQL URL: {url!r}")


class PostgresStore(SqlStore):
    """Store on PostgreSQL; ``schema`` isolates tenants or tests in one database."""

    def __init__(self, url: str, clock: Clock, *, schema: str | None = None,
                 retry: RetryPolicy | None = None, create_schema: bool = True) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                "PostgreSQL needs the psycopg driver: pip install 'tipoff[postgres]'") from exc
        engine = sql_engine(psycopg_url(url), pool_size=5, max_overflow=10, pool_pre_ping=True)
        if schema is not None:
            _use_schema(engine, schema, create=create_schema)
        super().__init__(engine, clock, retry=retry)


def _use_schema(engine, schema: str, *, create: bool = True) -> None:
    if not schema.replace("_", "").isalnum():
        raise ConfigurationError(f"invalid schema name {schema!r}")

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn, _record) -> None:
        with dbapi_conn.cursor() as cursor:
            if create:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cursor.execute(f'SET search_path TO "{schema}"')
        dbapi_conn.commit()
