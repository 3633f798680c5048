"""minutes_role_v1: the blend adjusted by minutes, role, teammates out, the matchup gap and rest."""

import pytest

from tests.unit.feature_vectors import features
from tipoff.domain.systems import PastGame, PredictionUnavailable
from tipoff.domain.systems.minutes_role import (
    RoleContext,
    minutes_role_predict,
    slate_roles,
)

# TYPICAL: L5 20, L10 19, season 18 -> level 0.22 x 20 + 0.23 x 19 + 0.52 x 18 - 0.10 = 18.03
BASE = 0.22 * 20 + 0.23 * 19 + 0.52 * 18 - 0.10


def game(minutes: float = 30.0, points: float = 15.0, started: bool = True) -> PastGame:
    return PastGame(days_ago=2, points=points, opponent_def_rating=112.0, days_rest=1,
                    is_home=True, form=15.0, minutes=minutes, started=started)


STEADY = [game()] * 10  # 30 minutes, 15 points, started: ppm 0.5, no trend, no role change


def adjustments(prediction) -> dict:
    return prediction.components["adjustments"]


def test_a_steady_starter_without_context_gets_the_scoring_level():
    prediction = minutes_role_predict(features(), None, STEADY, None, days_rest=1)
    assert prediction.system_id == "minutes_role_v1"
    assert prediction.predicted_points == round(BASE, 1) == 18.0
    assert set(adjustments(prediction).values()) == {0.0}
    assert prediction.components["profile"]["points_per_minute"] == 0.5


def test_the_minutes_profile_is_recorded_and_the_trend_alone_moves_nothing():
    history = [game(minutes=36.0)] * 3 + [game(minutes=30.0)] * 7  # newest first
    prediction = minutes_role_predict(features(), None, history, None, days_rest=1)
    profile = prediction.components["profile"]
    assert (profile["minutes_l3"], profile["minutes_l10"]) == (36.0, 31.8)
    assert profile["points_per_minute"] == pytest.approx(150.0 / 318.0, abs=1e-3)
    assert prediction.predicted_points == round(BASE, 1)


def test_a_new_starter_gains_by_the_change_of_role():
    history = [game(started=True)] + [game(started=False)] * 9
    prediction = minutes_role_predict(features(), None, history, None, days_rest=1)
    # started the newest game, 1 of the newest 5: 3.5 x (1 - 0.2) x 0.5
    assert adjustments(prediction)["role_change"] == pytest.approx(1.4)


def test_teammates_out_free_points_in_proportion_to_the_players_share():
    role = RoleContext(freed_points=3.0, team_points=24.0, opponent_win_pct=None)
    prediction = minutes_role_predict(features(), None, STEADY, role, days_rest=1)
    assert adjustments(prediction)["teammates_out"] == pytest.approx(0.75 * 3.0 * 19.3 / 24.0,
                                                                     abs=1e-3)


def test_a_lopsided_matchup_moves_starters_up_and_bench_players_down():
    role = RoleContext(0.0, 24.0, opponent_win_pct=0.7)  # team_win_pct 0.5: gap 0.2
    starter = minutes_role_predict(features(), None, STEADY, role, days_rest=1)
    bench = minutes_role_predict(features(), None, [game(started=False)] * 10, role, days_rest=1)
    assert adjustments(starter)["blowout"] == pytest.approx(0.2 * 0.5 * 3.2)
    assert adjustments(bench)["blowout"] == pytest.approx(0.2 * 0.5 * -2.0)


@pytest.mark.parametrize(("days_rest", "expected"), [(0, 0.33), (1, 0.0), (3, -0.36), (None, 0.0)])
def test_rest(days_rest, expected):
    prediction = minutes_role_predict(features(), None, STEADY, None, days_rest=days_rest)
    assert adjustments(prediction)["rest"] == expected


def test_adjustments_are_capped_at_five_points():
    role = RoleContext(freed_points=40.0, team_points=20.0, opponent_win_pct=None)
    prediction = minutes_role_predict(features(), None, STEADY, role, days_rest=1)
    assert prediction.components["adjustment_total"] == 5.0
    assert prediction.predicted_points == round(BASE + 5.0, 1)


def test_too_few_games_with_minutes_cannot_predict():
    with pytest.raises(PredictionUnavailable, match="3 past games"):
        minutes_role_predict(features(), None, [game(), game(), game(minutes=0.0)], None)


def test_recommends_against_a_line_with_its_edge():
    assert minutes_role_predict(features(), 15.5, STEADY, None, 1).recommendation == "OVER"
    assert minutes_role_predict(features(), 16.5, STEADY, None, 1).recommendation == "PASS"


def row(player, team, opponent, l10, played, status="available", win_pct=0.5, expected=10):
    values = None if l10 is None else features(points_avg_last_10=l10, team_win_pct=win_pct)
    return {"player_lookup": player, "team": team, "opponent": opponent, "features": values,
            "injury_status": status, "expected_games": expected, "actual_games": played}


def test_the_slate_gives_each_team_its_freed_and_available_points_and_the_opponents_form():
    rows = [
        row("me", "AAA", "BBB", 19.0, 10),
        row("bench", "AAA", "BBB", 10.0, 5),          # half the team's games: 5 points a night
        row("hurt", "AAA", "BBB", 6.0, 5, "out"),     # out tonight, played half: 3 freed
        row("long_out", "AAA", "BBB", 25.0, 0, "out"),  # out all along: already priced in
        row("no_row", "AAA", "BBB", None, 0, "out"),  # no features at all
        row("them", "BBB", "AAA", 15.0, 10, win_pct=0.7),
    ]
    roles = slate_roles(rows)
    assert roles["me"] == RoleContext(freed_points=3.0, team_points=24.0, opponent_win_pct=0.7)
    assert roles["them"] == RoleContext(0.0, 15.0, 0.5)
