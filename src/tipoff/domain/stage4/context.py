"""Stage 4 inputs made safe: typed columns, the leakage cut-off, the slate and its roster.

Everything the feature formulas see passes through `prepare`, which drops every fact that was
not known before the slate's first tip-off. The formulas therefore cannot leak, whatever the
caller hands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from tipoff.domain import analytics
from tipoff.domain.features import (
    COMPUTED,
    DEFAULT,
    DEFAULTS,
    EARLY_SEASON_DAYS,
    INJURY_RISK,
    PARTIAL,
)

ROSTER_LOOKBACK_DAYS = 365
_LOG_NUMBERS = (
    "minutes", "points", "fga", "fgm", "fg3a", "fg3m", "fta", "ftm", "paint_fga", "mid_fga",
)
# The player-log columns the formulas read (stage 4 asks the store for these only).
LOG_COLUMNS = ("game_id", "game_date", "player_lookup", "player_name", "team", "opponent",
               *_LOG_NUMBERS)
_TEAM_NUMBERS = ("pace", "off_rating", "def_rating", "won")


class Tagged(NamedTuple):
    """One feature for every roster player: values and source tags, indexed by player_lookup."""

    value: pd.Series
    source: pd.Series


@dataclass(frozen=True)
class Context:
    """The leakage-free view of the inputs for one game date.

    ``logs`` holds every player log before D; ``season_logs`` those of D's season, newest first
    per player with their rank ``k`` (0 = newest). ``team_stats`` holds D's season before D,
    newest first per team with rank ``r``. ``team_dates`` is every (team, game_date) before D
    known from the schedule or the team stats. ``injuries`` is each player's latest report for D
    made before the first tip-off.
    """

    day: pd.Timestamp
    season_start: pd.Timestamp
    first_tipoff: pd.Timestamp
    early_season: bool
    roster: pd.DataFrame
    logs: pd.DataFrame
    season_logs: pd.DataFrame
    team_stats: pd.DataFrame
    team_dates: pd.DataFrame
    injuries: pd.DataFrame

    @cached_property
    def last_game(self) -> pd.Series:
        """Each roster player's latest game date before D (any season); NaT without one."""
        return self.logs.groupby("player_lookup")["game_date"].max().reindex(self.roster.index)


def prepare(
    game_date: date,
    games: pd.DataFrame,
    logs: pd.DataFrame,
    team_stats: pd.DataFrame,
    injuries: pd.DataFrame,
) -> Context | None:
    """Type, cut and index the inputs for ``game_date``; None when no game is played that day."""
    day = pd.Timestamp(game_date)
    schedule = _schedule(games, day)
    slate = schedule[schedule["game_date"] == day]
    if slate.empty:
        return None
    season = slate["season"].iloc[0]
    season_start = schedule.loc[schedule["season"] == season, "game_date"].min()
    first_tipoff = slate["tipoff_utc"].min()
    early = bool(day < season_start + pd.Timedelta(days=EARLY_SEASON_DAYS))
    before = _logs(logs, day)
    roster_from = day - pd.Timedelta(days=ROSTER_LOOKBACK_DAYS) if early else season_start
    stats = _team_stats(team_stats, day)
    return Context(
        day=day,
        season_start=season_start,
        first_tipoff=first_tipoff,
        early_season=early,
        roster=_roster(before[before["game_date"] >= roster_from], slate),
        logs=before,
        season_logs=_ranked(before[before["game_date"] >= season_start], "player_lookup", "k"),
        team_stats=_ranked(stats[stats["game_date"] >= season_start], "team", "r"),
        team_dates=_team_dates(schedule[schedule["game_date"] < day], stats),
        injuries=_latest_reports(injuries, day, first_tipoff),
    )


def tag(name: str, raw: pd.Series, count: pd.Series, full: int, minimum: int = 1) -> Tagged:
    """Source by window size (``full`` → computed, ``minimum`` → partial); default on no value."""
    counts = count.to_numpy(float) if count.index.equals(raw.index) else (
        count.reindex(raw.index).to_numpy(float))
    counts = np.nan_to_num(counts, nan=0.0)
    values = raw.to_numpy(float)
    missing = np.isnan(values) | (counts < minimum)
    source = np.select([missing, counts >= full], [DEFAULT, COMPUTED], PARTIAL)
    value = np.where(missing, DEFAULTS[name], values)
    return Tagged(pd.Series(value, index=raw.index),
                  pd.Series(source, index=raw.index, dtype=object))


def always(raw: pd.Series) -> Tagged:
    """A feature that is known for every player (source computed)."""
    return Tagged(raw.astype(float), pd.Series(COMPUTED, index=raw.index, dtype=object))


