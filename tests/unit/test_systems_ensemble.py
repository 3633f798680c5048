"""The ensemble and the fitting of its weights."""

import numpy as np
import pytest

from tipoff.domain.systems import (
    Prediction,
    PredictionUnavailable,
    ensemble_predict,
    fit_ensemble_weights,
)
from tipoff.domain.systems.ensemble import project_to_simplex


def component(system_id, points, confidence=70.0):
    return Prediction(system_id, points, confidence, "PASS", None, None, {})


def test_one_component_is_not_enough():
    with pytest.raises(PredictionUnavailable, match="at least 2"):
        ensemble_predict({"moving_average_baseline": component("moving_average_baseline", 20)},
                         None, 20.5)


def test_an_earlier_ensemble_prediction_is_not_a_component():
    components = {"zone_matchup_v1": component("zone_matchup_v1", 20),
                  "ensemble_v1": component("ensemble_v1", 25)}
    with pytest.raises(PredictionUnavailable):
        ensemble_predict(components, None, 20.5)


def test_without_learned_weights_components_are_weighted_by_confidence():
    components = {"moving_average_baseline": component("moving_average_baseline", 20.0, 80.0),
                  "zone_matchup_v1": component("zone_matchup_v1", 26.0, 40.0)}
    prediction = ensemble_predict(components, None, None)
    assert prediction.predicted_points == pytest.approx(22.0)
    assert prediction.components["weighting"] == "confidence"


def test_learned_weights_are_renormalised_over_the_available_components():
    components = {"xgboost_v1": component("xgboost_v1", 24.0),
                  "zone_matchup_v1": component("zone_matchup_v1", 18.0)}
    weights = {"xgboost_v1": 0.5, "zone_matchup_v1": 0.25, "similarity_balanced_v1": 0.25}
    prediction = ensemble_predict(components, weights, None)
    assert prediction.predicted_points == pytest.approx(22.0)
    assert prediction.components["weights"] == {"xgboost_v1": 0.6667, "zone_matchup_v1": 0.3333}
    assert prediction.components["weighting"] == "learned"


def test_learned_weights_that_miss_every_available_component_fall_back_to_confidence():
    components = {"xgboost_v1": component("xgboost_v1", 24.0),
                  "zone_matchup_v1": component("zone_matchup_v1", 18.0)}
    prediction = ensemble_predict(components, {"similarity_balanced_v1": 1.0}, None)
    assert prediction.components["weighting"] == "confidence"
    assert prediction.predicted_points == pytest.approx(21.0)


def test_agreement_on_the_side_of_the_line_raises_confidence():
    components = {"xgboost_v1": component("xgboost_v1", 21.0),
                  "zone_matchup_v1": component("zone_matchup_v1", 24.0)}
    unanimous = ensemble_predict(components, None, 20.0)
    split = ensemble_predict(components, None, 22.0)
    assert unanimous.components["agreement"] == 1.0
    assert split.components["agreement"] == 0.5
    assert unanimous.confidence > split.confidence


def test_spread_between_components_lowers_confidence():
    close = {"xgboost_v1": component("xgboost_v1", 22.0),
             "zone_matchup_v1": component("zone_matchup_v1", 22.0)}
    apart = {"xgboost_v1": component("xgboost_v1", 18.0),
             "zone_matchup_v1": component("zone_matchup_v1", 26.0)}
    apart_confidence = ensemble_predict(apart, None, None).confidence
    assert apart_confidence < ensemble_predict(close, None, None).confidence


def test_components_record_variance_agreement_and_contributors():
    components = {sid: component(sid, points) for sid, points in
                  (("moving_average_baseline", 20.0), ("zone_matchup_v1", 22.0),
                   ("xgboost_v1", 24.0))}
    prediction = ensemble_predict(components, None, 20.5)
    recorded = prediction.components
    assert recorded["contributing_systems"] == ["moving_average_baseline", "xgboost_v1",
                                                "zone_matchup_v1"]
    assert recorded["variance"] == pytest.approx(8 / 3, abs=1e-3)
    assert recorded["agreement"] == 0.6667
    assert prediction.system_id == "ensemble_v1"
    assert prediction.line_margin == pytest.approx(1.5)


def test_the_recommendation_uses_edge_one_and_a_half_and_floor_sixty_five():
    confident = {"xgboost_v1": component("xgboost_v1", 22.0, 80.0),
                 "zone_matchup_v1": component("zone_matchup_v1", 22.0, 80.0)}
    assert ensemble_predict(confident, None, 20.5).recommendation == "OVER"
    assert ensemble_predict(confident, None, 21.0).recommendation == "PASS"
    unsure = {"xgboost_v1": component("xgboost_v1", 22.0, 50.0),
              "zone_matchup_v1": component("zone_matchup_v1", 22.0, 50.0)}
    assert ensemble_predict(unsure, None, 15.0).recommendation == "PASS"


