"""Alert log queries of the SQL store (at most once per game date, type and channel)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from tipoff.adapters.store.sql.retry import retried
from tipoff.adapters.store.sql.schema import alert_log_table

CLAIMED = "claimed"
SENT = "sent"
FAILED = "failed"
ALERT_STATUSES = (CLAIMED, SENT, FAILED)
# A claim whose holder never reported (crash mid-delivery) may be taken over after this long.
STALE_CLAIM = timedelta(minutes=5)
MAX_ERROR_CHARS = 2000


def _key(game_date: date, alert_type: str, channel: str):
    columns = alert_log_table.c
    return and_(columns.game_date == game_date, columns.alert_type == alert_type,
                columns.channel == channel)


class AlertQueries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_dialect_insert()``."""

    @retried
    def claim_alert(self, game_date: date, alert_type: str, channel: str, severity: str,
                    title: str, now: datetime) -> bool:
        """Claim the right to deliver one alert on one channel; True when the caller should send.

        True when the row is new, or when an earlier delivery failed, or when an earlier claim
        is stale (older than ``STALE_CLAIM``, its holder presumably died). False when the alert
        was sent or another caller holds a fresh claim. Each step is one atomic statement
        (insert-if-absent, then a conditional update), so of racing claimers exactly one wins.
        Every successful claim counts one attempt.
        """
        row = {"game_date": game_date, "alert_type": alert_type, "channel": channel,
               "severity": severity, "title": title, "status": CLAIMED, "attempts": 1,
               "last_error": None, "first_at": now, "updated_at": now, "sent_at": None}
        # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT by default
        insert = (self._dialect_insert(alert_log_table).values(row)
                  .on_conflict_do_nothing(index_elements=["game_date", "alert_type", "channel"])
                  .returning(alert_log_table.c.attempts))
        reclaim = self._reclaim(game_date, alert_type, channel, severity, title, now)
        with self.transaction() as conn:
            if conn.execute(insert).first() is not None:
                return True
            return conn.execute(reclaim).first() is not None

    @staticmethod
    def _reclaim(game_date: date, alert_type: str, channel: str, severity: str, title: str,
                 now: datetime):
        columns = alert_log_table.c
        retryable = or_(columns.status == FAILED,
                        and_(columns.status == CLAIMED, columns.updated_at < now - STALE_CLAIM))
        return (update(alert_log_table)
                .where(_key(game_date, alert_type, channel), retryable)
                .values(status=CLAIMED, severity=severity, title=title, updated_at=now,
                        attempts=columns.attempts + 1)
                .returning(columns.attempts))

    @retried
    def mark_alert(self, game_date: date, alert_type: str, channel: str, status: str,
                   now: datetime, error: str | None = None) -> None:
        """Record the outcome of a delivery (``sent`` or ``failed``, with the error text).

        Marking ``sent`` keeps the last error, so the log shows a channel that recovered.
        """
        if status not in ALERT_STATUSES:
            known = ", ".join(ALERT_STATUSES)
            raise ValueError(f"unknown alert status {status!r} (known: {known})")
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == SENT:
            values["sent_at"] = now
        if error is not None:
            values["last_error"] = error[:MAX_ERROR_CHARS]
        with self.transaction() as conn:
            conn.execute(update(alert_log_table).where(_key(game_date, alert_type, channel))
                         .values(**values))

    @retried
    def alert_log(self, game_date: date | None = None) -> list[dict[str, Any]]:
        """Alert log rows (optionally of one game date), oldest first."""
        columns = alert_log_table.c
        query = select(alert_log_table).order_by(columns.first_at, columns.game_date,
                                                 columns.alert_type, columns.channel)
        if game_date is not None:
            query = query.where(columns.game_date == game_date)
        with self.transaction() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
