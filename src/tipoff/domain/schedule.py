"""The night's timetable: the four daily jobs and when they fire (SPEC.md §1, §2).

Jobs are wall-clock times in America/Los_Angeles and fire exactly once per Pacific day, so the
same 06:00 job is 14:00 UTC in winter and 13:00 UTC in summer (2026-03-08 and 2026-11-01
switch). The game date a job acts on is the America/New_York date of its fire time.

Job names (stable: they key ``job_runs`` in the store and appear in ``tipoff schedule``):

    backup_start   06:00  start D's batch if stage 4 is ready, else wait durably (``/start``)
    retry_1        06:15  predict ready players still without predictions (``/retry``)
    retry_2        06:30  the same, a second time (``/retry``)
    status_check   07:00  coverage check and alerts (``/status``)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tipoff.domain.dates import PACIFIC, game_date_at, pacific_instant, require_aware

DEFAULT_GRACE = timedelta(hours=3)


@dataclass(frozen=True)
class Job:
    """One daily job at ``hour:minute`` America/Los_Angeles."""

    name: str
    hour: int
    minute: int
    description: str = ""

    def __post_init__(self) -> None:
        if not (0 <= self.hour < 24 and 0 <= self.minute < 60):
            raise ValueError(f"invalid time {self.hour}:{self.minute} for job {self.name!r}")

    @property
    def local_time(self) -> str:
        """The wall-clock time as ``HH:MM``."""
        return f"{self.hour:02d}:{self.minute:02d}"


BACKUP_START = Job("backup_start", 6, 0, "backup trigger: start the batch or wait for stage 4")
RETRY_1 = Job("retry_1", 6, 15, "first retry: predict ready players without predictions")
RETRY_2 = Job("retry_2", 6, 30, "second retry: predict ready players without predictions")
STATUS_CHECK = Job("status_check", 7, 0, "status check: coverage alerts")

JOBS: tuple[Job, ...] = (BACKUP_START, RETRY_1, RETRY_2, STATUS_CHECK)
JOBS_BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}


@dataclass(frozen=True)
class FireTime:
    """One firing of a job: its local (Pacific) and UTC instant."""

    job: Job
    local_time: datetime
    utc_time: datetime

    @property
    def local_day(self) -> date:
        """The Pacific day the firing belongs to."""
        return self.local_time.date()

    @property
    def game_date(self) -> date:
        """The slate date (America/New_York) the job acts on."""
        return game_date_at(self.utc_time)

    def to_dict(self) -> dict[str, Any]:
        """The ``tipoff schedule --json`` object: ISO-8601 strings with offsets."""
        return {"job": self.job.name, "local_time": self.local_time.isoformat(),
                "utc_time": self.utc_time.isoformat()}


def job_named(name: str) -> Job:
    """The job called ``name``; ValueError listing the known names otherwise."""
    try:
        return JOBS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r} (known: {', '.join(JOBS_BY_NAME)})") from None


def fire_time(job: Job, local_day: date) -> datetime:
    """The UTC instant ``job`` fires on the Pacific day ``local_day``.

    Well-defined for every wall-clock time (PEP 495, fold=0): a time inside a spring-forward
    gap fires as far after the gap's start as it was meant to be (02:30 → 03:30 PDT); a time
    repeated in the fall-back hour fires at its first occurrence. Either way, once per day.
    """
    return pacific_instant(local_day, job.hour, job.minute)


def firing(job: Job, local_day: date) -> FireTime:
    """The ``FireTime`` of ``job`` on ``local_day``."""
    utc = fire_time(job, local_day)
    return FireTime(job, utc.astimezone(PACIFIC), utc)


def upcoming(start: date, days: int, jobs: tuple[Job, ...] = JOBS) -> list[FireTime]:
    """Every firing on the Pacific days ``start`` … ``start + days - 1``, in time order."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    firings = [firing(job, start + timedelta(days=n)) for n in range(days) for job in jobs]
    return sorted(firings, key=lambda f: (f.utc_time, f.job.name))


def schedule_listing(start: date, days: int) -> list[dict[str, Any]]:
    """The ``tipoff schedule --json`` output: ``{"job", "local_time", "utc_time"}`` objects."""
    return [f.to_dict() for f in upcoming(start, days)]


def pacific_day(instant: datetime) -> date:
    """The America/Los_Angeles date ``instant`` falls on."""
    return require_aware(instant).astimezone(PACIFIC).date()


def due_jobs(now: datetime, last_seen: datetime | None = None, grace: timedelta = DEFAULT_GRACE,
             jobs: tuple[Job, ...] = JOBS) -> list[tuple[Job, date]]:
    """The (job, Pacific day) pairs that should fire at ``now``.

    A job is due when its fire time on today's Pacific day is at or before ``now``, no more
    than ``grace`` ago, and after ``last_seen`` (the previous check of a running scheduler;
    ``None`` at start-up, so a job missed while the process was down catches up once).
    Only today counts: a job from a past Pacific day never runs, however long the grace.
    """
    now = require_aware(now)
    today = pacific_day(now)
    due = []
    for job in jobs:
        when = fire_time(job, today)
        if when <= now and now - when <= grace and (last_seen is None or when > last_seen):
            due.append((job, today))
    return sorted(due, key=lambda pair: fire_time(*pair))
