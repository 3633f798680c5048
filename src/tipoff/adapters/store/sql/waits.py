"""Durable waits for stage 4 and operator switches (the event path) in the SQL store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from tipoff.adapters.store.sql.retry import retried
from tipoff.adapters.store.sql.schema import phase4_waits, switches
from tipoff.domain.batches import WAIT_OPEN as WAITING


def _wait(conn: Connection, game_date: date) -> dict[str, Any] | None:
    row = conn.execute(select(phase4_waits).where(phase4_waits.c.game_date == game_date)).first()
    return None if row is None else dict(row._mapping)


class WaitQueries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_dialect_insert()``."""

    @retried
    def open_wait(self, game_date: date, source: str, now: datetime,
                  deadline: datetime) -> dict[str, Any]:
        """Record a wait for stage 4 unless the date has one; return the stored wait.

        Insert-if-absent, so racing backup calls share one wait and one deadline.
        """
        row = {"game_date": game_date, "source": source, "status": WAITING, "created_at": now,
               "deadline": deadline, "resolved_at": None, "outcome": None}
        with self.transaction() as conn:
            conn.execute(self._dialect_insert(phase4_waits).values(row)
                         .on_conflict_do_nothing(index_elements=["game_date"]))
            return _wait(conn, game_date)

    @retried
    def get_wait(self, game_date: date) -> dict[str, Any] | None:
        """The wait of a date, if one was ever opened."""
        with self.transaction() as conn:
            return _wait(conn, game_date)

    @retried
    def open_waits(self) -> list[dict[str, Any]]:
        """Every wait still waiting, oldest first."""
        query = (select(phase4_waits).where(phase4_waits.c.status == WAITING)
                 .order_by(phase4_waits.c.deadline))
        with self.transaction() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    @retried
    def close_wait(self, game_date: date, status: str, now: datetime, outcome: str) -> bool:
        """Resolve or expire a waiting wait; False when it was already closed (by a racer)."""
        with self.transaction() as conn:
            changed = conn.execute(
                update(phase4_waits)
                .where(phase4_waits.c.game_date == game_date, phase4_waits.c.status == WAITING)
                .values(status=status, resolved_at=now, outcome=outcome))
            return changed.rowcount == 1

    @retried
    def set_switch(self, name: str, value: Any, now: datetime) -> None:
        """Set an operator switch (e.g. ``event_path_enabled``)."""
        with self.transaction() as conn:
            self._upsert(conn, switches, [{"name": name, "value": value, "updated_at": now}])

    @retried
    def switch(self, name: str, default: Any = None) -> Any:
        """The value of an operator switch, or ``default`` when never set."""
        with self.transaction() as conn:
            value = conn.execute(select(switches.c.value).where(switches.c.name == name)).scalar()
        return default if value is None else value
