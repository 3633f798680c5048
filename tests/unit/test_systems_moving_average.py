"""The moving-average baseline."""

import pytest

from tipoff.domain.systems import moving_average_predict
from tipoff.domain.systems.moving_average import VENUE
from tests.unit.feature_vectors import features


def points(**overrides):
    return moving_average_predict(features(**overrides), None).predicted_points


def confidence(**overrides):
    return moving_average_predict(features(**overrides), None).confidence


def test_a_rested_home_player_in_a_neutral_matchup_gets_the_blend_plus_home():
    blend = 0.5 * 20 + 0.3 * 19 + 0.2 * 18
    assert points() == pytest.approx(round(blend + VENUE, 1))


def test_tired_lowers_the_prediction():
    assert points(fatigue_score=40.0) < points(fatigue_score=100.0)


def test_weaker_defense_raises_the_prediction():
    assert points(opponent_def_rating=118.0) > points() > points(opponent_def_rating=106.0)


def test_a_favourable_zone_mismatch_faster_pace_and_more_usage_raise_it():
    assert points(shot_zone_mismatch_score=6.0) > points()
    assert points(pace_score=2.0) > points()
    assert points(usage_spike_score=2.0) > points()


def test_home_raises_and_back_to_back_lowers():
    assert points(home_away=1.0) > points(home_away=0.0)
    assert points(back_to_back=1.0) < points()


def test_adjustments_together_stay_within_five_points():
    worst = dict(fatigue_score=0.0, shot_zone_mismatch_score=-10.0, pace_score=-3.0,
                 usage_spike_score=-3.0, opponent_def_rating=100.0, home_away=0.0,
                 back_to_back=1.0)
    prediction = moving_average_predict(features(**worst), None)
    assert prediction.components["adjustment_total"] == -5.0
    assert prediction.predicted_points == pytest.approx(19.3 - 5.0)


def test_confidence_falls_with_volatility():
    assert confidence(points_std_last_10=9.0) < confidence(points_std_last_10=3.0)


def test_confidence_falls_with_heavy_workload_and_big_minutes_changes():
    assert confidence(games_in_last_7_days=5.0) < confidence()
    assert confidence(minutes_change=-2.0) < confidence()


def test_confidence_falls_with_injury_risk_and_stays_within_bounds():
    assert confidence(injury_risk=2.0) < confidence()
    assert confidence(points_std_last_10=40.0, games_in_last_7_days=7.0, minutes_change=2.0,
                      injury_risk=3.0) == 0.0


def test_the_recommendation_uses_edge_two_and_floor_forty_five():
    prediction = moving_average_predict(features(), 17.3)
    assert prediction.predicted_points == pytest.approx(round(19.3 + VENUE, 1))
    assert prediction.line_margin == pytest.approx(prediction.predicted_points - 17.3)
    assert prediction.line_margin >= 2.0 and prediction.recommendation == "OVER"
    assert moving_average_predict(features(), 18.5).recommendation == "PASS"
    shaky = moving_average_predict(features(points_std_last_10=15.0), 10.0)
    assert shaky.confidence < 45 and shaky.recommendation == "PASS"


def test_a_huge_average_is_clamped_to_sixty():
    assert points(points_avg_last_5=80.0, points_avg_last_10=80.0, points_avg_season=80.0) == 60.0
