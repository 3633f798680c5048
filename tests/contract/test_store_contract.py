"""The Store contract, run against every adapter (SQLite in memory, SQLite file, PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from tipoff.adapters.store.sql.schema import SCHEMA_VERSION
from tipoff.domain.analytics import COLUMNS
from tipoff.errors import NotFoundError, PermanentError
from tipoff.ports import RunRecord

UTC = timezone.utc
NEW_YORK_EVENING = datetime(2026, 1, 15, 19, 30, tzinfo=timezone(timedelta(hours=-5)))


def games_frame(*game_dates: date) -> pd.DataFrame:
    return pd.DataFrame([
        {"game_id": f"G{d:%m%d}", "game_date": d,
         "tipoff_utc": datetime(d.year, d.month, d.day, 0, 30, tzinfo=UTC) + timedelta(days=1),
         "season": "2025-26", "season_phase": "regular", "home_team": "BOS", "away_team": "NYK"}
        for d in game_dates
    ], columns=COLUMNS["games"])


def injury_frame(reported_at: datetime, status: str = "out") -> pd.DataFrame:
    return pd.DataFrame([{"game_date": date(2026, 1, 15), "player_lookup": "jaysontatum",
                          "status": status, "reported_at": reported_at}])


def feature_row(player: str, game_date: date, at: datetime) -> dict:
    return {
        "player_lookup": player, "game_date": game_date, "feature_version": "v1_25",
        "game_id": "G1", "player_name": player, "team": "BOS", "opponent": "NYK",
        "is_home": True, "days_rest": 1, "features": [1.5] * 25, "feature_sources": ["computed"] * 25,
        "quality_score": 100.0, "is_production_ready": True, "data_quality_issues": [],
        "early_season_flag": False, "injury_status": "available",
        "data_source_summary": {"computed": 25}, "expected_games": 10, "actual_games": 10,
        "completeness_pct": 100.0, "feature_generated_at": at, "created_at": at,
        "content_hash": "abc",
    }


def test_the_schema_version_is_recorded_on_first_use(any_store):
    assert any_store.schema_version() == SCHEMA_VERSION


def test_timestamps_round_trip_as_aware_utc(any_store):
    any_store.replace_analytics({"injury_reports": injury_frame(NEW_YORK_EVENING)})
    frame = any_store.read_analytics("injury_reports")
    stored = frame["reported_at"].iloc[0].to_pydatetime()
    assert stored == NEW_YORK_EVENING
    assert stored.utcoffset() == timedelta(0)


def test_a_naive_timestamp_is_refused(any_store):
    with pytest.raises((PermanentError, ValueError)):
        any_store.replace_analytics({"injury_reports": injury_frame(datetime(2026, 1, 15, 12))})


def test_writing_the_same_rows_twice_keeps_one_copy(any_store):
    frame = games_frame(date(2026, 1, 14), date(2026, 1, 15))
    any_store.replace_analytics({"games": frame})
    any_store.replace_analytics({"games": frame})
    assert len(any_store.read_analytics("games")) == 2


def test_an_upsert_replaces_the_row_with_the_same_key(any_store):
    any_store.replace_analytics({"injury_reports": injury_frame(NEW_YORK_EVENING, "out")})
    any_store.replace_analytics({"injury_reports": injury_frame(NEW_YORK_EVENING, "probable")})
    assert list(any_store.read_analytics("injury_reports")["status"]) == ["probable"]


def test_reading_by_date_range_excludes_the_end_date(any_store):
    any_store.replace_analytics({"games": games_frame(date(2026, 1, 14), date(2026, 1, 15))})
    frame = any_store.read_analytics("games", start=date(2026, 1, 14), end=date(2026, 1, 15))
    assert list(frame["game_date"]) == [date(2026, 1, 14)]
    assert any_store.game_dates() == [date(2026, 1, 14), date(2026, 1, 15)]


def test_analytics_reads_narrow_to_some_players_and_columns(any_store):
    logs = pd.DataFrame([{**dict.fromkeys(COLUMNS["player_game_logs"], 1), "game_id": "G1",
                          "game_date": date(2026, 1, 14), "player_lookup": player,
                          "player_name": player, "team": "BOS", "opponent": "NYK",
                          "is_home": True, "started": True, "minutes": 30.0, "points": points}
                         for player, points in (("a", 10), ("b", 20), ("c", 30))])
    any_store.replace_analytics({"player_game_logs": logs})
    frame = any_store.read_analytics("player_game_logs", players=["c", "a", "zz"],
                                     columns=("player_lookup", "points", "is_home"))
    assert list(frame.columns) == ["player_lookup", "points", "is_home"]
    assert sorted(zip(frame["player_lookup"], frame["points"])) == [("a", 10), ("c", 30)]
    assert any_store.read_analytics("player_game_logs", players=[]).empty
    with pytest.raises(NotFoundError):
        any_store.read_analytics("player_game_logs", columns=("salary",))
    with pytest.raises(NotFoundError):
        any_store.read_analytics("games", players=["a"])


def test_replacing_a_date_range_drops_rows_no_longer_present(any_store):
    any_store.replace_analytics({"games": games_frame(date(2026, 1, 14), date(2026, 1, 15))})
    any_store.replace_analytics({"games": games_frame(date(2026, 1, 15))},
                                dates=(date(2026, 1, 14), date(2026, 1, 15)))
    assert any_store.game_dates() == [date(2026, 1, 15)]


def test_a_failed_multi_table_write_leaves_nothing_behind(any_store):
    bad = injury_frame(datetime(2026, 1, 15, 12))  # naive: refused mid-transaction
    with pytest.raises((PermanentError, ValueError)):
        any_store.replace_analytics({"games": games_frame(date(2026, 1, 15)), "injury_reports": bad})
    assert any_store.read_analytics("games").empty


def test_an_unknown_table_is_a_clear_error(any_store):
    with pytest.raises(NotFoundError, match="unknown analytics table"):
        any_store.read_analytics("boxscores")


def test_replacing_features_swaps_the_whole_date(any_store, clock):
    day = date(2026, 1, 15)
    any_store.replace_features(day, "v1_25", [feature_row("a", day, clock.now()),
                                              feature_row("b", day, clock.now())])
    any_store.replace_features(day, "v1_25", [feature_row("c", day, clock.now())])
    rows = any_store.read_features(day, "v1_25")
    assert [r["player_lookup"] for r in rows] == ["c"]
    assert rows[0]["features"] == [1.5] * 25
    assert rows[0]["created_at"] == clock.now()


def test_features_of_other_dates_are_untouched_by_a_replace(any_store, clock):
    day, other = date(2026, 1, 15), date(2026, 1, 16)
    any_store.replace_features(other, "v1_25", [feature_row("a", other, clock.now())])
    any_store.replace_features(day, "v1_25", [])
    assert len(any_store.read_features(other, "v1_25")) == 1


def test_a_run_is_updated_in_place_by_run_id(any_store, clock):
    started = clock.now()
    run = RunRecord(run_id="r1", processor="p", status="running", started_at=started,
                    game_date=date(2026, 1, 15), counts={"players_processed": 3})
    any_store.record_run(run)
    finished = started + timedelta(seconds=2)
    any_store.record_run(RunRecord(**{**run.__dict__, "status": "success", "finished_at": finished}))
    [stored] = any_store.runs(processor="p")
    assert stored.status == "success"
    assert stored.duration == timedelta(seconds=2)
    assert stored.counts == {"players_processed": 3}
    assert stored.started_at.tzinfo is not None


def prediction(pid: str, line: float, at: datetime, system: str = "xgboost_v1") -> dict:
    return {
        "prediction_id": pid, "system_id": system, "player_lookup": "a", "game_id": "G1",
        "game_date": date(2026, 1, 15), "predicted_points": 20.0, "confidence_score": 70.0,
        "recommendation": "PASS", "line": line, "line_source": "sportsbook",
        "bookmaker": "fanduel", "line_margin": 20.0 - line, "components": {"x": 1.0},
        "feature_quality": 95.0, "batch_id": "b1", "model_version": "m1", "is_active": True,
        "superseded_by": None, "created_at": at,
    }


def test_a_re_prediction_supersedes_the_old_active_row(any_store, clock):
    day = date(2026, 1, 15)
    any_store.write_predictions(day, [prediction("old", 20.5, clock.now()),
                                      prediction("other", 20.5, clock.now(), "ensemble_v1")])
    any_store.write_predictions(day, [prediction("new", 21.5, clock.now())])
    rows = {r["prediction_id"]: r for r in any_store.read_predictions(day, active_only=False)}
    assert (rows["old"]["is_active"], rows["old"]["superseded_by"]) == (False, "new")
    assert rows["new"]["is_active"] and rows["other"]["is_active"]


def test_rewriting_the_same_prediction_keeps_one_active_row(any_store, clock):
    day = date(2026, 1, 15)
    for _ in range(3):
        any_store.write_predictions(day, [prediction("same", 20.5, clock.now())])
    rows = any_store.read_predictions(day, active_only=False)
    assert [(r["prediction_id"], r["is_active"]) for r in rows] == [("same", True)]


def test_concurrent_claims_for_one_date_have_one_winner(any_store, clock):
    import threading

    from tipoff.domain.batches import Batch

    results, barrier = [], threading.Barrier(6)

    def claim(n: int) -> None:
        barrier.wait()
        results.append(any_store.claim_batch(Batch(f"b{n}", date(2026, 1, 15), "running",
                                                   "manual", clock.now(), 10, 9)))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(claimed for _, claimed in results) == 1
    assert len({batch.batch_id for batch, _ in results}) == 1


def test_concurrent_re_predictions_of_one_player_leave_one_active_row(any_store, clock):
    import threading

    day, barrier = date(2026, 1, 15), threading.Barrier(4)

    def write(n: int) -> None:
        barrier.wait()
        any_store.write_predictions(day, [prediction(f"p{n}", 20.5 + n, clock.now())])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = any_store.read_predictions(day, active_only=False)
    assert len(rows) == 4
    assert sum(r["is_active"] for r in rows) == 1


def test_only_one_caller_finishes_a_running_batch(any_store, clock):
    from tipoff.domain.batches import Batch

    any_store.claim_batch(Batch("b1", date(2026, 1, 15), "running", "manual", clock.now(), 10, 9))
    assert any_store.finish_batch("b1", "complete", clock.now()) is True
    assert any_store.finish_batch("b1", "partial", clock.now()) is False
    assert any_store.get_batch(date(2026, 1, 15)).state == "complete"
