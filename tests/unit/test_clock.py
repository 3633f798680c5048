"""FakeClock, ScaledClock and SystemClock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tipoff.adapters.clock import ScaledClock, SystemClock
from tipoff.testing import FakeClock

START = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)


def test_fake_clock_starts_where_it_is_told_in_utc():
    clock = FakeClock(datetime(2026, 3, 8, 1, 0, tzinfo=ZoneInfo("America/Los_Angeles")))
    assert clock.now() == START
    assert clock.now().tzinfo == timezone.utc


def test_fake_clock_stands_still_until_advanced():
    clock = FakeClock(START)
    assert clock.now() == clock.now() == START
    assert clock.advance(timedelta(minutes=15)) == START + timedelta(minutes=15)
    assert clock.now() == START + timedelta(minutes=15)


def test_fake_clock_set_jumps_forward():
    clock = FakeClock(START)
    clock.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)


def test_fake_clock_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        FakeClock(datetime(2026, 3, 8, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        FakeClock(START).set(datetime(2026, 3, 9, 9, 0))


def test_fake_clock_refuses_to_go_backwards():
    clock = FakeClock(START)
    with pytest.raises(ValueError):
        clock.set(START - timedelta(seconds=1))
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START


def test_scaled_clock_starts_at_its_start_and_runs_speed_times_the_base():
    base = FakeClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    clock = ScaledClock(START, 60, base)
    assert clock.now() == START
    base.advance(timedelta(seconds=30))
    assert clock.now() == START + timedelta(minutes=30)
    assert clock.now().tzinfo == timezone.utc


def test_scaled_clock_can_run_slower_than_the_base():
    base = FakeClock(START)
    clock = ScaledClock(START, 0.5, base)
    base.advance(timedelta(minutes=10))
    assert clock.now() == START + timedelta(minutes=5)


@pytest.mark.parametrize("speed", [0, -1])
def test_scaled_clock_refuses_a_speed_that_is_not_positive(speed):
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(START, speed, FakeClock(START))


def test_scaled_clock_refuses_a_naive_start():
    with pytest.raises(ValueError, match="naive"):
        ScaledClock(datetime(2026, 3, 8), 1, FakeClock(START))


def test_system_clock_is_timezone_aware_utc_and_moves_forward():
    clock = SystemClock()
    first, second = clock.now(), clock.now()
    assert first.utcoffset() == timedelta(0)
    assert second >= first
