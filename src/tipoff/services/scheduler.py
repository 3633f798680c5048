"""The in-process scheduler: the night's four jobs and the wait poll, driven by a Clock.

What is due is decided only by the injected clock (``tipoff.domain.schedule.due_jobs``), so the
same code runs on the machine's clock, a ``ScaledClock`` rehearsing a past night at 60×, or a
``FakeClock`` in tests. Exactly-once comes from the store, not from this process:

- a job run is claimed in ``job_runs`` (one row per job and Pacific day) before it runs, so a
  restart or a second instance never runs it again — not even after a failure;
- only the holder of the ``scheduler`` lease acts, so with several coordinators one instance
  runs jobs and polls while the others wait to take over when its lease expires.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from tipoff.domain.dates import game_date_at
from tipoff.domain.schedule import DEFAULT_GRACE, JOBS, Job, due_jobs, fire_time, job_named
from tipoff.ports import Clock, JobLedger

log = structlog.get_logger(__name__)

LEASE_NAME = "scheduler"
SUCCEEDED = "succeeded"
FAILED = "failed"

Action = Callable[[date], Any]


class Scheduler:
    """Runs each scheduled job once per Pacific day and ``poll`` every ``poll_every``.

    ``actions`` maps job names (``backup_start``, ``retry_1``, ``retry_2``, ``status_check``)
    to callables taking the game date; jobs without an action are not scheduled. ``store``
    needs ``claim_job_run``, ``finish_job_run``, ``acquire_lease`` and ``release_lease``.
    """

    def __init__(self, store: JobLedger, clock: Clock, actions: Mapping[str, Action], *, instance_id: str,
                 poll: Callable[[], Any] | None = None,
                 poll_every: timedelta = timedelta(seconds=60),
                 grace: timedelta = DEFAULT_GRACE,
                 lease_ttl: timedelta = timedelta(seconds=90),
                 lease_name: str = LEASE_NAME) -> None:
        named = {job_named(name).name for name in actions}  # unknown names fail here
        self._jobs: tuple[Job, ...] = tuple(job for job in JOBS if job.name in named)
        self._store, self._clock, self._actions = store, clock, dict(actions)
        self.instance_id, self._lease_name, self._lease_ttl = instance_id, lease_name, lease_ttl
        self._poll, self._poll_every, self._grace = poll, poll_every, grace
        self._last_seen: datetime | None = None
        self._last_poll: datetime | None = None
        self._leader = False
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Scheduler(instance_id={self.instance_id!r}, jobs={[j.name for j in self._jobs]})"

    @property
    def is_leader(self) -> bool:
        """Whether this instance held the lease at its last tick."""
        return self._leader

    # --- one step ---------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Take or renew the lease, run the due jobs and, when it is time, the poll.

        Returns the names of the jobs this call ran (succeeded or failed); ``[]`` when another
        instance leads. Store errors propagate, leaving the jobs due for the next tick.
        """
        now = self._clock.now()
        if not self._hold_lease(now):
            return []
        ran = [job.name for job, day in due_jobs(now, self._last_seen, self._grace, self._jobs)
               if self._run(job, day, now)]
        self._last_seen = now
        self._maybe_poll(now)
        return ran

    def _hold_lease(self, now: datetime) -> bool:
        leader = self._store.acquire_lease(self._lease_name, self.instance_id, now, self._lease_ttl)
        if leader != self._leader:
            log.info("scheduler_leadership", instance_id=self.instance_id, leader=leader,
                     at=now.isoformat())
        self._leader = leader
        return leader

    def _run(self, job: Job, local_day: date, now: datetime) -> bool:
        """Claim and run one firing; False when it was already claimed (by anyone)."""
        if not self._store.claim_job_run(job.name, local_day, self.instance_id, now):
            return False
        game_date = game_date_at(fire_time(job, local_day))
        status, result = self._call(job, game_date)
        self._store.finish_job_run(job.name, local_day, status, self._clock.now(),
                                   {"game_date": game_date.isoformat(), **result})
        return True

    def _call(self, job: Job, game_date: date) -> tuple[str, dict[str, Any]]:
        """Run the action; a failure is recorded, never retried (the next job still runs)."""
        log.info("scheduled_job_started", job=job.name, game_date=str(game_date))
        try:
            value = self._actions[job.name](game_date)
        except Exception as exc:  # any action failure is recorded; the scheduler keeps going
            log.error("scheduled_job_failed", job=job.name, game_date=str(game_date),
                      error=repr(exc), exc_info=True)
            return FAILED, {"error": f"{type(exc).__name__}: {exc}"}
        log.info("scheduled_job_finished", job=job.name, game_date=str(game_date))
        return SUCCEEDED, {"return": _json_value(value)}

    def _maybe_poll(self, now: datetime) -> None:
        if self._poll is None:
            return
        if self._last_poll is not None and now - self._last_poll < self._poll_every:
            return
        self._last_poll = now
        try:
            self._poll()
        except Exception as exc:  # a failed poll is logged; the next one comes poll_every later
            log.error("scheduler_poll_failed", error=repr(exc), exc_info=True)

    # --- the loop -----------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event,
                    interval: timedelta = timedelta(seconds=1)) -> None:
        """Tick every ``interval`` (real time) until ``stop`` is set; a failing tick is logged
        and tried again next time, so a store outage does not end the scheduler."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # e.g. TransientError from the store: retried next tick
                log.error("scheduler_tick_failed", instance_id=self.instance_id,
                          error=repr(exc), exc_info=True)
            stop.wait(interval.total_seconds())

    def start(self, interval: timedelta = timedelta(seconds=1)) -> Scheduler:
        """Run ``run_forever`` in a daemon thread; returns self."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run_forever, args=(self._stop, interval),
                                        name=f"scheduler-{self.instance_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the thread (waiting up to ``timeout`` s) and release the lease."""
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("scheduler_thread_still_running", instance_id=self.instance_id)
            self._thread = None
        self._store.release_lease(self._lease_name, self.instance_id)
        self._leader = False

    def __enter__(self) -> Scheduler:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _json_value(value: Any) -> Any:
    """``value`` (or its ``to_dict()``) when it can be stored as JSON, else its repr."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return {"repr": repr(value)[:1000]}
    return value
