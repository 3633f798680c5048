"""The zone matchup system."""

import pytest

from tipoff.domain.systems import zone_matchup_predict
from tests.unit.feature_vectors import features


def predict(**overrides):
    return zone_matchup_predict(features(**overrides), None)


def test_in_a_neutral_matchup_the_zones_add_up_to_the_season_average():
    prediction = predict()
    assert sum(prediction.components["zones"].values()) == pytest.approx(18.0, abs=0.01)
    assert prediction.components["zones"]["free_throw"] == pytest.approx(18.0 * 0.15)
    assert prediction.predicted_points == pytest.approx(18.5)


def test_weaker_defense_raises_and_stronger_defense_lowers():
    assert predict(opponent_def_rating=118.0).predicted_points > predict().predicted_points
    assert predict(opponent_def_rating=104.0).predicted_points < predict().predicted_points


def test_a_three_point_shooter_gains_more_than_a_mid_range_shooter_against_weak_defense():
    shooter = dict(pct_paint=0.1, pct_mid_range=0.1, pct_three=0.8)
    midrange = dict(pct_paint=0.1, pct_mid_range=0.8, pct_three=0.1)

    def gain(shape):
        weak = predict(opponent_def_rating=120.0, **shape).components["zones"]
        neutral = predict(**shape).components["zones"]
        return sum(weak.values()) - sum(neutral.values())

    assert gain(shooter) > gain(midrange) > 0


def test_a_favourable_zone_mismatch_raises():
    assert predict(shot_zone_mismatch_score=8.0).predicted_points > predict().predicted_points


def test_tired_lowers_home_raises_back_to_back_lowers_pace_raises():
    base = predict().predicted_points
    assert predict(fatigue_score=30.0).predicted_points < base
    assert predict(home_away=0.0).predicted_points < base
    assert predict(back_to_back=1.0).predicted_points < base
    assert predict(pace_score=2.0).predicted_points > base


def test_confidence_falls_with_volatility():
    assert predict(points_std_last_10=9.0).confidence < predict(points_std_last_10=3.0).confidence


def test_a_player_without_shot_shares_uses_league_shares():
    prediction = predict(pct_paint=0.0, pct_mid_range=0.0, pct_three=0.0, pct_free_throw=0.0)
    assert prediction.predicted_points == pytest.approx(18.5)


def test_the_recommendation_uses_edge_two():
    assert zone_matchup_predict(features(), 16.5).recommendation == "OVER"
    assert zone_matchup_predict(features(), 17.0).recommendation == "PASS"
    assert zone_matchup_predict(features(), 20.5).recommendation == "UNDER"
