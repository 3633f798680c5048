"""Transient store failures are retried with capped, jittered backoff; others are not."""

import pytest

from tipoff.adapters.store.retrying import RetryingStore
from tipoff.errors import PermanentError, TransientError


class Flaky:
    def __init__(self, failures: int, error=TransientError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def get_batch(self, game_date):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("server restarting")
        return f"batch of {game_date}"


def test_a_transient_failure_is_retried_until_it_succeeds():
    slept = []
    store = RetryingStore(Flaky(3), sleep=slept.append)
    assert store.get_batch("2026-01-15") == "batch of 2026-01-15"
    assert len(slept) == 3


def test_retries_stop_after_the_last_attempt_and_raise():
    flaky = Flaky(10)
    with pytest.raises(TransientError):
        RetryingStore(flaky, attempts=4, sleep=lambda s: None).get_batch("d")
    assert flaky.calls == 4


def test_a_permanent_failure_is_not_retried():
    flaky = Flaky(1, PermanentError)
    with pytest.raises(PermanentError):
        RetryingStore(flaky, sleep=lambda s: None).get_batch("d")
    assert flaky.calls == 1


def test_backoff_grows_exponentially_under_the_cap():
    store = RetryingStore(Flaky(0))
    for attempt in range(1, 10):
        assert 0 <= store.backoff(attempt) <= min(5.0, 0.1 * 2 ** (attempt - 1))
