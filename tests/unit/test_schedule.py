"""The night's timetable: fire times across DST, the listing, and which jobs are due."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from tipoff.domain.schedule import (
    BACKUP_START,
    JOBS,
    RETRY_1,
    RETRY_2,
    STATUS_CHECK,
    Job,
    due_jobs,
    fire_time,
    job_named,
    schedule_listing,
    upcoming,
)
from tipoff.testing import FakeClock

UTC = timezone.utc
PACIFIC = ZoneInfo("America/Los_Angeles")


def pt(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PACIFIC).astimezone(UTC)


def utc_hours(firings, job: Job) -> dict[date, int]:
    return {f.local_day: f.utc_time.hour for f in firings if f.job == job}


# --- fire times ------------------------------------------------------------------------------

def test_the_four_jobs_keep_their_names_and_pacific_times():
    assert [(j.name, j.local_time) for j in JOBS] == [
        ("backup_start", "06:00"), ("retry_1", "06:15"), ("retry_2", "06:30"),
        ("status_check", "07:00")]


def test_spring_forward_moves_the_0600_job_from_1400_to_1300_utc():
    firings = upcoming(date(2026, 3, 7), 3)
    assert utc_hours(firings, BACKUP_START) == {
        date(2026, 3, 7): 14, date(2026, 3, 8): 13, date(2026, 3, 9): 13}
    assert utc_hours(firings, STATUS_CHECK) == {
        date(2026, 3, 7): 15, date(2026, 3, 8): 14, date(2026, 3, 9): 14}


def test_fall_back_moves_the_0600_job_from_1300_back_to_1400_utc():
    firings = upcoming(date(2026, 10, 31), 3)
    assert utc_hours(firings, BACKUP_START) == {
        date(2026, 10, 31): 13, date(2026, 11, 1): 14, date(2026, 11, 2): 14}


def test_every_firing_is_at_its_pacific_wall_clock_time():
    for firing in upcoming(date(2026, 3, 6), 5) + upcoming(date(2026, 10, 30), 5):
        local = firing.utc_time.astimezone(PACIFIC)
        assert (local.hour, local.minute) == (firing.job.hour, firing.job.minute)
        assert firing.local_time == local and firing.utc_time.tzinfo == UTC


def test_fire_times_agree_with_apscheduler_cron_all_year():
    for job in JOBS:
        trigger = CronTrigger(hour=job.hour, minute=job.minute, timezone=PACIFIC)
        previous = None
        after = datetime(2025, 12, 31, 12, tzinfo=PACIFIC)
        for n in range(365):
            day = date(2026, 1, 1) + timedelta(days=n)
            expected = trigger.get_next_fire_time(previous, after)
            assert fire_time(job, day) == expected.astimezone(UTC), (job.name, day)
            previous, after = expected, expected + timedelta(seconds=1)


def test_a_time_in_the_spring_forward_gap_fires_once_just_after_the_gap():
    night_job = Job("night", 2, 30)
    assert fire_time(night_job, date(2026, 3, 8)) == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    assert fire_time(night_job, date(2026, 3, 8)).astimezone(PACIFIC).hour == 3


def test_a_repeated_time_on_fall_back_fires_at_its_first_occurrence():
    night_job = Job("night", 1, 30)
    assert fire_time(night_job, date(2026, 11, 1)) == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def test_a_job_acts_on_the_eastern_game_date_of_its_fire_time():
    for firing in upcoming(date(2026, 3, 7), 3):
        assert firing.game_date == firing.local_day  # 06:00–07:00 PT is 09:00–10:00 ET


def test_the_listing_is_the_json_objects_of_tipoff_schedule():
    listing = schedule_listing(date(2026, 3, 8), 1)
    assert listing[0] == {"job": "backup_start", "local_time": "2026-03-08T06:00:00-07:00",
                          "utc_time": "2026-03-08T13:00:00+00:00"}
    assert [row["job"] for row in listing] == [j.name for j in JOBS]
    assert schedule_listing(date(2026, 11, 1), 1)[0]["utc_time"] == "2026-11-01T14:00:00+00:00"


def test_upcoming_is_in_time_order_and_counts_days():
    firings = upcoming(date(2026, 1, 1), 7)
    assert len(firings) == 7 * len(JOBS)
    assert [f.utc_time for f in firings] == sorted(f.utc_time for f in firings)
    assert upcoming(date(2026, 1, 1), 0) == []
    with pytest.raises(ValueError):
        upcoming(date(2026, 1, 1), -1)


def test_jobs_are_found_by_name_and_bad_jobs_are_refused():
    assert job_named("retry_2") is RETRY_2
    with pytest.raises(ValueError, match="known: backup_start"):
        job_named("nightly")
    with pytest.raises(ValueError):
        Job("bad", 24, 0)


# --- due jobs --------------------------------------------------------------------------------

@pytest.mark.parametrize("start", [date(2026, 3, 7), date(2026, 10, 31), date(2026, 1, 14)])
def test_ticking_every_minute_fires_each_job_once_per_local_day_at_its_time(start):
    jobs = JOBS + (Job("night_gap", 2, 30), Job("night_repeat", 1, 30))
    clock = FakeClock(pt(start, 0))
    fired: Counter = Counter()
    last_seen = None
    while clock.now() < pt(start + timedelta(days=3), 0):
        for job, day in due_jobs(clock.now(), last_seen, jobs=jobs):
            assert clock.now() == fire_time(job, day)  # fires in the minute it is due
            fired[(job.name, day)] += 1
        last_seen = clock.now()
        clock.advance(timedelta(minutes=1))
    expected = {(j.name, start + timedelta(days=n)) for j in jobs for n in range(3)}
    assert set(fired) == expected and set(fired.values()) == {1}


def test_back_at_0645_the_0600_job_and_both_retries_run_once_on_start_up():
    day = date(2026, 1, 15)
    due = due_jobs(pt(day, 6, 45), last_seen=None)
    assert due == [(BACKUP_START, day), (RETRY_1, day), (RETRY_2, day)]
    assert due_jobs(pt(day, 6, 46), last_seen=pt(day, 6, 45)) == []


def test_a_job_past_its_grace_does_not_run_on_start_up():
    day = date(2026, 1, 15)
    assert due_jobs(pt(day, 9, 30), last_seen=None)[0] == (RETRY_2, day)  # exactly 3 h: still due
    assert due_jobs(pt(day, 9, 31), last_seen=None) == [(STATUS_CHECK, day)]
    assert due_jobs(pt(day, 10, 1), last_seen=None) == []


def test_a_job_from_a_past_local_day_never_runs_whatever_the_grace():
    day = date(2026, 1, 16)
    assert due_jobs(pt(day, 0, 30), last_seen=None, grace=timedelta(days=2)) == []
    assert due_jobs(pt(day, 5, 59), last_seen=pt(day, 5, 0) - timedelta(days=1),
                    grace=timedelta(days=2)) == []


def test_nothing_is_due_before_six_and_the_status_check_waits_for_seven():
    day = date(2026, 1, 15)
    assert due_jobs(pt(day, 5, 59), last_seen=None) == []
    assert [j.name for j, _ in due_jobs(pt(day, 6, 59), last_seen=None)] == [
        "backup_start", "retry_1", "retry_2"]


def test_due_jobs_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="naive"):
        due_jobs(datetime(2026, 1, 15, 14, 0), last_seen=None)
