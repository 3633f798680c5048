"""The booster's role inputs: what they read off a player's history and tonight's slate, and
the many-nights path training uses giving exactly what the per-night path (the worker's and
the backtest's) gives."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from tests.unit.feature_vectors import features
from tests.unit.synthetic_league import league_store
from tests.unit.test_stage4_nights import NOW, real_nights
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.history import history_inputs_many
from tipoff.domain.systems.minutes_role import RoleContext
from tipoff.domain.systems.model_inputs import (
    HISTORY_INPUTS, MODEL_INPUT_NAMES, ROLE_INPUT_NAMES, history_inputs, model_inputs,
)
from tipoff.domain.systems.similarity import PastGame
from tipoff.pipeline.load_data import import_boxscores_into
from tipoff.pipeline.replay import Snapshot
from tipoff.testing import FakeClock


def game(minutes: float, points: float, started: bool, fga: float = 10.0,
         fta: float = 4.0, days_ago: int = 2) -> PastGame:
    return PastGame(days_ago=days_ago, points=points, opponent_def_rating=112.0, days_rest=1,
                    is_home=True, form=15.0, minutes=minutes, started=started,
                    field_goal_attempts=fga, free_throw_attempts=fta)


def named(values: list[float]) -> dict[str, float]:
    return dict(zip(ROLE_INPUT_NAMES, values[len(MODEL_INPUT_NAMES) - len(ROLE_INPUT_NAMES):]))


def test_role_inputs_are_read_off_the_newest_games_played():
    # Newest first; the 0-minute game is not a game played.
    history = [game(30, 21, True, fga=15, fta=6), game(0, 0, False), game(20, 8, False),
               game(10, 1, False)]
    f = features(points_avg_last_5=10.0, points_avg_last_10=10.0, points_avg_season=10.0,
                 team_win_pct=0.6)
    got = named(model_inputs(f, history, RoleContext(12.0, 40.0, 0.25), 0))
    assert got["minutes_avg_last_3"] == pytest.approx(20.0)
    assert got["minutes_avg_last_5"] == pytest.approx(20.0)
    assert got["points_per_minute_last_10"] == pytest.approx(30 / 60)
    assert got["field_goal_attempts_per_minute_last_10"] == pytest.approx(35 / 60)
    assert got["free_throw_attempts_per_minute_last_10"] == pytest.approx(14 / 60)
    assert got["started_share_last_5"] == pytest.approx(1 / 3)
    assert (got["started_last"], got["minutes_last"]) == (1.0, 30.0)
    assert got["projected_points"] == pytest.approx(20.0 * 30 / 60)
    assert got["teammates_out_points"] == 12.0
    assert got["teammates_out_share"] == pytest.approx(12.0 * 10.0 / 40.0)
    assert got["win_pct_gap"] == pytest.approx(0.35)
    assert (got["opponent_win_pct"], got["days_rest"]) == (0.25, 0.0)


def test_the_season_long_pair_reads_a_years_newest_82_games_the_others_90_days():
    recent = [game(20, 10, True, days_ago=3), game(20, 10, True, days_ago=5)]
    last_season = [game(30, 30, False, days_ago=200 + n) for n in range(85)]
    too_old = [game(40, 100, True, days_ago=366)]
    got = named(model_inputs(features(), recent + last_season + too_old, None, None))
    assert got["minutes_avg_last_20"] == 20.0 and got["started_share_last_10"] == 1.0
    assert got["points_avg_last_82"] == pytest.approx((2 * 10 + 80 * 30) / 82)
    assert got["points_per_minute_last_82"] == pytest.approx((2 * 10 + 80 * 30)
                                                             / (2 * 20 + 80 * 30))
    only_last_season = named(model_inputs(features(), last_season, None, None))
    assert math.isnan(only_last_season["minutes_avg_last_3"])
    assert only_last_season["points_avg_last_82"] == 30.0


def test_without_games_or_a_known_opponent_the_inputs_are_unknown_not_zero():
    got = named(model_inputs(features(), [game(0, 0, False)], None, None))
    unknown = [name for name, value in got.items() if math.isnan(value)]
    assert set(HISTORY_INPUTS) <= set(unknown)
    assert {"win_pct_gap", "opponent_win_pct", "days_rest"} <= set(unknown)
    assert got["teammates_out_points"] == 0.0 and got["teammates_out_share"] == 0.0


def assert_many_equals_per_night(snapshot: Snapshot, nights: list[date]) -> int:
    """``history_inputs_many`` for every row of ``nights`` against ``history_inputs`` of the
    history the worker reads that night; returns the number of rows compared."""
    players, days, want = [], [], []
    for day in nights:
        history = snapshot.history(day)
        for row in snapshot.feature_rows(day, NOW):
            players.append(row["player_lookup"])
            days.append(day)
            want.append(history_inputs(history.get(row["player_lookup"], ())))
    got = history_inputs_many(snapshot.logs, players, days)
    assert got.shape == (len(want), len(HISTORY_INPUTS))
    np.testing.assert_array_equal(got, np.array(want, dtype=float))  # bit for bit, NaN too
    return len(want)


def test_many_nights_at_once_give_each_nights_inputs_on_the_synthetic_league(tmp_path):
    with league_store(tmp_path, date(2025, 12, 20)) as (store, _):
        snapshot = Snapshot.load(store)
        season = snapshot.game_dates(date(2025, 10, 21), date(2025, 12, 19))
        compared = assert_many_equals_per_night(snapshot, [*season[:3], *season[8::12]])
    assert compared > 500


def test_a_player_without_any_game_has_unknown_history_inputs(tmp_path):
    with league_store(tmp_path, date(2025, 11, 20)) as (store, _):
        snapshot = Snapshot.load(store)
        got = history_inputs_many(snapshot.logs, ["nobody"], [date(2025, 11, 19)])
    assert np.isnan(got).all()


@pytest.mark.slow
@pytest.mark.shared_data
def test_many_nights_at_once_give_each_nights_inputs_on_sampled_real_nights(tmp_path,
                                                                             shared_data):
    store = SqliteStore(f"sqlite:///{tmp_path / 'nba.db'}", FakeClock(NOW)).open()
    try:
        files = ["player_box_2022_23_regular_season.csv",
                 "player_box_2023_24_regular_season.csv",
                 "player_box_2025_26_through_2025_11_09.csv"]
        import_boxscores_into(store, [shared_data / name for name in files],
                              shared_data / "game_tipoff_times_et.csv")
        snapshot = Snapshot.load(store)
        assert assert_many_equals_per_night(snapshot, real_nights(snapshot)) > 3000
    finally:
        store.close()