def per_player(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Look ``values`` (indexed by team or player) up for each roster key, keeping its index."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def per_player_rows(frame: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """``per_player`` for a frame: the row of each roster key (NaN when absent)."""
    return frame.reindex(keys.to_numpy()).set_axis(keys.index)


def _checked(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"{name} is missing columns {missing}")
    return frame.reindex(columns=list(columns))


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).astype("datetime64[ns]").dt.normalize()


def _schedule(games: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    frame = _checked(games, analytics.GAMES, "games")
    frame["game_date"] = _dates(frame["game_date"])
    frame["tipoff_utc"] = pd.to_datetime(frame["tipoff_utc"], utc=True)
    frame = frame[frame["game_date"] <= day]
    return frame.sort_values(["game_date", "tipoff_utc", "game_id"], kind="stable")


def _logs(logs: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    frame = _checked(logs, LOG_COLUMNS, "player_game_logs")
    dates = _dates(frame["game_date"])
    keep = (dates < day).to_numpy()
    columns = {name: frame[name].to_numpy()[keep] for name in LOG_COLUMNS}
    columns["game_date"] = dates.to_numpy()[keep]
    for name in _LOG_NUMBERS:
        columns[name] = pd.to_numeric(frame[name]).astype(float).to_numpy()[keep]
    typed = pd.DataFrame(columns, index=frame.index[keep])
    return typed.sort_values(["player_lookup", "game_date", "game_id"], kind="stable")


def _team_stats(stats: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    frame = _checked(stats, analytics.TEAM_GAME_STATS, "team_game_stats")
    frame["game_date"] = _dates(frame["game_date"])
    frame = frame[frame["game_date"] < day]
    for column in _TEAM_NUMBERS:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame.sort_values(["team", "game_date", "game_id"], kind="stable")


def _ranked(frame: pd.DataFrame, key: str, rank: str) -> pd.DataFrame:
    """Newest first within ``key``, numbered 0, 1, 2… in column ``rank``."""
    ordered = frame.sort_values(
        [key, "game_date", "game_id"], ascending=[True, False, False], kind="stable"
    )
    return ordered.assign(**{rank: ordered.groupby(key).cumcount()})


def _slate_teams(slate: pd.DataFrame) -> pd.DataFrame:
    home = slate.assign(team=slate["home_team"], opponent=slate["away_team"], is_home=True)
    away = slate.assign(team=slate["away_team"], opponent=slate["home_team"], is_home=False)
    sides = pd.concat([home, away]).sort_values(["tipoff_utc", "game_id"], kind="stable")
    sides["playoff"] = sides["season_phase"] == "playoffs"
    # A team listed twice on one date plays its earlier game; the later one is not this slate's.
    sides = sides.drop_duplicates("team", keep="first")
    return sides[["team", "opponent", "is_home", "game_id", "playoff"]]


def _roster(recent_logs: pd.DataFrame, slate: pd.DataFrame) -> pd.DataFrame:
    """Each player's latest log decides their team; players of a team on the slate get a row."""
    latest = recent_logs.drop_duplicates("player_lookup", keep="last")
    rows = latest[["player_lookup", "player_name", "team"]].merge(_slate_teams(slate), on="team")
    return rows.set_index("player_lookup").sort_index()


def _team_dates(schedule: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    sides = [
        schedule[["home_team", "game_date"]].rename(columns={"home_team": "team"}),
        schedule[["away_team", "game_date"]].rename(columns={"away_team": "team"}),
        stats[["team", "game_date"]],
    ]
    dates = pd.concat(sides).drop_duplicates()
    return dates.sort_values(["team", "game_date"], ascending=[True, False], kind="stable")


def _latest_reports(
    injuries: pd.DataFrame, day: pd.Timestamp, first_tipoff: pd.Timestamp
) -> pd.DataFrame:
    frame = _checked(injuries, analytics.INJURY_REPORTS, "injury_reports")
    frame["game_date"] = _dates(frame["game_date"])
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    frame["status"] = frame["status"].astype(str).str.strip().str.lower()
    known = frame[(frame["game_date"] == day) & (frame["reported_at"] < first_tipoff)]
    unknown = sorted(set(known["status"]) - set(INJURY_RISK))
    if unknown:
        raise ValueError(f"unknown injury status {unknown}: expected one of {list(INJURY_RISK)}")
    ordered = known.sort_values(["player_lookup", "reported_at", "status"], kind="stable")
    latest = ordered.drop_duplicates("player_lookup", keep="last")
    return latest.set_index("player_lookup")[["status", "reported_at"]]
