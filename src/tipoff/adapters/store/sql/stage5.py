"""Stage 5 queries of the SQL store: batches, requests, predictions, circuit breakers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, text, update

from tipoff.adapters.store.sql.retry import retried
from tipoff.adapters.store.sql import schema
from tipoff.collector import collector_paused
from tipoff.domain.batches import OUTCOMES, RUNNING, Batch, Progress

_BATCH_FIELDS = tuple(Batch.__dataclass_fields__)

# Hot-path statements are built once; only their parameters change per call.
_requests = schema.batch_requests
_RECORD_RESULT = update(_requests).where(_requests.c.batch_id == bindparam("b_batch_id"),
                                         _requests.c.player_lookup == bindparam("b_player"))
_PROGRESS = select(func.count(), *(func.sum(case((_requests.c.outcome == o, 1), else_=0))
                                   for o in OUTCOMES)
                   ).where(_requests.c.batch_id == bindparam("b_batch_id"))
_features = schema.feature_store
_FEATURE_ROWS = select(_features).where(
    _features.c.game_date == bindparam("b_date"),
    _features.c.player_lookup.in_(bindparam("b_players", expanding=True)),
    _features.c.feature_version == bindparam("b_version"))
_predictions = schema.predictions
_ACTIVE_PREDICTIONS = select(
    _predictions.c.prediction_id, _predictions.c.player_lookup, _predictions.c.system_id,
).where(_predictions.c.game_date == bindparam("b_date"), _predictions.c.is_active.is_(True),
        _predictions.c.player_lookup.in_(bindparam("b_players", expanding=True)))
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:b_key))")
_SUPERSEDE = (update(_predictions).where(_predictions.c.prediction_id == bindparam("b_id"))
              .values(is_active=False))
_BREAKERS = select(schema.circuit_breakers)
_batches = schema.prediction_batches
_BATCH = select(*(_batches.c[f] for f in _BATCH_FIELDS)).where(
    _batches.c.game_date == bindparam("b_date"))


def row_dicts(result) -> list[dict[str, Any]]:
    """A result's rows as plain dicts, the column names looked up once (``dict(r._mapping)``
    builds a key map per row). No cyclic garbage collection while the rows (and their JSON
    columns) are decoded: they are acyclic, and in a process holding a season's frames the
    full collections their allocations trigger cost more than the decoding."""
    keys = list(result.keys())
    with collector_paused():
        return [dict(zip(keys, row)) for row in result]


def _batch(conn: Connection, game_date: date) -> Batch | None:
    row = conn.execute(_BATCH, {"b_date": game_date}).first()
    return None if row is None else Batch(**row._mapping)


def _progress(conn: Connection, batch_id: str) -> Progress:
    row = conn.execute(_PROGRESS, {"b_batch_id": batch_id}).one()
    return Progress(*(int(v or 0) for v in row))


class Stage5Queries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_upsert()``."""

    # --- batches ------------------------------------------------------------------------

    @retried
    def claim_batch(self, batch: Batch, details: dict[str, Any] | None = None) -> tuple[Batch, bool]:
        """Insert the batch unless its game date has one; return (stored batch, claimed?).

        One atomic INSERT … ON CONFLICT DO NOTHING RETURNING: of any number of racing claimers for a
        date exactly one gets ``claimed=True``.
        """
        row = {f: getattr(batch, f) for f in _BATCH_FIELDS}
        row["details"] = details or {}
        stmt = (self._dialect_insert(_batches).values(row)
                .on_conflict_do_nothing(index_elements=["game_date"])
                .returning(_batches.c.batch_id))
        with self.transaction() as conn:
            claimed = conn.execute(stmt).first() is not None
            return _batch(conn, batch.game_date), claimed

    @retried
    def get_batch(self, game_date: date) -> Batch | None:
        """The batch of a game date, if any."""
        with self.transaction() as conn:
            return _batch(conn, game_date)

    @retried
    def update_batch(self, batch_id: str, **values: Any) -> None:
        """Change fields of a batch (state, completed_at, counts …)."""
        with self.transaction() as conn:
            conn.execute(update(_batches).where(_batches.c.batch_id == batch_id).values(**values))

    # --- requests and results -----------------------------------------------------------

    def add_requests(self, batch_id: str, game_date: date, players: Iterable[str],
                     requested_at: datetime, attempt: int = 1) -> int:
        """Record requests; a player already requested in the batch is reset to pending."""
        # ``players`` may be a one-shot iterator: read it once, outside the retried part.
        return self._add_requests(batch_id, game_date, list(players), requested_at, attempt)

    @retried
    def _add_requests(self, batch_id: str, game_date: date, players: list[str],
                      requested_at: datetime, attempt: int) -> int:
        rows = [{"batch_id": batch_id, "player_lookup": p, "game_date": game_date,
                 "requested_at": requested_at, "attempt": attempt, "outcome": None,
                 "reason": None, "systems_succeeded": None, "systems_failed": None,
                 "rows_written": None, "worker_id": None, "reported_at": None}
                for p in players]
        if rows:
            with self.transaction() as conn:
                self._upsert(conn, schema.batch_requests, rows)
        return len(rows)

    @retried
    def record_results(self, reports: list[dict[str, Any]]) -> dict[str, Progress]:
        """Store workers' reports (batch_id, player_lookup, outcome, reason, counts, worker id,
        reported_at) in one transaction; return each touched batch's progress after it."""
        params = [{"b_batch_id": r["batch_id"], "b_player": r["player_lookup"],
                   **{k: v for k, v in r.items() if k not in ("batch_id", "player_lookup")}}
                  for r in reports]
        with self.transaction() as conn:
            if params:
                conn.execute(_RECORD_RESULT, params)
            return {batch_id: _progress(conn, batch_id)
                    for batch_id in dict.fromkeys(r["batch_id"] for r in reports)}

    @retried
    def batch_progress(self, batch_id: str) -> Progress:
        """Counts of requests by outcome, from the store."""
        with self.transaction() as conn:
            return _progress(conn, batch_id)

    @retried
    def batch_requests(self, batch_id: str) -> list[dict[str, Any]]:
        """Every request of a batch with its outcome, ordered by player."""
        table = schema.batch_requests
        with self.transaction() as conn:
            rows = conn.execute(select(table).where(table.c.batch_id == batch_id)
                                .order_by(table.c.player_lookup))
            return row_dicts(rows)

    # --- predictions --------------------------------------------------------------------

    @retried
    def write_predictions(self, game_date: date, rows: list[dict[str, Any]]) -> int:
        """Upsert prediction rows by prediction_id in one transaction; any other active row of
        the same (player, system) on that date becomes inactive, superseded by the new row."""
        if not rows:
            return 0
        table = schema.predictions
        newest = {(r["player_lookup"], r["system_id"]): r["prediction_id"] for r in rows}
        fresh = {r["prediction_id"] for r in rows}
        players = sorted({p for p, _ in newest})
        with self.transaction() as conn:
            self._lock_players(conn, game_date, players)
            conn.execute(self._upsert_statement(table), rows)
            active = conn.execute(_ACTIVE_PREDICTIONS, {
                "b_date": game_date, "b_players": players}).all()
            stale = [{"b_id": pid, "superseded_by": newest[(player, system)]}
                     for pid, player, system in active
                     if pid not in fresh and (player, system) in newest]
            if stale:
                conn.execute(_SUPERSEDE, stale)
        return len(rows)

    def _lock_players(self, conn, game_date: date, players: list[str]) -> None:
        """Serialise writers of the same players until commit, so two concurrent writes cannot
        both leave their row active. PostgreSQL: transaction-scoped advisory locks, taken in
        sorted order (no deadlock). SQLite: the upsert before the read of active rows takes the
        database's write lock, which serialises writers by itself."""
        if self._engine.dialect.name == "postgresql":
            conn.execute(_ADVISORY_LOCK, [{"b_key": f"{game_date}|{p}"} for p in players])

    @retried
    def finish_batch(self, batch_id: str, state: str, completed_at: datetime) -> bool:
        """Move a running batch to its final state; only one caller gets ``True``."""
        table = schema.prediction_batches
        with self.transaction() as conn:
            changed = conn.execute(update(table).where(table.c.batch_id == batch_id,
                                                       table.c.state == RUNNING)
                                   .values(state=state, completed_at=completed_at))
            return changed.rowcount == 1

    @retried
    def read_predictions(self, game_date: date, *, active_only: bool = True) -> list[dict[str, Any]]:
        """Prediction rows of a date, ordered by player, system and line."""
        table = schema.predictions
        query = select(table).where(table.c.game_date == game_date)
        if active_only:
            query = query.where(table.c.is_active.is_(True))
        query = query.order_by(table.c.player_lookup, table.c.system_id, table.c.line)
        with self.transaction() as conn:
            return row_dicts(conn.execute(query))

    @retried
    def count_predictions(self, game_date: date) -> dict[str, int]:
        """Active prediction rows per system."""
        table = schema.predictions
        query = (select(table.c.system_id, func.count())
                 .where(table.c.game_date == game_date, table.c.is_active.is_(True))
                 .group_by(table.c.system_id))
        with self.transaction() as conn:
            return {system: int(n) for system, n in conn.execute(query)}

    @retried
    def players_with_predictions(self, game_date: date) -> set[str]:
        """Players that have at least one active prediction on a date."""
        table = schema.predictions
        query = (select(table.c.player_lookup).distinct()
                 .where(table.c.game_date == game_date, table.c.is_active.is_(True)))
        with self.transaction() as conn:
            return set(conn.execute(query).scalars())

    @retried
    def duplicate_predictions(self, game_date: date) -> int:
        """Active prediction rows beyond one per (player, system, line)."""
        table = schema.predictions
        keys = (table.c.player_lookup, table.c.system_id, table.c.line)
        per_key = (select((func.count() - 1).label("extra"))
                   .where(table.c.game_date == game_date, table.c.is_active.is_(True))
                   .group_by(*keys).having(func.count() > 1).subquery())
        with self.transaction() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(per_key.c.extra), 0)))
                       .scalar_one())

    # --- features for workers -----------------------------------------------------------

    def read_feature_rows(self, game_date: date, players: Iterable[str],
                          feature_version: str) -> dict[str, dict[str, Any]]:
        """Feature rows of the given players on a date, by player (absent players left out)."""
        return self._read_feature_rows(game_date, sorted(players), feature_version)

    @retried
    def _read_feature_rows(self, game_date: date, players: list[str],
                           feature_version: str) -> dict[str, dict[str, Any]]:
        with self.transaction() as conn:
            rows = conn.execute(_FEATURE_ROWS, {"b_date": game_date, "b_players": players,
                                                "b_version": feature_version})
            return {r["player_lookup"]: r for r in row_dicts(rows)}

    # --- circuit breakers (shared by every worker) --------------------------------------

    @retried
    def load_breakers(self) -> dict[str, dict[str, Any]]:
        """Every stored breaker by system id (systems that never tripped may be absent)."""
        with self.transaction() as conn:
            return {r.system_id: dict(r._mapping) for r in conn.execute(_BREAKERS)}

    @retried
    def save_breaker(self, row: dict[str, Any]) -> None:
        """Upsert a breaker row (system_id, state, counters, opened_at, updated_at)."""
        with self.transaction() as conn:
            self._upsert(conn, schema.circuit_breakers, [row])
