"""The similarity system: the player's most similar recent games."""

import pytest

from tipoff.domain.systems import PastGame, PredictionUnavailable, similarity_predict
from tests.unit.feature_vectors import features


def game(days_ago=10, points=20.0, def_rating=112.0, rest=1, home=True, form=20.0):
    return PastGame(days_ago=days_ago, points=points, opponent_def_rating=def_rating,
                    days_rest=rest, is_home=home, form=form)


def mixed_history():
    """Thirty-six games, two of every defense tier x rest bucket x venue, all scoring alike."""
    return [game(days_ago=2 + 2 * i, def_rating=(106.0, 113.0, 119.0)[i % 3],
                 rest=(i // 3) % 3, home=(i // 9) % 2 == 0) for i in range(36)]


def test_fewer_than_five_similar_games_make_the_prediction_unavailable():
    with pytest.raises(PredictionUnavailable, match="only 4 similar games"):
        similarity_predict(features(), 20.5, [game(days_ago=d) for d in range(1, 5)])


def test_five_similar_games_are_enough():
    prediction = similarity_predict(features(), None, [game(days_ago=d) for d in range(1, 6)])
    assert prediction.predicted_points == pytest.approx(20.0)
    assert prediction.components["n_matches"] == 5


def test_games_older_than_ninety_days_are_ignored():
    old = [game(days_ago=91 + d, points=40.0) for d in range(20)]
    with pytest.raises(PredictionUnavailable):
        similarity_predict(features(), None, old)
    recent = [game(days_ago=d, points=20.0) for d in range(1, 8)]
    prediction = similarity_predict(features(), None, recent + old)
    assert prediction.predicted_points == pytest.approx(20.0)
    assert prediction.components["n_matches"] == 7


def test_dissimilar_games_do_not_count_as_matches():
    unlike = [game(days_ago=d, def_rating=104.0, rest=3, home=False, form=35.0)
              for d in range(1, 20)]
    with pytest.raises(PredictionUnavailable):
        similarity_predict(features(opponent_def_rating=120.0, back_to_back=1.0), None, unlike)


def test_at_most_thirty_matches_are_used():
    history = [game(days_ago=d) for d in range(1, 60)]
    assert similarity_predict(features(), None, history).components["n_matches"] == 30


def test_weaker_defense_raises_the_prediction():
    history = mixed_history()
    weak = similarity_predict(features(opponent_def_rating=120.0), None, history)
    strong = similarity_predict(features(opponent_def_rating=105.0), None, history)
    assert weak.predicted_points > strong.predicted_points


def test_games_against_a_similar_defense_weigh_more():
    history = ([game(days_ago=d, def_rating=119.0, points=28.0) for d in range(1, 10)]
               + [game(days_ago=d, def_rating=106.0, points=14.0) for d in range(10, 19)])
    weak = similarity_predict(features(opponent_def_rating=119.0), None, history)
    strong = similarity_predict(features(opponent_def_rating=106.0), None, history)
    assert weak.predicted_points - strong.predicted_points > 3


def test_home_raises_and_back_to_back_lowers():
    history = mixed_history()
    home = similarity_predict(features(home_away=1.0), None, history).predicted_points
    away = similarity_predict(features(home_away=0.0), None, history).predicted_points
    assert home > away
    rested = similarity_predict(features(), None, history).predicted_points
    back_to_back = similarity_predict(features(back_to_back=1.0), None, history).predicted_points
    assert back_to_back < rested


def test_a_player_who_scores_less_without_rest_is_predicted_lower_on_a_back_to_back():
    history = ([game(days_ago=d, rest=0, points=15.0) for d in range(1, 12)]
               + [game(days_ago=d, rest=2, points=22.0) for d in range(12, 24)])
    tired = similarity_predict(features(back_to_back=1.0), None, history).predicted_points
    rested = similarity_predict(features(), None, history, days_rest=2).predicted_points
    assert tired < rested - 3


def test_explicit_days_rest_sets_the_rest_bucket():
    history = mixed_history()
    two_days = similarity_predict(features(), None, history, days_rest=2).predicted_points
    no_rest = similarity_predict(features(), None, history, days_rest=0).predicted_points
    assert two_days > no_rest


def test_tired_lowers_the_prediction():
    history = mixed_history()
    assert (similarity_predict(features(fatigue_score=30.0), None, history).predicted_points
            < similarity_predict(features(), None, history).predicted_points)


def test_better_form_than_in_the_matched_games_raises_the_prediction():
    history = [game(days_ago=d, form=18.0) for d in range(1, 20)]
    hot = similarity_predict(features(points_avg_last_5=22.0), None, history)
    assert hot.predicted_points > 20.0


def test_confidence_falls_with_the_spread_of_matched_points():
    steady = [game(days_ago=d, points=20.0 + (d % 2)) for d in range(1, 25)]
    erratic = [game(days_ago=d, points=8.0 if d % 2 else 32.0) for d in range(1, 25)]
    assert (similarity_predict(features(), None, erratic).confidence
            < similarity_predict(features(), None, steady).confidence)


def test_confidence_rises_with_more_matches():
    few = [game(days_ago=d) for d in range(1, 6)]
    many = [game(days_ago=d) for d in range(1, 26)]
    assert (similarity_predict(features(), None, many).confidence
            > similarity_predict(features(), None, few).confidence)


def test_components_record_matches_similarity_and_spread():
    history = [game(days_ago=d, points=14.0 + d % 9) for d in range(1, 40)]
    components = similarity_predict(features(), 20.5, history).components
    assert components["n_matches"] == 30
    assert 0.5 <= components["mean_similarity"] <= 1.0
    assert components["spread"] > 0


def test_close_consistent_matches_clear_the_floor_of_sixty_five():
    history = [game(days_ago=d, points=26.0) for d in range(1, 25)]
    prediction = similarity_predict(features(points_avg_last_5=26.0), 22.5, history)
    assert prediction.confidence >= 65
    assert prediction.recommendation == "OVER"


def test_context_adjustments_together_stay_within_five_points():
    history = [game(days_ago=d, form=10.0, def_rating=104.0, rest=2, home=False)
               for d in range(1, 20)]
    extreme = features(points_avg_last_5=14.0, opponent_def_rating=108.0, home_away=1.0,
                       back_to_back=0.0, pace_score=3.0, usage_spike_score=3.0)
    prediction = similarity_predict(extreme, None, history, days_rest=2)
    assert prediction.components["adjustment_total"] == 5.0
    assert prediction.predicted_points == 25.0


def test_matching_scores_every_game_exactly_as_similarity_does():
    """find_matches works tonight's side out once per player; the scores must be the same
    floats ``similarity`` gives game by game (ties and the tier edges included)."""
    from tipoff.domain.systems.similarity import Context, _similarities, similarity

    games = [game(days_ago=d, points=float(d % 31), def_rating=rating, rest=rest, home=home,
                  form=form)
             for d, (rating, rest, home, form) in enumerate(
                 (rating, rest, home, form)
                 for rating in (105.0, 109.99, 110.0, 113.3, 116.0, 116.01, 121.0, float("nan"))
                 for rest in (-1, 0, 1, 2, 5) for home in (True, False)
                 for form in (0.0, 3.3, 17.9, 31.0))]
    for now in (Context(tier, bucket, home, form) for tier in range(3) for bucket in range(3)
                for home in (True, False) for form in (0.0, 12.0, 28.7)):
        assert [s for s, _ in _similarities(games, now)] == [similarity(g, now) for g in games]


def test_the_means_and_spread_of_a_prediction_are_those_of_the_public_functions():
    from tipoff.domain.systems.similarity import (
        _means_and_spread, find_matches, matched_means, tonight, weighted_spread,
    )
    from tipoff.domain.systems import FeatureView

    history = [game(days_ago=2 + i, points=3.7 * (i % 9), def_rating=104.0 + 1.3 * i,
                    rest=i % 4, home=i % 3 == 0, form=11.0 + 0.7 * i) for i in range(40)]
    matches = find_matches(history, tonight(FeatureView.of(features()), 1))
    means, spread = _means_and_spread(matches)
    assert means == matched_means(matches)
    assert spread == weighted_spread(matches, means["points"])
