"""A player's recent games described as they looked before tip-off (input of the similarity and
minutes-role systems: points, form, rest, opponent rating, minutes and whether they started)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd

from tipoff.domain.features import DEFAULTS
from tipoff.domain.systems.similarity import WINDOW_DAYS, PastGame

# Form and opponent ratings need games before the window starts.
LOOKBACK = timedelta(days=WINDOW_DAYS + 60)
MAX_REST = 7
# The box-score columns ``past_games`` reads (a worker asks the store for these only).
HISTORY_COLUMNS = ("game_id", "game_date", "player_lookup", "opponent", "is_home", "points",
                   "minutes", "started")


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
               players: Iterable[str] | None = None) -> dict[str, list[PastGame]]:
    """Every player's games of the last 90 days before ``game_date``, newest first (only
    ``players``' when given: a worker's batch needs no one else's)."""
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
    recent = frame[frame["days_ago"] <= WINDOW_DAYS].sort_values("days_ago", kind="stable")
    return _by_player(recent)


def _by_player(recent: pd.DataFrame) -> dict[str, list[PastGame]]:
    """PastGames grouped by player, built from plain columns (no per-row pandas objects)."""
    minutes = (recent["minutes"].astype(float).fillna(0.0) if "minutes" in recent
               else pd.Series(0.0, index=recent.index))
    started = (recent["started"].fillna(False).astype(bool) if "started" in recent
               else pd.Series(False, index=recent.index))
    columns = zip(recent["player_lookup"].tolist(), recent["days_ago"].astype(int).tolist(),
                  recent["points"].astype(float).tolist(),
                  recent["opp_def_before"].astype(float).tolist(),
                  recent["days_rest"].astype(int).tolist(),
                  recent["is_home"].astype(bool).tolist(), recent["form"].astype(float).tolist(),
                  minutes.tolist(), started.tolist())
    history: dict[str, list[PastGame]] = {}
    for player, days_ago, points, rating, rest, home, form, played, start in columns:
        history.setdefault(player, []).append(
            PastGame(days_ago, points, rating, rest, home, form, played, start))
    return history
