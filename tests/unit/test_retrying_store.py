"""Transient store failures are retried with capped, jittered backoff; others are not."""

from datetime import timedelta

import pytest

from tipoff.adapters.store.sql.retry import RetryPolicy, retried
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.errors import PermanentError, TransientError
from tipoff.ports import Store


class Flaky:
    def __init__(self, failures: int, error=TransientError, **policy) -> None:
        self.failures, self.error, self.calls = failures, error, 0
        self.slept: list[float] = []
        self.retry_policy = RetryPolicy(sleep=self.slept.append, **policy)

    @retried
    def get_batch(self, game_date):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("server restarting")
        return f"batch of {game_date}"


def test_a_transient_failure_is_retried_until_it_succeeds():
    store = Flaky(3)
    assert store.get_batch("2026-01-15") == "batch of 2026-01-15"
    assert len(store.slept) == 3


def test_retries_stop_after_the_last_attempt_and_raise():
    flaky = Flaky(10, attempts=4)
    with pytest.raises(TransientError):
        flaky.get_batch("d")
    assert flaky.calls == 4


def test_a_permanent_failure_is_not_retried():
    flaky = Flaky(1, PermanentError)
    with pytest.raises(PermanentError):
        flaky.get_batch("d")
    assert flaky.calls == 1


def test_backoff_grows_exponentially_under_the_cap():
    policy = RetryPolicy()
    for attempt in range(1, 10):
        assert 0 <= policy.backoff(attempt) <= min(5.0, 0.1 * 2 ** (attempt - 1))


def test_the_backoff_is_configured_at_construction_of_the_store(clock):
    policy = RetryPolicy(attempts=3, base=timedelta(milliseconds=10), cap=timedelta(seconds=1))
    store = SqliteStore("sqlite://", clock, retry=policy)
    assert store.retry_policy is policy
    for attempt in range(1, 10):
        assert 0 <= store.retry_policy.backoff(attempt) <= min(1.0, 0.01 * 2 ** (attempt - 1))


def test_every_operation_of_the_store_port_runs_through_the_retry_policy(clock):
    lifecycle = {"open", "close"}  # open retries its migration itself; close does no I/O
    operations = {name for name in dir(Store) if not name.startswith("_")} - lifecycle
    # These read a one-shot iterable of players first, then run a retried private operation.
    delegating = {"add_requests": "_add_requests", "read_feature_rows": "_read_feature_rows"}
    store = SqliteStore("sqlite://", clock)
    retried_names = [delegating.get(name, name) for name in operations]
    unretried = sorted(name for name in retried_names
                       if not hasattr(getattr(store, name), "__wrapped__"))
    assert unretried == []


def test_constructing_a_store_does_no_io_until_it_is_opened(tmp_path, clock):
    path = tmp_path / "lazy.db"
    store = SqliteStore(f"sqlite:///{path}", clock)
    assert not path.exists()
    with store:
        assert path.exists()
