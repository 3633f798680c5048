"""The WaitStore, SwitchStore, AlertLog, JobLedger and StoreResource roles, on every adapter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

from tipoff.adapters.store.sql.store import SqliteStore

DAY = date(2026, 1, 15)


def race(count: int, attempt: Callable[[int], bool]) -> list[bool]:
    """Run ``attempt(n)`` on ``count`` threads released together; their results."""
    results: list[bool] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        barrier.wait()
        results.append(attempt(n))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_waits_for_one_date_share_one_deadline(any_store, clock):
    deadlines = [clock.now() + timedelta(hours=h) for h in (1, 2)]
    first = any_store.open_wait(DAY, "backup", clock.now(), deadlines[0])
    second = any_store.open_wait(DAY, "scheduler", clock.now(), deadlines[1])
    assert first == second == any_store.get_wait(DAY)
    assert (first["status"], first["deadline"], first["source"]) == ("waiting", deadlines[0], "backup")
    assert any_store.get_wait(DAY + timedelta(days=1)) is None


def test_open_waits_are_listed_nearest_deadline_first_until_closed(any_store, clock):
    later, sooner = DAY, DAY + timedelta(days=1)
    any_store.open_wait(later, "backup", clock.now(), clock.now() + timedelta(hours=3))
    any_store.open_wait(sooner, "backup", clock.now(), clock.now() + timedelta(hours=1))
    assert [w["game_date"] for w in any_store.open_waits()] == [sooner, later]
    assert any_store.close_wait(sooner, "resolved", clock.now(), "phase4_completed") is True
    assert [w["game_date"] for w in any_store.open_waits()] == [later]
    closed = any_store.get_wait(sooner)
    assert (closed["status"], closed["outcome"], closed["resolved_at"]) == (
        "resolved", "phase4_completed", clock.now())


def test_only_one_of_racing_closers_closes_a_wait(any_store, clock):
    any_store.open_wait(DAY, "backup", clock.now(), clock.now() + timedelta(hours=1))
    results = race(4, lambda n: any_store.close_wait(DAY, "expired", clock.now(), f"closer {n}"))
    assert sorted(results) == [False, False, False, True]
    assert any_store.close_wait(DAY, "resolved", clock.now(), "late") is False
    assert any_store.get_wait(DAY)["status"] == "expired"


def test_a_switch_reads_its_default_until_set_and_the_last_write_after(any_store, clock):
    assert any_store.switch("event_path_enabled", True) is True
    any_store.set_switch("event_path_enabled", False, clock.now())
    assert any_store.switch("event_path_enabled", True) is False
    any_store.set_switch("event_path_enabled", True, clock.now())
    assert any_store.switch("event_path_enabled") is True


def test_an_alert_is_claimed_once_and_again_only_after_a_failure(any_store, clock):
    claim = lambda: any_store.claim_alert(DAY, "no_predictions", "slack", "critical",  # noqa: E731
                                          "No predictions", clock.now())
    assert claim() is True
    assert claim() is False  # a fresh claim is held
    any_store.mark_alert(DAY, "no_predictions", "slack", "failed", clock.now(), error="timeout")
    assert claim() is True
    any_store.mark_alert(DAY, "no_predictions", "slack", "sent", clock.now())
    assert claim() is False
    [row] = any_store.alert_log(DAY)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, "timeout")
    assert row["sent_at"] == clock.now()
    assert any_store.alert_log(DAY + timedelta(days=1)) == []


def test_a_stale_alert_claim_may_be_taken_over(any_store, clock):
    args = (DAY, "late_phase4", "email", "warning", "Late")
    assert any_store.claim_alert(*args, clock.now()) is True
    assert any_store.claim_alert(*args, clock.now() + timedelta(hours=1)) is True


def test_racing_alert_claimers_have_one_winner(any_store, clock):
    results = race(4, lambda n: any_store.claim_alert(DAY, "t", "log", "info", "T", clock.now()))
    assert sorted(results) == [False, False, False, True]


def test_a_job_runs_once_per_local_day_across_instances(any_store, clock):
    results = race(4, lambda n: any_store.claim_job_run("morning", DAY, f"i{n}", clock.now()))
    assert sorted(results) == [False, False, False, True]
    assert any_store.claim_job_run("morning", DAY + timedelta(days=1), "i0", clock.now()) is True
    any_store.finish_job_run("morning", DAY, "succeeded", clock.now(), {"batches": 1})
    [first, _] = any_store.job_runs()
    assert (first["status"], first["result"], first["finished_at"]) == (
        "succeeded", {"batches": 1}, clock.now())


def test_a_lease_has_one_holder_until_released_or_expired(any_store, clock):
    ttl = timedelta(seconds=30)
    results = race(4, lambda n: any_store.acquire_lease("scheduler", f"h{n}", clock.now(), ttl))
    assert sorted(results) == [False, False, False, True]
    holder = any_store.lease_holder("scheduler", clock.now())
    assert any_store.acquire_lease("scheduler", holder, clock.now(), ttl) is True  # renewal
    other = "h9"
    assert any_store.acquire_lease("scheduler", other, clock.now(), ttl) is False
    any_store.release_lease("scheduler", other)  # not the holder: nothing happens
    assert any_store.lease_holder("scheduler", clock.now()) == holder
    any_store.release_lease("scheduler", holder)
    assert any_store.acquire_lease("scheduler", other, clock.now(), ttl) is True
    later = clock.now() + timedelta(minutes=1)
    assert any_store.acquire_lease("scheduler", holder, later, ttl) is True  # expired: taken


def test_an_open_store_answers_a_ping_and_closes_twice_safely(any_store):
    any_store.ping()
    assert any_store.open() is any_store  # opening again migrates nothing new
    any_store.close()
    any_store.close()


def test_a_store_opens_and_closes_as_a_context_manager(tmp_path, clock):
    path = tmp_path / "ctx.db"
    store = SqliteStore(f"sqlite:///{path}", clock)
    assert not path.exists()  # construction does no I/O
    with store as opened:
        assert opened is store
        opened.ping()
        assert opened.get_batch(DAY) is None
