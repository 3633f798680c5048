"""A player's recent games described as they looked before tip-off (input of the similarity and
minutes-role systems and the booster's role inputs: points, form, rest, opponent rating,
minutes, shots and whether they started)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tipoff.domain.features import DEFAULTS
from tipoff.domain.systems.model_inputs import (
    HISTORY_INPUTS, LONG_GAMES, LONG_WINDOW_DAYS, MINUTES_WINDOWS, SCORING_WINDOWS, SHOT_WINDOWS,
    START_WINDOWS, WIDEST_WINDOW,
)
from tipoff.domain.systems.similarity import WINDOW_DAYS, PastGame

# A year of games: the booster's season-long inputs read it all, the similarity system and
# the other inputs the newest 90 days (whose form and opponent ratings need earlier games).
LOOKBACK = timedelta(days=LONG_WINDOW_DAYS)
MAX_REST = 7
_SPAN = 10_000_000  # day numbers are below this: player code x _SPAN + day sorts by both
# The box-score columns ``past_games`` reads (a worker asks the store for these only).
HISTORY_COLUMNS = ("game_id", "game_date", "player_lookup", "opponent", "is_home", "points",
                   "minutes", "started", "fga", "fta")


def history_window(game_date: date) -> tuple[date, date]:
    """The [start, end) game-date range of logs that ``past_games`` needs."""
    return game_date - LOOKBACK, game_date


def _mean_of_previous(values: pd.Series, groups: pd.Series, window: int) -> pd.Series:
    """Per group, the mean of up to ``window`` values before each row (rows sorted by time)."""
    grouped = values.groupby(groups)
    total = grouped.cumsum() - values
    earlier = total.groupby(groups).shift(window, fill_value=0.0)
    count = grouped.cumcount().clip(upper=window)
    return (total - earlier).where(count > 0) / count.where(count > 0)


def _opponent_rating_before(team_stats: pd.DataFrame) -> pd.DataFrame:
    """Each team's mean def_rating over its previous 15 games, as known before each game."""
    stats = team_stats.sort_values(["team", "game_date"])
    before = _mean_of_previous(stats["def_rating"].astype(float), stats["team"], 15)
    return stats.assign(opp_def_before=before)[["game_id", "team", "opp_def_before"]]


def past_games(logs: pd.DataFrame, team_stats: pd.DataFrame, game_date: date,
               players: Iterable[str] | None = None, *,
               days: int = LONG_WINDOW_DAYS) -> dict[str, list[PastGame]]:
    """Every player's games of the ``days`` before ``game_date`` (a year by default: what a
    worker reads), newest first (only ``players``' when given: a worker's batch needs no one
    else's)."""
    frame = logs[logs["game_date"] < game_date]
    if players is not None:
        frame = frame[frame["player_lookup"].isin(set(players))]
    frame = frame.sort_values(["player_lookup", "game_date"])
    if frame.empty:
        return {}
    dates = pd.to_datetime(frame["game_date"])
    frame = frame.assign(
        form=_mean_of_previous(frame["points"].astype(float), frame["player_lookup"], 5),
        days_rest=(dates.groupby(frame["player_lookup"]).diff().dt.days - 1)
        .clip(upper=MAX_REST).fillna(MAX_REST).astype(int),
        days_ago=(pd.Timestamp(game_date) - dates).dt.days,
    )
    ratings = _opponent_rating_before(team_stats).rename(columns={"team": "opponent"})
    frame = frame.merge(ratings, on=["game_id", "opponent"], how="left")
    frame["opp_def_before"] = frame["opp_def_before"].fillna(DEFAULTS["opponent_def_rating"])
    frame["form"] = frame["form"].fillna(frame["points"])
    recent = frame[frame["days_ago"] <= days].sort_values("days_ago", kind="stable")
    return _by_player(recent)


