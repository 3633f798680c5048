"""Scheduler queries of the SQL store: job runs claimed once per local day, the leader lease.

``job_runs`` has one row per (job, Pacific day): inserting it is the claim, so a job runs once
per day across scheduler instances and restarts. ``scheduler_lease`` elects the one scheduler
instance that acts when several coordinators run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, or_, select, update

from tipoff.adapters.store.sql.retry import retried
from tipoff.adapters.store.sql.schema import UtcDateTime, job_runs, scheduler_lease

RUNNING = "running"


class ScheduleQueries:
    """Mixed into ``SqlStore``; relies on its ``transaction()`` and ``_dialect_insert()``."""

    # --- job runs -----------------------------------------------------------------------

    @retried
    def claim_job_run(self, job: str, local_day: date, instance_id: str, now: datetime) -> bool:
        """Record that ``job`` fires for ``local_day``; True only for the first claimer.

        One atomic INSERT … ON CONFLICT DO NOTHING on (job, local_day): of any number of
        instances, restarts and ticks claiming the same firing exactly one gets True.
        """
        row = {"job": job, "local_day": local_day, "fired_at": now, "finished_at": None,
               "status": RUNNING, "instance_id": instance_id, "result": {}}
        # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT by default
        stmt = (self._dialect_insert(job_runs).values(row)
                .on_conflict_do_nothing(index_elements=["job", "local_day"])
                .returning(job_runs.c.job))
        with self.transaction() as conn:
            return conn.execute(stmt).first() is not None

    @retried
    def finish_job_run(self, job: str, local_day: date, status: str, now: datetime,
                       result: dict[str, Any]) -> None:
        """Record the outcome (``succeeded``/``failed``) and result of a claimed job run."""
        with self.transaction() as conn:
            conn.execute(update(job_runs)
                         .where(job_runs.c.job == job, job_runs.c.local_day == local_day)
                         .values(status=status, finished_at=now, result=result))

    @retried
    def job_runs(self, since: date | None = None) -> list[dict[str, Any]]:
        """Job run rows (oldest first), optionally only Pacific days on or after ``since``."""
        query = select(job_runs).order_by(job_runs.c.local_day, job_runs.c.fired_at, job_runs.c.job)
        if since is not None:
            query = query.where(job_runs.c.local_day >= since)
        with self.transaction() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # --- leader lease -------------------------------------------------------------------

    @retried
    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease ``name`` until ``now + ttl``; True when ``holder`` has it.

        Succeeds when the lease is free, expired or already held by ``holder`` (renewal).
        Atomic across racing holders: one conditional UPDATE, then, when no row exists yet,
        INSERT … ON CONFLICT DO NOTHING — so exactly one of two racers wins.
        """
        expires_at = now + ttl
        with self.transaction() as conn:
            if conn.execute(self._take_lease(name, holder, now, expires_at)).rowcount == 1:
                return True
            stmt = (self._dialect_insert(scheduler_lease)
                    .values(name=name, holder=holder, expires_at=expires_at, acquired_at=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                    .returning(scheduler_lease.c.name))
            return conn.execute(stmt).first() is not None

    @staticmethod
    def _take_lease(name: str, holder: str, now: datetime, expires_at: datetime):
        """UPDATE the lease row if ``holder`` has it or it has expired."""
        lease = scheduler_lease.c
        mine = lease.holder == holder
        # acquired_at only moves on a change of holder, so it tells how long a leader has led
        return (update(scheduler_lease)
                .where(lease.name == name, or_(mine, lease.expires_at < now))
                .values(holder=holder, expires_at=expires_at,
                        acquired_at=case((mine, lease.acquired_at),
                                         else_=literal(now, UtcDateTime))))

    @retried
    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` has it, so another instance may take over at once."""
        with self.transaction() as conn:
            conn.execute(delete(scheduler_lease).where(scheduler_lease.c.name == name,
                                                       scheduler_lease.c.holder == holder))

    @retried
    def lease_holder(self, name: str, now: datetime) -> str | None:
        """The current (unexpired) holder of the lease ``name``, if any."""
        lease = scheduler_lease.c
        with self.transaction() as conn:
            return conn.execute(select(lease.holder).where(
                lease.name == name, lease.expires_at >= now)).scalar()

