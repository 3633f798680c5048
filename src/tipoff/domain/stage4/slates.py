"""The typed league history and, for many game dates at once, each night's slate and roster.

Every date's cut-offs and rules (season start, first tip-off, early-season placeholders, the
roster's latest-log rule) are worked out in one pass. Teams and players are numbered (codes in
sorted order), days are day numbers (days since 1970-01-01), so every later step is an array
lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tipoff.domain import analytics
from tipoff.domain.features import EARLY_SEASON_DAYS, INJURY_RISK
from tipoff.domain.stage4.timeline import Timeline

ROSTER_LOOKBACK_DAYS = 365  # the first week's placeholder rosters look back a year
_LOG_NUMBERS = (
    "minutes", "points", "fga", "fgm", "fg3a", "fg3m", "fta", "ftm", "paint_fga", "mid_fga",
)
# The player-log columns the formulas read (stage 4 asks the store for these only).
LOG_COLUMNS = ("game_id", "game_date", "player_lookup", "player_name", "team", "opponent",
               *_LOG_NUMBERS)
_TEAM_NUMBERS = ("pace", "off_rating", "def_rating", "won")


@dataclass(frozen=True)
class League:
    """Every analytics input, typed, with teams and players numbered and days as integers.

    ``logs`` is sorted by (player, day, game_id) and ``stats`` by (team, day, game_id), as
    the builder orders them; ``team_days`` is every distinct (team, day) with a scheduled
    game or a team-stats row.
    """

    teams: np.ndarray  # team names by code
    players: np.ndarray  # player_lookup by code
    games: pd.DataFrame
    logs: pd.DataFrame
    stats: pd.DataFrame
    team_days: pd.DataFrame
    injuries: pd.DataFrame


def day_numbers(values) -> np.ndarray:
    """Dates (or anything pandas reads as one) as int64 days since 1970-01-01."""
    stamps = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]").dt.normalize()
    return stamps.to_numpy().astype("datetime64[D]").astype(np.int64)


def to_date(day: int) -> date:
    """A day number back to a date."""
    return pd.Timestamp(np.datetime64(int(day), "D")).date()


def league(games: pd.DataFrame, logs: pd.DataFrame, team_stats: pd.DataFrame,
           injuries: pd.DataFrame) -> League:
    """Type and number the four analytics tables (columns as in `analytics`)."""
    games = _checked(games, analytics.GAMES, "games")
    logs = _checked(logs, LOG_COLUMNS, "player_game_logs")
    stats = _checked(team_stats, analytics.TEAM_GAME_STATS, "team_game_stats")
    teams = np.array(sorted(set(games["home_team"]) | set(games["away_team"])
                            | set(logs["team"]) | set(logs["opponent"]) | set(stats["team"])),
                     dtype=object)
    team_code = {team: code for code, team in enumerate(teams)}
    games = _games(games, team_code)
    logs, players = _logs(logs, team_code)
    stats = _stats(stats, team_code)
    return League(teams, players, games, logs, stats, _team_days(games, stats),
                  _injuries(injuries, {p: c for c, p in enumerate(players)}))


def _checked(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"{name} is missing columns {missing}")
    return frame.reindex(columns=list(columns)).copy()


def _codes(values: pd.Series, code: dict) -> np.ndarray:
    return values.map(code).to_numpy(dtype=np.int64)


def _games(games: pd.DataFrame, team_code: dict) -> pd.DataFrame:
    games["day"] = day_numbers(games["game_date"])
    games["tipoff_utc"] = pd.to_datetime(games["tipoff_utc"], utc=True)
    games["home"] = _codes(games["home_team"], team_code)
    games["away"] = _codes(games["away_team"], team_code)
    return games.sort_values(["day", "tipoff_utc", "game_id"], kind="stable").reset_index(drop=True)


def _logs(logs: pd.DataFrame, team_code: dict) -> tuple[pd.DataFrame, np.ndarray]:
    logs["day"] = day_numbers(logs["game_date"])
    for column in _LOG_NUMBERS:
        logs[column] = pd.to_numeric(logs[column]).astype(float)
    logs = logs.sort_values(["player_lookup", "day", "game_id"], kind="stable")
    players, code = np.unique(logs["player_lookup"].to_numpy(dtype=object), return_inverse=True)
    logs = logs.assign(player=code.astype(np.int64), team_code=_codes(logs["team"], team_code),
                       opponent_code=_codes(logs["opponent"], team_code))
    return logs.reset_index(drop=True), players


def _stats(stats: pd.DataFrame, team_code: dict) -> pd.DataFrame:
    stats["day"] = day_numbers(stats["game_date"])
    for column in _TEAM_NUMBERS:
        stats[column] = pd.to_numeric(stats[column]).astype(float)
    stats["team_code"] = _codes(stats["team"], team_code)
    return stats.sort_values(["team_code", "day", "game_id"], kind="stable").reset_index(drop=True)


def _team_days(games: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    sides = pd.concat([
        pd.DataFrame({"team_code": games["home"], "day": games["day"]}),
        pd.DataFrame({"team_code": games["away"], "day": games["day"]}),
        stats[["team_code", "day"]],
    ])
    return sides.drop_duplicates().sort_values(["team_code", "day"]).reset_index(drop=True)


def _injuries(injuries: pd.DataFrame, player_code: dict) -> pd.DataFrame:
    frame = _checked(injuries, analytics.INJURY_REPORTS, "injury_reports")
    frame["day"] = day_numbers(frame["game_date"]) if len(frame) else np.zeros(0, np.int64)
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    frame["status"] = frame["status"].astype(str).str.strip().str.lower()
    frame["player"] = frame["player_lookup"].map(player_code).fillna(-1).astype(np.int64)
    return frame


# --- the nights ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nights:
    """One row per requested date that has games: the night's facts (``table``), its
    slate's teams (``sides``: night, team, opponent, is_home, game_id, playoff) and its
    latest injury status per player (``injuries``: night, player, status)."""

    table: pd.DataFrame  # date, day, season_start, first_tipoff, early, window_start
    sides: pd.DataFrame
    injuries: pd.DataFrame


def nights(lg: League, dates: Sequence[date], history_days: int) -> Nights:
    """The nights among ``dates`` with a game, seeing the schedule of the ``history_days``
    before each (the live path's input window)."""
    games = lg.games
    days = sorted(set(day_numbers(list(dates)).tolist())) if len(dates) else []
    on = games[games["day"].isin(days)]
    first = on.drop_duplicates("day")  # games are sorted by day, tip-off, game_id
    starts = [_season_start(games, int(day), season, history_days)
              for day, season in zip(first["day"], first["season"])]
    table = pd.DataFrame({
        "date": [to_date(d) for d in first["day"]],
        "day": first["day"].to_numpy(np.int64),
        "season_start": np.array(starts, dtype=np.int64),
        "first_tipoff": on.groupby("day")["tipoff_utc"].min().reindex(first["day"]).to_numpy(),
        "window_start": first["day"].to_numpy(np.int64) - history_days,
    })
    table["early"] = table["day"] < table["season_start"] + EARLY_SEASON_DAYS
    table["night"] = np.arange(len(table))
    return Nights(table, _sides(on, table), _latest_reports(lg.injuries, table))


def _season_start(games: pd.DataFrame, day: int, season, history_days: int) -> int:
    days = games["day"].to_numpy()
    window = games.iloc[days.searchsorted(day - history_days):days.searchsorted(day, "right")]
    return int(window.loc[window["season"] == season, "day"].min())


def _sides(on: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    night = pd.Series(table["night"].to_numpy(), index=table["day"].to_numpy())
    home = pd.DataFrame({"team": on["home"], "opponent": on["away"], "is_home": True})
    away = pd.DataFrame({"team": on["away"], "opponent": on["home"], "is_home": False})
    common = {"night": night.reindex(on["day"]).to_numpy(), "tipoff_utc": on["tipoff_utc"],
              "game_id": on["game_id"], "playoff": on["season_phase"] == "playoffs"}
    sides = pd.concat([home.assign(**common), away.assign(**common)])
    sides = sides.sort_values(["night", "tipoff_utc", "game_id"], kind="stable")
    # A team listed twice on one date plays its earlier game; the later one is not this slate's.
    sides = sides.drop_duplicates(["night", "team"], keep="first")
    return sides.drop(columns="tipoff_utc").reset_index(drop=True)


def _latest_reports(injuries: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Each player's latest report for each night made before its first tip-off."""
    joined = injuries.merge(table[["day", "night", "first_tipoff"]], on="day")
    known = joined[joined["reported_at"] < joined["first_tipoff"]]
    unknown = sorted(set(known["status"]) - set(INJURY_RISK))
    if unknown:
        raise ValueError(f"unknown injury status {unknown}: expected one of {list(INJURY_RISK)}")
    ordered = known.sort_values(["night", "player_lookup", "reported_at", "status"],
                                kind="stable")
    latest = ordered.drop_duplicates(["night", "player_lookup"], keep="last")
    return latest[["night", "player", "status"]]


# --- rosters ---------------------------------------------------------------------------------


def rosters(lg: League, slate: Nights) -> pd.DataFrame:
    """Every (night, player) row stage 4 builds, ordered by night then player_lookup.

    A player's latest log before D (this season; within ``ROSTER_LOOKBACK_DAYS`` during the
    early-season days) decides their team; players of a team on the slate get a row.
    """
    table = slate.table
    logs = Timeline(lg.logs["player"].to_numpy(), lg.logs["day"].to_numpy())
    n_players = len(lg.players)
    night = np.repeat(table["night"].to_numpy(), n_players)
    player = np.tile(np.arange(n_players, dtype=np.int64), len(table))
    day = table["day"].to_numpy()[night]
    since = np.where(table["early"].to_numpy(), table["day"] - ROSTER_LOOKBACK_DAYS,
                     table["season_start"])[night]
    end = logs.before(player, day)
    latest = end - 1
    found = ~np.isnan(logs.last_day(player, end, since))
    rows = pd.DataFrame({"night": night[found], "player": player[found],
                         "latest": latest[found]})
    rows["team"] = lg.logs["team_code"].to_numpy()[rows["latest"].to_numpy()]
    rows = rows.merge(slate.sides, on=["night", "team"])
    return rows.sort_values(["night", "player"], kind="stable").reset_index(drop=True)