def _numbers(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric box-score column, 0 where missing (or where the logs lack the column)."""
    if name not in frame:
        return pd.Series(0.0, index=frame.index)
    return frame[name].astype(float).fillna(0.0)


def _by_player(recent: pd.DataFrame) -> dict[str, list[PastGame]]:
    """PastGames grouped by player, built from plain columns (no per-row pandas objects)."""
    minutes, fga, fta = (_numbers(recent, name) for name in ("minutes", "fga", "fta"))
    started = (recent["started"].fillna(False).astype(bool) if "started" in recent
               else pd.Series(False, index=recent.index))
    columns = zip(recent["player_lookup"].tolist(), recent["days_ago"].astype(int).tolist(),
                  recent["points"].astype(float).tolist(),
                  recent["opp_def_before"].astype(float).tolist(),
                  recent["days_rest"].astype(int).tolist(),
                  recent["is_home"].astype(bool).tolist(), recent["form"].astype(float).tolist(),
                  minutes.tolist(), started.tolist(), fga.tolist(), fta.tolist())
    history: dict[str, list[PastGame]] = {}
    for player, days_ago, points, rating, rest, home, form, played, start, shots, throws in columns:
        history.setdefault(player, []).append(
            PastGame(days_ago, points, rating, rest, home, form, played, start, shots, throws))
    return history


def history_inputs_many(logs: pd.DataFrame, players: Sequence[str],
                        days: Sequence[date]) -> np.ndarray:
    """``model_inputs.history_inputs`` of each (player, night) pair at once, from the same
    games ``past_games`` would give that night (games with minutes only; the 90 days before
    it, the year before it for the season-long pair): one sort of the logs, then each window
    summed newest game first, as ``history_inputs`` sums, so the values are the same to the
    last bit. Training reads thousands of nights; a test holds it equal to the per-night
    path."""
    played = logs[_numbers(logs, "minutes") > 0]
    played = played.sort_values(["player_lookup", "game_date"], kind="stable")
    codes = {p: n for n, p in enumerate(pd.unique(played["player_lookup"]))}
    day_number = np.array([d.toordinal() for d in played["game_date"]], dtype=np.int64)
    code_of_row = np.array([codes[p] for p in played["player_lookup"]], dtype=np.int64)
    key = code_of_row * _SPAN + day_number
    columns = {name: _numbers(played, name).to_numpy()
               for name in ("minutes", "points", "fga", "fta")}
    columns["started"] = played["started"].fillna(False).astype(float).to_numpy()
    code = np.array([codes.get(p, -1) for p in players], dtype=np.int64)
    night = np.array([d.toordinal() for d in days], dtype=np.int64)
    end = np.searchsorted(key, code * _SPAN + night, side="left")
    first = np.searchsorted(key, code * _SPAN + night - WINDOW_DAYS, side="left")
    games = np.where(code >= 0, end - first, 0)  # a player without logs has no games
    running = {name: np.zeros(len(code)) for name in columns}
    totals: dict[int, dict[str, np.ndarray]] = {}
    for k in range(WIDEST_WINDOW):  # the k-th newest game, added in the order history_inputs adds
        index = np.maximum(end - 1 - k, 0)
        there = games > k
        for name, values in columns.items():
            newest = values[index] if len(values) else 0.0
            running[name] = running[name] + np.where(there, newest, 0.0)
        totals[k + 1] = dict(running)
    count = {n: np.minimum(games, n) for n in totals}
    with np.errstate(invalid="ignore", divide="ignore"):
        found: dict[str, np.ndarray] = {}
        for n in MINUTES_WINDOWS:
            found[f"minutes_avg_last_{n}"] = _known(count[n], totals[n]["minutes"] / count[n])
        for n in sorted({*SCORING_WINDOWS, *SHOT_WINDOWS}):
            minutes = np.maximum(totals[n]["minutes"], 1.0)
            for name, column in (("points", "points"), ("field_goal_attempts", "fga"),
                                 ("free_throw_attempts", "fta")):
                found[f"{name}_per_minute_last_{n}"] = _known(count[n],
                                                              totals[n][column] / minutes)
        for n in START_WINDOWS:
            found[f"started_share_last_{n}"] = _known(count[n], totals[n]["started"] / count[n])
        found["started_last"] = _known(count[1], totals[1]["started"])
        found["minutes_last"] = _known(count[1], totals[1]["minutes"])
    found["projected_points"] = found["minutes_avg_last_5"] * found["points_per_minute_last_20"]
    found.update(_long_inputs_many(key, code * _SPAN + night, np.where(code >= 0, end, 0),
                                   columns))
    return np.column_stack([found[name] for name in HISTORY_INPUTS]).reshape(len(players), -1)


def _known(count: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(count > 0, values, np.nan)


def _long_inputs_many(key: np.ndarray, night_key: np.ndarray, end: np.ndarray,
                      columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``model_inputs._long_inputs`` of every row: the newest ``LONG_GAMES`` games of the
    ``LONG_WINDOW_DAYS`` before the night, summed newest first."""
    first = np.searchsorted(key, night_key - LONG_WINDOW_DAYS, side="left")
    games = np.clip(end - first, 0, LONG_GAMES)  # ``end`` is 0 for a player without logs
    minutes, points = np.zeros(len(end)), np.zeros(len(end))
    for k in range(LONG_GAMES):
        index = np.maximum(end - 1 - k, 0)
        there = games > k
        if not there.any():
            break
        minutes = minutes + np.where(there, columns["minutes"][index], 0.0)
        points = points + np.where(there, columns["points"][index], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {f"points_avg_last_{LONG_GAMES}": _known(games, points / games),
                f"points_per_minute_last_{LONG_GAMES}": _known(games,
                                                               points / np.maximum(minutes, 1.0))}
