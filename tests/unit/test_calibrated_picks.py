"""Calibrated confidence, expected-value picks and the market-aware system."""

from __future__ import annotations

import numpy as np
import pytest

from tipoff.domain.systems import OVER, PASS, UNDER, Prediction, PredictionUnavailable
from tipoff.domain.systems.calibration import (
    Calibration,
    calibrated_pick,
    expected_value,
    fit_calibration,
    payout,
)
from tipoff.domain.systems.market import MIN_BETA_ROWS, PRIOR_BETA, fit_beta, market_predict
from tests.unit.feature_vectors import features as vector

CALIBRATION = Calibration(margins=(-4.0, 0.0, 4.0), p_over=(0.3, 0.5, 0.7))


def ensemble(points: float, line: float | None) -> Prediction:
    return Prediction("ensemble_v1", points, 80.0, OVER, line, None, {"k": 1})


def test_american_prices_pay_as_books_pay():
    assert payout(-110) == pytest.approx(100 / 110)
    assert payout(+150) == 1.5
    assert expected_value(0.5238, -110) == pytest.approx(0.0, abs=1e-3)  # the breakeven


def test_confidence_is_the_calibrated_probability_that_the_pick_wins():
    pick = calibrated_pick(ensemble(24.0, 20.0), 24.0, CALIBRATION)
    assert (pick.recommendation, pick.confidence) == (OVER, 70.0)
    assert pick.components["calibrated"]["expected_value"] == pytest.approx(
        expected_value(0.7, -110), abs=1e-4)
    under = calibrated_pick(ensemble(16.0, 20.0), 16.0, CALIBRATION)
    assert (under.recommendation, under.confidence) == (UNDER, 70.0)


def test_a_pick_without_positive_expected_value_at_its_price_is_a_pass_with_the_reason():
    small_edge = calibrated_pick(ensemble(21.6, 20.0), 21.6, CALIBRATION)  # p 0.58 at -110
    assert small_edge.recommendation == OVER
    expensive = calibrated_pick(ensemble(21.6, 20.0), 21.6, CALIBRATION, (-200, +160))
    assert expensive.recommendation == PASS
    assert "expected value" in expensive.components["calibrated"]["pass_reason"]
    assert calibrated_pick(ensemble(20.0, None), 20.0, CALIBRATION).recommendation == PASS


def test_a_positive_expected_value_within_the_systems_edge_of_the_line_is_a_pass():
    close = calibrated_pick(ensemble(20.8, 20.0), 20.8, CALIBRATION)  # p 0.54, ensemble edge 1.5
    assert close.recommendation == PASS
    assert close.components["calibrated"]["expected_value"] > 0
    assert "within the edge 1.5" in close.components["calibrated"]["pass_reason"]


def test_a_logistic_fit_is_monotone_in_the_margin():
    rng = np.random.default_rng(3)
    margins = rng.normal(0, 4, 4000)
    went_over = rng.random(4000) < 1 / (1 + np.exp(-margins / 3))
    calibration = fit_calibration(margins, went_over)
    probabilities = [calibration.probability_over(m) for m in (-8, -3, 0, 3, 8)]
    assert probabilities == sorted(probabilities)
    assert probabilities[0] < 0.25 and probabilities[-1] > 0.75
    assert calibration.probability_over(3.0) == pytest.approx(1 / (1 + np.exp(-1)), abs=0.03)
    assert Calibration.from_dict(calibration.to_dict()) == calibration


def test_on_noise_a_few_hundred_rows_stay_near_the_base_rate_and_pick_nothing():
    rng = np.random.default_rng(4)
    margins = rng.normal(0, 3, 300)
    calibration = fit_calibration(margins, rng.random(300) < 0.5)
    assert all(abs(calibration.probability_over(m) - 0.5) < 0.1 for m in (-6, -2, 0, 2, 6))
    picks = [calibrated_pick(ensemble(20.0 + m, 20.0), 20.0 + m, calibration).recommendation
             for m in (-6, -2, 2, 6)]
    assert picks.count(PASS) >= 3


def test_the_market_system_moves_the_line_a_share_of_the_way_to_the_model():
    prediction = market_predict(vector(), 20.5, 24.5, 0.25, book_line=True)
    assert prediction.predicted_points == 21.5
    assert prediction.system_id == "market_residual_v1"
    with pytest.raises(PredictionUnavailable):
        market_predict(vector(), 20.5, 24.5, 0.25, book_line=False)


def test_beta_is_the_share_of_disagreement_the_results_bore_out():
    rng = np.random.default_rng(4)
    gap = rng.normal(0, 3, 2000)
    beta, rows = fit_beta(gap, 0.3 * gap + rng.normal(0, 5, 2000))
    assert rows == 2000 and beta == pytest.approx(0.3, abs=0.06)
    assert fit_beta(gap[: MIN_BETA_ROWS - 1], gap[: MIN_BETA_ROWS - 1])[0] == PRIOR_BETA


def test_the_market_weight_is_fitted_on_lined_rows_and_shrunk_towards_its_prior():
    from tipoff.domain.systems.market import (
        MAX_MARKET_WEIGHT, PRIOR_MARKET_WEIGHT, fit_market_weight,
    )

    rng = np.random.default_rng(5)
    mix = rng.uniform(5, 30, 4000)
    market = mix + rng.normal(0, 3, 4000)
    truth = mix + 0.3 * (market - mix) + rng.normal(0, 4, 4000)
    share, rows = fit_market_weight(mix, market, truth)
    assert rows == 4000 and share == pytest.approx(0.3, abs=0.05)
    # Unlined rows (NaN) count for nothing: no lined rows leave the prior.
    assert fit_market_weight(mix, np.full(4000, np.nan), truth) == (PRIOR_MARKET_WEIGHT, 0)
    # 200 prior rows against 200 rows that say 0: halfway.
    few_mix, few_market = mix[:200], market[:200]
    assert fit_market_weight(few_mix, few_market, few_mix)[0] == pytest.approx(0.25, abs=0.01)
    # The market as the truth itself is capped, so the components keep a share.
    assert fit_market_weight(mix, market, market)[0] == MAX_MARKET_WEIGHT


def test_the_market_system_joins_the_ensemble_where_a_book_line_exists():
    from tipoff.domain.systems import ensemble_predict
    from tipoff.domain.systems.market import with_market_weight

    weights = with_market_weight({"a": 0.75, "b": 0.25}, 0.6)
    assert weights == pytest.approx({"a": 0.3, "b": 0.1, "market_residual_v1": 0.6})

    def made(sid, points):
        return Prediction(sid, points, 60.0, "PASS", 20.5, None)

    lined = ensemble_predict({"a": made("a", 20.0), "b": made("b", 24.0),
                              "market_residual_v1": made("market_residual_v1", 21.0)},
                             weights, 20.5)
    assert lined.predicted_points == round(0.3 * 20 + 0.1 * 24 + 0.6 * 21, 1)
    unlined = ensemble_predict({"a": made("a", 20.0), "b": made("b", 24.0)}, weights, None)
    assert unlined.predicted_points == 21.0  # 0.75 x 20 + 0.25 x 24: the fitted proportions