def test_learned_weights_recover_a_known_mix():
    rng = np.random.default_rng(11)
    truth = rng.uniform(5, 30, 600)
    systems = np.column_stack([truth + rng.normal(0, s, 600) for s in (2.0, 3.0, 6.0)])
    actual = systems @ np.array([0.6, 0.3, 0.1]) + rng.normal(0, 0.3, 600)
    weights = fit_ensemble_weights(systems, actual, ["a", "b", "c"])
    # the ridge pulls a little towards equal weights
    assert weights == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1}, abs=0.05)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_weights_of_near_duplicate_systems_stay_put_between_refits():
    def fit(seed):
        rng = np.random.default_rng(seed)
        truth = rng.uniform(5, 30, 800)
        shared = truth + rng.normal(0, 4, 800)
        systems = np.column_stack([shared + rng.normal(0, 0.3, 800) for _ in range(3)])
        return fit_ensemble_weights(systems, truth + rng.normal(0, 5, 800), ["a", "b", "c"])

    first, second = fit(1), fit(2)
    assert max(abs(first[k] - second[k]) for k in first) < 0.15  # unregularised: up to 1
    assert min(first.values()) > 0.2


def test_a_system_that_only_hurts_gets_almost_no_weight():
    rng = np.random.default_rng(5)
    actual = rng.uniform(5, 30, 300)
    good = actual + rng.normal(0, 1, 300)
    contrary = 35 - actual
    weights = fit_ensemble_weights(np.column_stack([good, contrary]), actual, ["good", "bad"])
    assert weights["bad"] < 0.05  # the prior towards equal weights keeps a trace
    assert weights["good"] == pytest.approx(1.0 - weights["bad"])


def test_weights_favour_the_component_that_predicts_the_median_of_skewed_points():
    # Points skewed right around each player's level: the median predictor has the lower
    # absolute error, the mean predictor the lower squared error.
    from tipoff.domain.systems.ensemble import _simplex_least_squares

    rng = np.random.default_rng(3)
    level = rng.uniform(4, 25, 4000)
    shape = 2.0
    actual = rng.gamma(shape, level / shape)
    median, mean = 1.6783469900166608 * level / shape, level  # the gamma(2) median
    systems = np.column_stack([median, mean])
    fitted = fit_ensemble_weights(systems, actual, ["median", "mean"])
    squares = _simplex_least_squares(systems, actual, np.full(2, 0.5))
    assert fitted["median"] > 0.5 > squares[0]

    def mae(w):
        return np.mean(np.abs(systems @ np.asarray(w) - actual))

    assert mae([fitted["median"], fitted["mean"]]) < mae(squares)


def test_fewer_than_fifty_rows_give_equal_weights():
    predictions = np.arange(98, dtype=float).reshape(49, 2)
    assert fit_ensemble_weights(predictions, predictions[:, 0], ["a", "b"]) == {"a": 0.5, "b": 0.5}


def test_rows_with_missing_predictions_are_ignored_when_fitting():
    rng = np.random.default_rng(2)
    actual = rng.uniform(5, 30, 80)
    predictions = np.column_stack([actual, actual + 5])
    predictions[:40, 1] = np.nan
    assert fit_ensemble_weights(predictions, actual, ["a", "b"]) == {"a": 0.5, "b": 0.5}


def test_projection_onto_the_simplex_keeps_weights_non_negative_and_summing_to_one():
    projected = project_to_simplex(np.array([0.9, 0.6, -0.4]))
    assert projected == pytest.approx([0.65, 0.35, 0.0])


def test_where_the_data_cannot_tell_systems_apart_the_fit_keeps_to_the_prior():
    rng = np.random.default_rng(1)
    truth = rng.uniform(5, 30, 800)
    shared = truth + rng.normal(0, 4, 800)
    systems = np.column_stack([shared + rng.normal(0, 0.3, 800) for _ in range(3)])
    actual = truth + rng.normal(0, 5, 800)
    leaning = fit_ensemble_weights(systems, actual, ["a", "b", "c"], prior={"a": 1.0})
    even = fit_ensemble_weights(systems, actual, ["a", "b", "c"])
    assert leaning["a"] > 0.8 and even["a"] < 0.5
    few = fit_ensemble_weights(systems[:49], actual[:49], ["a", "b", "c"], prior={"a": 3, "b": 1})
    assert few == {"a": 0.75, "b": 0.25, "c": 0.0}


def test_a_system_that_beats_the_prior_still_earns_its_weight():
    rng = np.random.default_rng(6)
    actual = rng.uniform(5, 30, 2000)
    good = actual + rng.normal(0, 1, 2000)
    poor = actual + rng.normal(0, 6, 2000)
    weights = fit_ensemble_weights(np.column_stack([poor, good]), actual, ["poor", "good"],
                                   prior={"poor": 1.0})
    assert weights["good"] > 0.9


def test_a_prior_must_have_some_weight_and_none_negative():
    predictions = np.ones((60, 2))
    for prior in ({"a": 0.0}, {"a": 1.0, "b": -0.5}, {"other": 1.0}):
        with pytest.raises(ValueError, match="prior weights"):
            fit_ensemble_weights(predictions, np.ones(60), ["a", "b"], prior=prior)
