"""The per-system circuit breaker, driven by explicit times."""

from datetime import datetime, timedelta, timezone

import pytest

from tipoff.domain.systems import BreakerState, allow, record_failure, record_success

T0 = datetime(2026, 3, 8, 8, 0, tzinfo=timezone.utc)


def failed(times, state=None, start=T0):
    state = state or BreakerState("xgboost_v1")
    for n in range(times):
        state = record_failure(state, start + timedelta(seconds=n))
    return state


def test_a_closed_breaker_allows_calls():
    allowed, state = allow(BreakerState("xgboost_v1"), T0)
    assert allowed and state.state == "closed"


def test_four_consecutive_failures_keep_it_closed():
    state = failed(4)
    assert state.state == "closed" and state.consecutive_failures == 4


def test_a_success_resets_the_failure_count():
    state = record_success(failed(4), T0 + timedelta(seconds=10))
    assert failed(4, state).state == "closed"


def test_five_consecutive_failures_open_it_at_the_fifth():
    state = failed(5)
    assert state.state == "open"
    assert state.opened_at == T0 + timedelta(seconds=4)
    allowed, _ = allow(state, T0 + timedelta(minutes=10))
    assert not allowed


def test_it_stays_open_until_thirty_minutes_have_passed_then_half_opens():
    state = failed(5)
    opened = state.opened_at
    allowed, still = allow(state, opened + timedelta(minutes=29, seconds=59))
    assert not allowed and still.state == "open"
    allowed, half = allow(state, opened + timedelta(minutes=30))
    assert allowed and half.state == "half_open"


def test_two_successes_while_half_open_close_it():
    _, half = allow(failed(5), T0 + timedelta(hours=1))
    one = record_success(half, T0 + timedelta(hours=1, seconds=1))
    assert one.state == "half_open" and one.consecutive_successes == 1
    two = record_success(one, T0 + timedelta(hours=1, seconds=2))
    assert two.state == "closed"
    assert (two.consecutive_failures, two.consecutive_successes, two.opened_at) == (0, 0, None)


def test_a_failure_while_half_open_reopens_it_for_another_thirty_minutes():
    _, half = allow(failed(5), T0 + timedelta(hours=1))
    one = record_success(half, T0 + timedelta(hours=1, seconds=1))
    reopened = record_failure(one, T0 + timedelta(hours=1, seconds=2))
    assert reopened.state == "open"
    assert reopened.opened_at == T0 + timedelta(hours=1, seconds=2)
    assert reopened.consecutive_successes == 0
    allowed, _ = allow(reopened, T0 + timedelta(hours=1, minutes=20))
    assert not allowed


def test_a_late_failure_while_open_does_not_extend_the_open_period():
    state = failed(5)
    later = record_failure(state, T0 + timedelta(minutes=5))
    assert later.opened_at == state.opened_at
    allowed, _ = allow(later, state.opened_at + timedelta(minutes=30))
    assert allowed


def test_results_after_the_open_period_count_as_half_open():
    state = failed(5)
    after = state.opened_at + timedelta(minutes=31)
    assert record_success(state, after).state == "half_open"
    assert record_failure(state, after).opened_at == after


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        allow(BreakerState("xgboost_v1"), datetime(2026, 3, 8, 8, 0))


def test_an_open_breaker_must_know_when_it_opened():
    with pytest.raises(ValueError, match="opened_at"):
        BreakerState("xgboost_v1", state="open")
