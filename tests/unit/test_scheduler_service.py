"""The scheduler service over the SQLite store, driven only by tick() and FakeClock.advance."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tipoff.adapters.clock import ScaledClock
from tipoff.domain.schedule import JOBS
from tipoff.services.scheduler import Scheduler
from tipoff.testing import FakeClock

UTC = timezone.utc
PACIFIC = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 1, 15)  # the ``clock`` fixture starts at 04:00 PT on this day
JOB_NAMES = [job.name for job in JOBS]


def pt(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PACIFIC).astimezone(UTC)


class Recorder:
    """Actions that remember each call: job name → [(game date, clock time)]."""

    def __init__(self, clock, failing: tuple[str, ...] = ()) -> None:
        self.clock, self.failing = clock, failing
        self.calls: dict[str, list[tuple[date, datetime]]] = defaultdict(list)

    def actions(self):
        return {name: self._action(name) for name in JOB_NAMES}

    def _action(self, name: str):
        def act(game_date: date):
            self.calls[name].append((game_date, self.clock.now()))
            if name in self.failing:
                raise RuntimeError(f"{name} broke")
            return {"decision": "started", "game_date": game_date.isoformat()}
        return act

    def dates(self) -> dict[str, list[date]]:
        return {name: [d for d, _ in calls] for name, calls in self.calls.items()}


def scheduler(store, clock, recorder: Recorder, instance_id: str = "a", **options) -> Scheduler:
    return Scheduler(store, clock, recorder.actions(), instance_id=instance_id, **options)


def tick_until(clock, until: datetime, *schedulers: Scheduler,
               step: timedelta = timedelta(seconds=30)) -> list[str]:
    """Tick every scheduler in turn, then advance the clock, until ``until``; jobs run."""
    ran = []
    while clock.now() < until:
        for s in schedulers:
            ran += s.tick()
        clock.advance(step)
    return ran


def runs_by_job(store) -> dict[str, dict]:
    return {row["job"]: row for row in store.job_runs()}


# --- one day -----------------------------------------------------------------------------

def test_a_full_simulated_day_fires_each_action_once_with_the_game_date(sqlite_store, clock):
    recorder = Recorder(clock)
    ran = tick_until(clock, pt(DAY + timedelta(days=1), 4), scheduler(sqlite_store, clock, recorder))
    assert ran == JOB_NAMES
    assert recorder.dates() == {name: [DAY] for name in JOB_NAMES}
    assert recorder.calls["backup_start"][0][1] == pt(DAY, 6)
    assert recorder.calls["status_check"][0][1] == pt(DAY, 7)


@pytest.mark.parametrize(("first_day", "utc_hours"), [
    (date(2026, 3, 7), [14, 13, 13]),   # spring forward on 2026-03-08
    (date(2026, 10, 31), [13, 14, 14]),  # fall back on 2026-11-01
])
def test_across_a_dst_change_each_job_fires_once_a_day_at_its_local_time(
        sqlite_store, clock, first_day, utc_hours):
    clock.set(pt(first_day, 5))
    recorder = Recorder(clock)
    tick_until(clock, pt(first_day + timedelta(days=2), 8), scheduler(sqlite_store, clock, recorder),
               step=timedelta(minutes=1))
    days = [first_day + timedelta(days=n) for n in range(3)]
    assert [t for _, t in recorder.calls["backup_start"]] == [
        datetime(d.year, d.month, d.day, h, tzinfo=UTC) for d, h in zip(days, utc_hours)]
    assert recorder.dates() == {name: days for name in JOB_NAMES}


def test_job_runs_are_recorded_with_status_result_and_aware_times(sqlite_store, clock):
    recorder = Recorder(clock)
    tick_until(clock, pt(DAY, 7, 5), scheduler(sqlite_store, clock, recorder))
    row = runs_by_job(sqlite_store)["retry_1"]
    assert row["status"] == "succeeded" and row["instance_id"] == "a"
    assert row["local_day"] == DAY and row["fired_at"] == pt(DAY, 6, 15)
    assert row["finished_at"].tzinfo == UTC
    assert row["result"] == {"game_date": "2026-01-15",
                             "return": {"decision": "started", "game_date": "2026-01-15"}}
    assert sqlite_store.job_runs(since=DAY + timedelta(days=1)) == []


def test_a_return_value_that_is_not_json_is_recorded_as_its_repr(sqlite_store, clock):
    clock.set(pt(DAY, 6))
    actions = {"backup_start": lambda game_date: game_date}
    Scheduler(sqlite_store, clock, actions, instance_id="a").tick()
    assert runs_by_job(sqlite_store)["backup_start"]["result"]["return"] == {
        "repr": "datetime.date(2026, 1, 15)"}


def test_jobs_without_an_action_are_not_scheduled_and_unknown_names_are_refused(sqlite_store, clock):
    clock.set(pt(DAY, 7))
    assert Scheduler(sqlite_store, clock, {"status_check": lambda d: None},
                     instance_id="a").tick() == ["status_check"]
    with pytest.raises(ValueError, match="unknown job"):
        Scheduler(sqlite_store, clock, {"nightly": lambda d: None}, instance_id="a")


# --- restarts and missed jobs ------------------------------------------------------------

def test_a_restart_does_not_rerun_jobs_already_run_today(sqlite_store, clock):
    recorder = Recorder(clock)
    first = scheduler(sqlite_store, clock, recorder, "a")
    tick_until(clock, pt(DAY, 6, 20), first)
    first.stop()
    tick_until(clock, pt(DAY, 8), scheduler(sqlite_store, clock, recorder, "a-restarted"))
    assert recorder.dates() == {name: [DAY] for name in JOB_NAMES}
    runs = runs_by_job(sqlite_store)
    assert [runs[n]["instance_id"] for n in JOB_NAMES] == ["a", "a", "a-restarted", "a-restarted"]


def test_down_at_six_and_back_at_0645_runs_the_missed_jobs_once_on_start_up(sqlite_store, clock):
    clock.set(pt(DAY, 6, 45))
    recorder = Recorder(clock)
    sched = scheduler(sqlite_store, clock, recorder)
    assert sched.tick() == ["backup_start", "retry_1", "retry_2"]
    assert tick_until(clock, pt(DAY, 8), sched) == ["status_check"]
    assert recorder.dates() == {name: [DAY] for name in JOB_NAMES}
    assert {row["local_day"] for row in sqlite_store.job_runs()} == {DAY}


def test_back_the_next_night_runs_nothing_from_yesterday(sqlite_store, clock):
    clock.set(pt(DAY, 23, 30))
    recorder = Recorder(clock)
    sched = scheduler(sqlite_store, clock, recorder)
    assert tick_until(clock, pt(DAY + timedelta(days=1), 5), sched) == []
    assert sqlite_store.job_runs() == []


# --- failures ----------------------------------------------------------------------------

def test_a_failing_action_is_recorded_as_failed_and_the_others_still_run(sqlite_store, clock):
    clock.set(pt(DAY, 6, 45))
    recorder = Recorder(clock, failing=("backup_start",))
    sched = scheduler(sqlite_store, clock, recorder)
    assert sched.tick() == ["backup_start", "retry_1", "retry_2"]
    tick_until(clock, pt(DAY, 8), sched)
    runs = runs_by_job(sqlite_store)
    assert runs["backup_start"]["status"] == "failed"
    assert runs["backup_start"]["result"]["error"] == "RuntimeError: backup_start broke"
    assert [runs[n]["status"] for n in JOB_NAMES[1:]] == ["succeeded"] * 3
    assert len(recorder.calls["backup_start"]) == 1  # a failed job is not retried


def test_run_forever_survives_a_failing_tick_and_stops_when_told(sqlite_store, clock):
    stop = threading.Event()
    sched = scheduler(sqlite_store, clock, Recorder(clock))
    ticks = []

    def failing_tick():
        ticks.append(clock.now())
        if len(ticks) == 2:
            stop.set()
        raise ConnectionError("store down")

    sched.tick = failing_tick
    sched.run_forever(stop, interval=timedelta(0))
    assert len(ticks) == 2


# --- leadership --------------------------------------------------------------------------

def test_two_instances_ticking_alternately_run_each_job_once_by_the_lease_holder(sqlite_store, clock):
    rec_a, rec_b = Recorder(clock), Recorder(clock)
    a = scheduler(sqlite_store, clock, rec_a, "a")
    b = scheduler(sqlite_store, clock, rec_b, "b")
    clock.set(pt(DAY, 5, 30))
    tick_until(clock, pt(DAY, 10, 30), a, b)
    assert rec_a.dates() == {name: [DAY] for name in JOB_NAMES}
    assert rec_b.calls == {}
    assert a.is_leader and not b.is_leader
    assert {row["instance_id"] for row in sqlite_store.job_runs()} == {"a"}


def test_when_the_leader_stops_ticking_its_lease_expires_and_another_takes_over(sqlite_store, clock):
    rec_a, rec_b = Recorder(clock), Recorder(clock)
    a = scheduler(sqlite_store, clock, rec_a, "a")
    b = scheduler(sqlite_store, clock, rec_b, "b")
    tick_until(clock, pt(DAY, 5, 59), a, b)  # then "a" hangs: no more ticks, no release
    assert b.tick() == []
    clock.advance(timedelta(seconds=91))
    assert tick_until(clock, pt(DAY, 8), b) == JOB_NAMES
    assert a.tick() == [] and not a.is_leader
    assert rec_a.calls == {} and rec_b.dates() == {name: [DAY] for name in JOB_NAMES}


def test_stopping_releases_the_lease_so_another_instance_leads_at_once(sqlite_store, clock):
    a = scheduler(sqlite_store, clock, Recorder(clock), "a")
    b = scheduler(sqlite_store, clock, Recorder(clock), "b")
    a.tick()
    assert b.tick() == [] and not b.is_leader
    a.start(interval=timedelta(hours=1)).stop()
    b.tick()
    assert b.is_leader and sqlite_store.lease_holder("scheduler", clock.now()) == "b"


# --- the wait poll ---------------------------------------------------------------------------

def test_the_poll_runs_every_sixty_seconds_of_clock_time(sqlite_store, clock):
    polls = []
    sched = scheduler(sqlite_store, clock, Recorder(clock), poll=lambda: polls.append(clock.now()))
    start = clock.now()
    tick_until(clock, start + timedelta(minutes=10, seconds=1), sched)
    assert polls == [start + timedelta(seconds=60 * n) for n in range(11)]


def test_only_the_leader_polls_and_a_failing_poll_is_tried_again_later(sqlite_store, clock):
    polls = defaultdict(int)

    def poll_of(name):
        def poll():
            polls[name] += 1
            raise RuntimeError("stage 4 check failed")
        return poll

    a = scheduler(sqlite_store, clock, Recorder(clock), "a", poll=poll_of("a"))
    b = scheduler(sqlite_store, clock, Recorder(clock), "b", poll=poll_of("b"))
    tick_until(clock, clock.now() + timedelta(minutes=5), a, b)
    assert polls == {"a": 5}


# --- rehearsal clock -------------------------------------------------------------------------

def test_a_scaled_clock_replays_the_night_at_sixty_times_speed(sqlite_store):
    wall = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    night = ScaledClock(pt(date(2026, 3, 8), 5, 58), 60, wall)
    recorder = Recorder(night)
    sched = scheduler(sqlite_store, night, recorder)
    ran = []
    for _ in range(70):  # 70 real seconds = 70 rehearsed minutes
        ran += sched.tick()
        wall.advance(timedelta(seconds=1))
    assert ran == JOB_NAMES
    assert recorder.calls["backup_start"][0][1] == datetime(2026, 3, 8, 13, tzinfo=UTC)


# --- the store's claims and lease --------------------------------------------------------

def test_a_job_run_is_claimed_once_per_local_day(any_store, clock):
    now = clock.now()
    assert any_store.claim_job_run("backup_start", DAY, "a", now) is True
    assert any_store.claim_job_run("backup_start", DAY, "b", now) is False
    assert any_store.claim_job_run("backup_start", DAY + timedelta(days=1), "b", now) is True
    any_store.finish_job_run("backup_start", DAY, "succeeded", now, {"n": 1})
    rows = any_store.job_runs()
    assert [(r["local_day"], r["instance_id"], r["status"]) for r in rows] == [
        (DAY, "a", "succeeded"), (DAY + timedelta(days=1), "b", "running")]
    assert rows[0]["result"] == {"n": 1} and rows[0]["fired_at"].tzinfo == UTC


def test_the_lease_is_renewed_by_its_holder_and_refused_to_others_until_it_expires(any_store, clock):
    ttl, now = timedelta(seconds=90), clock.now()
    assert any_store.acquire_lease("scheduler", "a", now, ttl)
    assert not any_store.acquire_lease("scheduler", "b", now + timedelta(seconds=30), ttl)
    assert any_store.acquire_lease("scheduler", "a", now + timedelta(seconds=60), ttl)
    assert not any_store.acquire_lease("scheduler", "b", now + timedelta(seconds=120), ttl)
    assert any_store.acquire_lease("scheduler", "b", now + timedelta(seconds=151), ttl)
    assert any_store.lease_holder("scheduler", now + timedelta(seconds=151)) == "b"
    any_store.release_lease("scheduler", "a")  # not a's to release: nothing happens
    assert any_store.lease_holder("scheduler", now + timedelta(seconds=151)) == "b"
    any_store.release_lease("scheduler", "b")
    assert any_store.acquire_lease("scheduler", "a", now + timedelta(seconds=152), ttl)


def _race(n: int, attempt) -> list:
    """Run ``attempt(i)`` in ``n`` threads released together; their results."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_instances_get_exactly_one_lease_and_one_claim(any_store, clock):
    now, ttl = clock.now(), timedelta(seconds=90)
    leases = _race(6, lambda i: any_store.acquire_lease("scheduler", f"i{i}", now, ttl))
    claims = _race(6, lambda i: any_store.claim_job_run("retry_1", DAY, f"i{i}", now))
    later = now + timedelta(seconds=91)  # expired: the takeover is raced too
    takeovers = _race(6, lambda i: any_store.acquire_lease("scheduler", f"j{i}", later, ttl))
    assert (leases.count(True), claims.count(True), takeovers.count(True)) == (1, 1, 1)
