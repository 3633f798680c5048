"""The backtest: replayed nights scored per system, on a small synthetic league."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from tests.unit.synthetic_league import league_store
from tipoff.adapters.model_files import load_model_file
from tipoff.bootstrap import model_file
from tipoff.domain.messages import Line
from tipoff.domain.systems import (
    ENSEMBLE, MOVING_AVERAGE, OVER, PASS, SYSTEM_IDS, UNDER, Prediction,
)
from tipoff.errors import InputError
from tipoff.pipeline.backtest import NAIVE_BLEND, PlayerNight, run_backtest, score, summarise
from tipoff.pipeline.replay import Snapshot

FIRST, LAST = date(2025, 11, 21), date(2025, 11, 23)
TRAIN_NIGHTS = 10


@pytest.fixture(scope="module")
def league(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest")
    with league_store(folder, date(2025, 11, 25)) as (store, clock):
        yield store, clock, folder / "model.json"


@pytest.fixture(scope="module")
def report(league):
    store, clock, model_path = league
    seen = []
    models, name = model_file(model_path)
    result = run_backtest(store, FIRST, LAST, clock, models=models, model_name=name,
                          max_nights=TRAIN_NIGHTS, progress=lambda n, t, label: seen.append(label))
    return result, seen


def test_every_system_and_the_naive_blend_report_rows_and_mae(report):
    result, _ = report
    assert (result["nights"], result["nights_without_results"]) == (3, 0)
    assert set(result["systems"]) == {*SYSTEM_IDS, "minutes_role_v1", "market_residual_v1",
                                      NAIVE_BLEND}
    for figures in result["systems"].values():
        if figures["rows"] == 0:  # the market system predicts only against sportsbook lines
            continue
        assert 0 < figures["rows"] <= result["players_evaluated"]
        assert 0 < figures["mae"] <= figures["rmse"] < 20
        assert 0 <= figures["within_3_pct"] <= figures["within_5_pct"] <= 100


def test_progress_is_reported_for_every_replayed_night(report):
    _, seen = report
    assert [label for label in seen if label.startswith("backtest")] == [
        "backtest 2025-11-21", "backtest 2025-11-22", "backtest 2025-11-23"]


def test_training_reports_its_steps_before_the_replayed_nights(report):
    _, seen = report
    training = seen[:seen.index("backtest 2025-11-21")]
    assert training[:2] == ["reading the analytics tables",
                            f"stage 4 rows and role inputs of {TRAIN_NIGHTS} nights"]
    assert training[2].startswith("fitting XGBoost on ")
    assert training[3].startswith("ensemble weights and calibration on the held-out nights")
    assert training[4].startswith("boosting again on all ")
    assert training[-1].startswith("trained on ")


def test_ready_players_who_did_not_play_are_counted_but_not_scored(report):
    result, _ = report
    assert result["players_evaluated"] + result["players_not_played"] == result["ready_players"]
    assert result["systems"][NAIVE_BLEND]["rows"] == result["players_evaluated"]


def test_the_ensemble_is_compared_with_the_blend_on_the_same_rows(report):
    result, _ = report
    versus = result["ensemble_vs_blend"]
    assert versus["rows"] == result["systems"][ENSEMBLE]["rows"]
    assert versus["improvement"] == pytest.approx(versus["blend_mae"] - versus["ensemble_mae"],
                                                  abs=2e-3)


def test_the_model_is_trained_only_on_nights_before_the_first_replayed_night(league, report):
    result, _ = report
    _, _, model_path = league
    assert result["train_through"] == "2025-11-20"
    assert load_model_file(model_path).trained_through < FIRST


def test_a_replayed_night_sees_none_of_its_own_or_later_results(league):
    store, clock, _ = league
    full = Snapshot.load(store, LAST)
    cut = replace(full, logs=full.logs[full.logs["game_date"] < FIRST],
                  team_stats=full.team_stats[full.team_stats["game_date"] < FIRST])
    assert _features(full, clock) == _features(cut, clock)


def _features(snapshot: Snapshot, clock) -> dict:
    return {r["player_lookup"]: (r["features"], r["is_production_ready"])
            for r in snapshot.feature_rows(FIRST, clock.now())}


def test_the_model_carries_a_monotone_calibration_of_the_ensemble(league, report):
    _, _, model_path = league
    calibration = load_model_file(model_path).calibration
    assert calibration["lines"] in ("sportsbook", "estimate")
    assert calibration["p_over"] == sorted(calibration["p_over"])
    assert calibration["rows"] >= 200


def test_calibration_uses_sportsbook_lines_when_the_held_out_nights_have_enough():
    import numpy as np

    from tests.unit.feature_vectors import features
    from tipoff.pipeline.train import COMPONENTS, Example, _calibration

    rng = np.random.default_rng(2)
    points = rng.uniform(5, 30, (600, len(COMPONENTS)))
    rows = [Example(FIRST, f"p{i}", features(points_avg_last_10=15.0), 1,
                    float(rng.integers(0, 40)), inputs=[]) for i in range(600)]
    weights = {sid: 1 / len(COMPONENTS) for sid in COMPONENTS}
    book = np.full(600, np.nan)
    assert _calibration(points, weights, rows, book)["lines"] == "estimate"
    book[:] = 17.5
    assert _calibration(points, weights, rows, book)["lines"] == "sportsbook"


def test_a_model_already_trained_through_the_same_date_is_reused(league, report):
    store, clock, model_path = league
    models, name = model_file(model_path)
    again = run_backtest(store, FIRST, FIRST, clock, models=models, model_name=name,
                         max_nights=TRAIN_NIGHTS)
    assert again["model_reused"] is True
    assert again["model_version"] == report[0]["model_version"]


def test_a_range_without_games_is_an_input_error(league):
    store, clock, _ = league
    with pytest.raises(InputError, match="no games"):
        run_backtest(store, date(2025, 7, 1), date(2025, 7, 31), clock)


def test_a_range_whose_games_have_no_results_yet_is_an_input_error(league):
    store, clock, _ = league
    with pytest.raises(InputError, match="no box scores"):
        run_backtest(store, date(2025, 12, 1), date(2025, 12, 5), clock)


def test_training_through_a_replayed_night_is_refused_as_leakage(league):
    store, clock, _ = league
    with pytest.raises(InputError, match="before the first backtest night"):
        run_backtest(store, FIRST, LAST, clock, train_through=FIRST)


def test_scores_match_a_hand_computation():
    # errors 2, 5, 0, 4
    figures = score([(10, 12), (20, 15), (7, 7), (30, 26)])
    assert figures["rows"] == 4
    assert figures["mae"] == pytest.approx(11 / 4)
    assert figures["rmse"] == pytest.approx(math.sqrt((4 + 25 + 0 + 16) / 4), abs=1e-3)
    assert figures["within_3_pct"] == 50.0
    assert figures["within_5_pct"] == 100.0  # exactly 5 points off counts as within 5


def test_no_rows_score_as_none_rather_than_zero():
    assert score([]) == {"rows": 0, "mae": None, "rmse": None, "within_3_pct": None,
                         "within_5_pct": None}


def _night(player: str, points: float, line: float, recommendation: str) -> PlayerNight:
    prediction = Prediction(MOVING_AVERAGE, 20.0, 80.0, recommendation, line, 20.0 - line)
    return PlayerNight(FIRST, player, points, 20.0, (Line(value=line, source="sportsbook"),),
                       (prediction,))


def test_the_hit_rate_excludes_pushes():
    nights = [_night("a", 25, 20.5, OVER),   # hit
              _night("b", 25, 20.5, UNDER),  # miss
              _night("c", 20, 20.0, OVER),   # push
              _night("d", 12, 20.5, UNDER),  # hit
              _night("e", 30, 20.5, PASS)]
    figures = summarise(nights)["systems"][MOVING_AVERAGE]
    assert figures["recommendations"] == {OVER: 2, UNDER: 2, PASS: 1}
    assert (figures["picks"], figures["hits"], figures["pushes"]) == (4, 2, 1)
    assert figures["hit_rate_pct"] == pytest.approx(100 * 2 / 3, abs=0.01)


def test_line_mae_uses_the_sportsbook_line_of_each_player_night():
    nights = [_night("a", 25, 20.5, OVER), _night("b", 18, 20.5, PASS)]
    figures = summarise(nights)["systems"][MOVING_AVERAGE]
    assert figures["line_rows"] == 2
    assert figures["line_mae"] == pytest.approx((4.5 + 2.5) / 2)
    assert figures["mae_on_line_rows"] == pytest.approx((5 + 2) / 2)


def test_held_out_rows_predicted_in_one_call_equal_one_call_per_row(league, report):
    from tipoff.domain.systems import XGBoostSystem
    from tipoff.pipeline.train import _BatchedModel, examples

    store, clock, model_path = league
    artifact = load_model_file(model_path)
    snapshot = Snapshot.load(store, FIRST)
    rows = examples(snapshot, snapshot.game_dates(date(2025, 11, 15), date(2025, 11, 20)),
                    clock.now())
    batched = _BatchedModel(artifact, [r.inputs for r in rows])
    alone = XGBoostSystem(artifact)
    assert rows and all(batched.predict(r.inputs, None) == alone.predict(r.inputs, None)
                        for r in rows)


def test_lined_players_left_unpredicted_are_listed_with_stage_4s_reason():
    from tipoff.pipeline.backtest import _count_lined, _Counts

    day = date(2025, 11, 2)
    rows = [{"player_lookup": "ann", "data_quality_issues": []},
            {"player_lookup": "bob", "data_quality_issues": ["injury status out"]},
            {"player_lookup": "cy", "data_quality_issues": [
                "only 1 season game (need 2 while the team has played fewer than 10)"]}]
    counts = _Counts()
    _count_lined(counts, day, {"ann", "bob", "cy", "dee", "eve"}, rows, predicted={"ann"},
                 scored={"ann", "cy", "dee"}, from_books=True)
    coverage = counts.lined_coverage()
    assert (coverage["lined_played"], coverage["predicted"]) == (3, 1)
    assert coverage["without_stage4_row"] == 1
    assert coverage["missed"] == [  # bob and eve did not play: not misses
        {"game_date": "2025-11-02", "player_lookup": "cy",
         "reason": "only 1 season game (need 2 while the team has played fewer than 10)"},
        {"game_date": "2025-11-02", "player_lookup": "dee",
         "reason": "no stage 4 row (no game this season, so on no roster)"}]


def test_the_text_report_lists_the_first_misses_and_points_at_the_json_for_the_rest():
    from tipoff.cli.common import out
    from tipoff.cli.data import MISSED_SHOWN, _print_missed

    missed = [{"game_date": "2025-11-02", "player_lookup": f"p{n:02d}", "reason": "why"}
              for n in range(MISSED_SHOWN + 3)]
    with out.capture() as captured:
        _print_missed(missed)
    lines = captured.get().splitlines()
    assert lines[0] == "  not predicted: 2025-11-02 p00: why"
    assert len(lines) == MISSED_SHOWN + 1
    assert lines[-1] == "  … and 3 more (--report FILE.json lists them all)"


def test_line_dependent_systems_are_scored_at_the_bet_line_not_the_lowest():
    # Three books: 14.5, 15.0 (the consensus), 15.5. The market system starts from the line,
    # so its points differ per line; it is scored, and compared with the line, at 15.0.
    lines = tuple(Line(value=v, source="sportsbook") for v in (14.5, 15.0, 15.5))
    made = tuple(Prediction("market_residual_v1", v + 1.0, 60.0, PASS, v, 1.0)
                 for v in (14.5, 15.0, 15.5))
    night = PlayerNight(FIRST, "ann", 18.0, 15.0, lines, made, {}, 15.0, True, False)
    assert night.predicted("market_residual_v1") == 16.0
    figures = summarise([night])["systems"]["market_residual_v1"]
    assert figures["mae"] == pytest.approx(2.0)
    assert (figures["line_mae"], figures["mae_on_line_rows"]) == (pytest.approx(3.0),
                                                                 pytest.approx(2.0))
    without_consensus = replace(night, market=None)  # then the first (lowest) line
    assert without_consensus.predicted("market_residual_v1") == 15.5
