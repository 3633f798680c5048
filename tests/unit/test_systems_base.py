"""The rules every prediction system shares: recommendation, clamping, feature access."""

import math

import pytest

from tipoff.domain.features import DEFAULTS, FEATURE_NAMES
from tipoff.domain.systems import (
    EDGE_AND_FLOOR,
    SYSTEM_IDS,
    FeatureView,
    PredictionUnavailable,
    clamp_confidence,
    clamp_points,
    recommend,
)
from tipoff.domain.systems.base import finish
from tipoff.errors import TipoffError


def test_without_a_line_the_recommendation_is_pass():
    assert recommend(30.0, 99.0, None, 2.0, 45.0) == "PASS"


def test_confidence_below_the_floor_is_pass():
    assert recommend(30.0, 44.9, 20.0, 2.0, 45.0) == "PASS"


def test_confidence_exactly_at_the_floor_still_qualifies():
    assert recommend(30.0, 45.0, 20.0, 2.0, 45.0) == "OVER"


def test_a_margin_below_the_edge_is_pass():
    assert recommend(21.9, 90.0, 20.0, 2.0, 45.0) == "PASS"
    assert recommend(18.1, 90.0, 20.0, 2.0, 45.0) == "PASS"


def test_a_margin_exactly_at_the_edge_qualifies_despite_float_noise():
    assert recommend(22.1, 90.0, 20.1, 2.0, 45.0) == "OVER"
    assert recommend(18.6, 90.0, 20.1, 1.5, 60.0) == "UNDER"


def test_predicted_above_the_line_is_over_and_below_is_under():
    assert recommend(25.0, 70.0, 20.5, 2.0, 45.0) == "OVER"
    assert recommend(15.0, 70.0, 20.5, 2.0, 45.0) == "UNDER"


def test_points_are_clamped_to_zero_and_sixty_and_rounded_to_a_tenth():
    assert clamp_points(-3.0) == 0.0
    assert clamp_points(75.2) == 60.0
    assert clamp_points(21.26) == 21.3


def test_non_finite_points_make_the_prediction_unavailable():
    with pytest.raises(PredictionUnavailable):
        clamp_points(math.nan)


def test_confidence_is_clamped_to_zero_and_a_hundred():
    assert clamp_confidence(130.0) == 100.0
    assert clamp_confidence(-5.0) == 0.0
    assert clamp_confidence(64.96) == 65.0


def test_finish_records_the_margin_against_the_line_after_rounding():
    prediction = finish("xgboost_v1", 22.04, 70.0, 20.5, {"k": 1})
    assert prediction.predicted_points == 22.0
    assert prediction.line_margin == 1.5
    assert prediction.recommendation == "OVER"
    assert finish("xgboost_v1", 22.0, 70.0, None, {}).line_margin is None


def test_edges_and_floors_follow_the_design():
    assert SYSTEM_IDS == ("moving_average_baseline", "zone_matchup_v1", "similarity_balanced_v1",
                          "xgboost_v1", "ensemble_v1")
    assert EDGE_AND_FLOOR == {
        "moving_average_baseline": (2.0, 45.0), "zone_matchup_v1": (2.0, 45.0),
        "similarity_balanced_v1": (2.0, 65.0), "xgboost_v1": (1.5, 60.0),
        "ensemble_v1": (1.5, 65.0),
        "market_residual_v1": (1.0, 50.0),  # beside the five (systems.market)
        "minutes_role_v1": (2.0, 45.0),  # beside the five (systems.minutes_role)
    }


def test_prediction_unavailable_is_a_tipoff_error_with_its_reason():
    error = PredictionUnavailable("no model")
    assert isinstance(error, TipoffError)
    assert error.reason == "no model"


def test_a_feature_view_gives_access_by_name_and_attribute():
    values = [DEFAULTS[name] for name in FEATURE_NAMES]
    view = FeatureView(values)
    assert view["opponent_def_rating"] == 112.0
    assert view.pct_three == 0.35
    assert FeatureView.of(dict(zip(FEATURE_NAMES, values))).values == view.values
    with pytest.raises(AttributeError):
        view.not_a_feature  # noqa: B018


def test_a_feature_vector_of_the_wrong_length_is_refused():
    with pytest.raises(PredictionUnavailable, match="25"):
        FeatureView([1.0] * 24)


def test_missing_or_non_finite_features_are_refused_by_name():
    values = dict(DEFAULTS)
    del values["pace_score"]
    with pytest.raises(PredictionUnavailable, match="pace_score"):
        FeatureView.of(values)
    with pytest.raises(PredictionUnavailable, match="fatigue_score"):
        FeatureView.of({**DEFAULTS, "fatigue_score": math.nan})
