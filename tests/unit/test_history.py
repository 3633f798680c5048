"""Past games for the similarity and minutes-role systems and the booster's role inputs: form,
rest and opponent strength as known before each game."""

from datetime import date, timedelta

import pandas as pd

from tipoff.domain.history import past_games

D = date(2026, 1, 20)


def logs(points: list[int], days_ago: list[int], player: str = "a", opponent: str = "NYK") -> pd.DataFrame:
    return pd.DataFrame({
        "game_id": [f"G{n}" for n in days_ago], "player_lookup": player,
        "game_date": [D - timedelta(days=n) for n in days_ago], "points": points,
        "is_home": True, "opponent": opponent,
    })


def stats(ratings: list[float], days_ago: list[int], team: str = "NYK") -> pd.DataFrame:
    return pd.DataFrame({"game_id": [f"G{n}" for n in days_ago], "team": team,
                         "game_date": [D - timedelta(days=n) for n in days_ago],
                         "def_rating": ratings})


def test_form_is_the_mean_of_up_to_five_earlier_games():
    frame = logs([10, 20, 30, 40, 50, 60, 70], [14, 12, 10, 8, 6, 4, 2])
    games = past_games(frame, stats([110.0] * 7, [14, 12, 10, 8, 6, 4, 2]), D)["a"]
    by_days = {g.days_ago: g for g in games}
    assert by_days[2].form == 40.0  # mean of 20..60
    assert by_days[12].form == 10.0
    assert by_days[14].form == 10.0  # a first game's form is its own points


def test_rest_is_days_between_games_minus_one_capped_at_seven():
    games = past_games(logs([10, 10, 10], [30, 10, 9]), stats([110.0] * 3, [30, 10, 9]), D)["a"]
    assert [g.days_rest for g in games] == [0, 7, 7]


def test_the_opponent_rating_is_the_mean_before_that_game():
    frame = logs([10, 10, 10], [6, 4, 2])
    games = past_games(frame, stats([100.0, 120.0, 200.0], [6, 4, 2]), D)["a"]
    assert [g.opponent_def_rating for g in games] == [110.0, 100.0, 112.0]


def test_games_older_than_a_year_or_on_the_date_are_left_out():
    frame = logs([10, 20, 30, 40], [366, 120, 5, 0])
    games = past_games(frame, stats([110.0] * 4, [366, 120, 5, 0]), D)["a"]
    assert [g.days_ago for g in games] == [5, 120]
