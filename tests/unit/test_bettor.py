"""A bettor's figures: ROI at quoted prices, calibration buckets, the predictions CSV."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from tipoff.domain.messages import Line
from tipoff.domain.systems import ENSEMBLE, OVER, PASS, UNDER, Prediction
from tipoff.pipeline.backtest import PlayerNight, summarise
from tipoff.pipeline.bettor import calibration_table, roi_summary, write_predictions_csv

DAY = date(2025, 11, 3)


def night(player: str, points: float, recommendation: str, *, line: float = 20.5,
          predicted: float = 23.0, confidence: float = 60.0, prices=None,
          source: str = "sportsbook") -> PlayerNight:
    prediction = Prediction(ENSEMBLE, predicted, confidence, recommendation, line,
                            round(predicted - line, 1))
    return PlayerNight(DAY, player, points, 19.0, (Line(value=line, source=source),),
                       (prediction,), prices or {}, None, True, False)


def test_roi_pays_each_win_at_the_best_quoted_price_and_a_loss_costs_the_stake():
    nights = [night("a", 25, OVER, prices={20.5: (+120, -140)}),  # +1.2
              night("b", 18, OVER),                                # -1 at -110
              night("c", 15, UNDER, predicted=17.0),               # +100/110
              night("d", 30, PASS)]
    roi = roi_summary(nights, ENSEMBLE)
    profit = 1.2 - 1 + 100 / 110
    assert roi["all"]["picks"] == 3 and roi["all"]["hits"] == 2
    assert roi["all"]["profit_units"] == pytest.approx(profit, abs=0.01)
    assert roi["all"]["roi_pct"] == pytest.approx(100 * profit / 3, abs=0.01)
    assert (roi["over"]["picks"], roi["under"]["picks"]) == (2, 1)


def test_pushes_return_the_stake_and_leave_the_hit_rate_alone():
    roi = roi_summary([night("a", 20.0, OVER, line=20.0), night("b", 25, OVER)], ENSEMBLE)
    assert (roi["all"]["pushes"], roi["all"]["hit_rate_pct"]) == (1, 100.0)


def test_picks_against_estimated_lines_are_not_bets():
    roi = roi_summary([night("a", 25, OVER, source="estimate")], ENSEMBLE)
    assert roi["all"]["picks"] == 0


def test_the_calibration_table_shows_how_often_the_leaning_side_won_per_bucket():
    nights = [night("a", 25, OVER, confidence=72), night("b", 18, OVER, confidence=75),
              night("c", 25, PASS, confidence=52)]
    table = calibration_table(nights, ENSEMBLE)
    assert table == [
        {"confidence": "50–55", "rows": 1, "mean_confidence": 52.0, "won_pct": 100.0},
        {"confidence": "70–80", "rows": 2, "mean_confidence": 73.5, "won_pct": 50.0}]


def test_the_report_compares_the_ensemble_with_the_line_on_lined_rows():
    report = summarise([night("a", 25, OVER, predicted=23.0), night("b", 18, OVER)])
    versus = report["ensemble_vs_line"]
    assert versus["rows"] == 2
    assert versus["ensemble_mae"] == pytest.approx((2 + 5) / 2)
    assert versus["line_mae"] == pytest.approx((4.5 + 2.5) / 2)


def test_every_scored_prediction_is_exported_with_its_outcome_and_profit(tmp_path):
    path = tmp_path / "predictions.csv"
    written = write_predictions_csv(path, [night("a", 25, OVER, prices={20.5: (+120, -140)}),
                                           night("b", 30, PASS)])
    rows = list(csv.DictReader(path.open()))
    assert written == 2 and [r["player_lookup"] for r in rows] == ["a", "b"]
    assert (rows[0]["outcome"], rows[0]["price"], rows[0]["profit"]) == ("hit", "120", "1.2")
    assert (rows[1]["recommendation"], rows[1]["outcome"]) == ("PASS", "")
