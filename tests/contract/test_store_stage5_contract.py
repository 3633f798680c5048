"""The BatchStore, PredictionStore, FeatureStore and BreakerStore roles, on every store adapter."""

from __future__ import annotations

from datetime import date, timedelta

from tests.contract.test_store_contract import feature_row, prediction
from tipoff.domain.batches import Batch, Progress

DAY = date(2026, 1, 15)


def running_batch(clock, batch_id: str = "b1") -> Batch:
    return Batch(batch_id, DAY, "running", "manual", clock.now(), 3, 9)


def report(player: str, outcome: str, at, batch_id: str = "b1") -> dict:
    return {"batch_id": batch_id, "player_lookup": player, "outcome": outcome,
            "reason": None if outcome == "predicted" else "no line", "systems_succeeded": 5,
            "systems_failed": 0, "rows_written": 5, "worker_id": "w1", "reported_at": at}


def test_requests_start_pending_and_are_counted_in_the_store(any_store, clock):
    any_store.claim_batch(running_batch(clock))
    players = (p for p in ["a", "b", "c"])  # a one-shot iterator is read once
    assert any_store.add_requests("b1", DAY, players, clock.now()) == 3
    assert any_store.batch_progress("b1") == Progress(3, 0, 0, 0)
    rows = any_store.batch_requests("b1")
    assert [(r["player_lookup"], r["outcome"], r["attempt"]) for r in rows] == [
        ("a", None, 1), ("b", None, 1), ("c", None, 1)]


def test_recorded_results_return_the_progress_after_them(any_store, clock):
    any_store.claim_batch(running_batch(clock))
    any_store.add_requests("b1", DAY, ["a", "b", "c"], clock.now())
    progress = any_store.record_results([report("a", "predicted", clock.now()),
                                         report("b", "skipped", clock.now())])
    assert progress == {"b1": Progress(3, 1, 1, 0)}
    assert any_store.batch_progress("b1") == Progress(3, 1, 1, 0)


def test_a_redelivered_result_rewrites_the_same_values(any_store, clock):
    any_store.claim_batch(running_batch(clock))
    any_store.add_requests("b1", DAY, ["a"], clock.now())
    for _ in range(2):
        progress = any_store.record_results([report("a", "failed", clock.now())])
    assert progress == {"b1": Progress(1, 0, 0, 1)}
    [row] = any_store.batch_requests("b1")
    assert (row["outcome"], row["reason"], row["worker_id"]) == ("failed", "no line", "w1")
    assert row["reported_at"] == clock.now()


def test_re_adding_a_player_makes_its_request_pending_again(any_store, clock):
    any_store.claim_batch(running_batch(clock))
    any_store.add_requests("b1", DAY, ["a"], clock.now())
    any_store.record_results([report("a", "failed", clock.now())])
    later = clock.now() + timedelta(minutes=5)
    any_store.add_requests("b1", DAY, ["a"], later, attempt=2)
    [row] = any_store.batch_requests("b1")
    assert (row["outcome"], row["attempt"], row["requested_at"]) == (None, 2, later)
    assert any_store.batch_progress("b1") == Progress(1, 0, 0, 0)


def test_an_updated_batch_keeps_its_new_fields(any_store, clock):
    any_store.claim_batch(running_batch(clock))
    any_store.update_batch("b1", players_ready=7, correlation_id="c1")
    stored = any_store.get_batch(DAY)
    assert (stored.players_ready, stored.correlation_id, stored.state) == (7, "c1", "running")


def test_feature_rows_are_read_for_the_asked_players_only(any_store, clock):
    any_store.replace_features(DAY, "v1_25", [feature_row(p, DAY, clock.now()) for p in "abc"])
    rows = any_store.read_feature_rows(DAY, iter(["a", "c", "zz"]), "v1_25")
    assert sorted(rows) == ["a", "c"]
    assert rows["a"]["features"] == [1.5] * 25
    assert any_store.read_feature_rows(DAY, ["a"], "v2") == {}


def test_feature_rows_read_by_player_match_the_night_read_column_for_column(any_store, clock):
    any_store.replace_features(DAY, "v1_25", [feature_row(p, DAY, clock.now()) for p in "abc"])
    night = any_store.read_features(DAY, "v1_25")
    by_player = any_store.read_feature_rows(DAY, ["a", "b", "c"], "v1_25")
    assert [r["player_lookup"] for r in night] == ["a", "b", "c"]
    for row in night:
        assert {k: by_player[row["player_lookup"]][k] for k in row} == row


def test_active_predictions_are_counted_per_system_and_player(any_store, clock):
    any_store.write_predictions(DAY, [prediction("p1", 20.5, clock.now()),
                                      prediction("p2", 20.5, clock.now(), "ensemble_v1")])
    any_store.write_predictions(DAY, [prediction("p3", 21.5, clock.now())])  # supersedes p1
    assert any_store.count_predictions(DAY) == {"xgboost_v1": 1, "ensemble_v1": 1}
    assert any_store.players_with_predictions(DAY) == {"a"}
    assert any_store.count_predictions(DAY + timedelta(days=1)) == {}
    assert any_store.players_with_predictions(DAY + timedelta(days=1)) == set()


def test_duplicate_predictions_count_active_rows_beyond_one_per_player_system_and_line(
        any_store, clock):
    any_store.write_predictions(DAY, [prediction("p1", 20.5, clock.now())])
    assert any_store.duplicate_predictions(DAY) == 0
    # One write holding two ids for the same (player, system, line) leaves both active.
    any_store.write_predictions(DAY, [prediction("p2", 20.5, clock.now()),
                                      prediction("p3", 20.5, clock.now()),
                                      prediction("p4", 21.5, clock.now())])
    assert any_store.duplicate_predictions(DAY) == 1
    assert any_store.duplicate_predictions(DAY + timedelta(days=1)) == 0


def test_a_saved_breaker_is_loaded_by_every_worker_and_upserted_in_place(any_store, clock):
    row = {"system_id": "xgboost_v1", "state": "open", "consecutive_failures": 3,
           "consecutive_successes": 0, "opened_at": clock.now(), "updated_at": clock.now()}
    any_store.save_breaker(row)
    any_store.save_breaker({**row, "state": "closed", "consecutive_failures": 0})
    breakers = any_store.load_breakers()
    assert list(breakers) == ["xgboost_v1"]
    stored = breakers["xgboost_v1"]
    assert (stored["state"], stored["consecutive_failures"]) == ("closed", 0)
    assert stored["opened_at"] == clock.now()
