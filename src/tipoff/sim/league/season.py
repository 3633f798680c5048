"""The deterministic synthetic NBA league: a whole regular season of analytics inputs.

``generate_league(season, seed)`` returns the tables of SPEC.md §3 (plus the generator's true
expected points) for 30 teams of 15 players over an 82-game schedule. The same season and seed
always give the same frames. Each part of the league draws from its own random stream, so the
injuries, say, do not shift when the box-score model changes.

Everything is generated for the whole season first and then cut to what was known on the
morning of ``until``, so a league "as of" a date is exactly a prefix of the full season.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from tipoff.domain.analytics import COLUMNS, season_start_year
from tipoff.sim.league.box import (
    PACE_NOISE,
    break_ties,
    draw_minutes,
    form,
    possessions,
    roster_slots,
    share_minutes,
    shares,
    shoot,
    side_expected_points,
    talent_on_hand,
    team_results,
    team_sides,
)
from tipoff.sim.league.injuries import (
    injury_report_frame,
    injury_statuses,
    play_chance,
    play_decisions,
)
from tipoff.sim.league.lines import prop_line_frame
from tipoff.sim.league.schedule import build_schedule
from tipoff.sim.league.teams import (
    build_players,
    build_teams,
    roster_periods,
    trade_deadline,
)

STREAMS = ("teams", "players", "schedule", "trades", "injuries", "decisions", "box", "reports",
           "lines")
BOX_SCORE_TABLES = ("player_game_logs", "team_game_stats", "synthetic_expected_points")
PRE_GAME_TABLES = ("injury_reports", "prop_lines")


def generate_league(season: str, seed: int, until: date | None = None) -> dict[str, pd.DataFrame]:
    """The league's tables for ``season`` (``YYYY-YY``), as known on the morning of ``until``.

    Keys are the table names of ``tipoff.domain.analytics.COLUMNS``, each frame with exactly
    those columns. The schedule (``games``) is always the whole season; box scores cover games
    before ``until``; injury reports and lines cover games up to and including ``until``.
    Raises ValueError for a malformed season or a negative seed.
    """
    start_year = season_start_year(season)
    if seed < 0:
        raise ValueError(f"invalid seed {seed}: must be a non-negative integer")
    tables = _season_tables(season, start_year, seed)
    return tables if until is None else as_known_on(tables, until)


def as_known_on(tables: dict[str, pd.DataFrame], until: date) -> dict[str, pd.DataFrame]:
    """Cut full-season tables to what was known on the morning of ``until``."""
    if isinstance(until, datetime) or not isinstance(until, date):
        raise TypeError(f"until must be a date, not {type(until).__name__}")
    known = {"games": tables["games"]}
    for name in BOX_SCORE_TABLES:
        known[name] = _rows(tables[name], tables[name]["game_date"] < until)
    for name in PRE_GAME_TABLES:
        known[name] = _rows(tables[name], tables[name]["game_date"] <= until)
    return {name: known[name] for name in COLUMNS}


def _rows(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    return frame.loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


class _Streams:
    """Independent random generators per part of the league, all derived from one seed."""

    def __init__(self, seed: int, start_year: int) -> None:
        self.seed, self.start_year = seed, start_year

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.start_year, STREAMS.index(name)])


def _season_tables(season: str, start_year: int, seed: int) -> dict[str, pd.DataFrame]:
    stream = _Streams(seed, start_year)
    teams = build_teams(stream("teams"))
    players = build_players(stream("players"))
    games = build_schedule(stream("schedule"), teams, start_year, season)
    periods = roster_periods(
        stream("trades"), players, trade_deadline(start_year),
        games["game_date"].iloc[0], games["game_date"].iloc[-1],
    )
    sides = team_sides(games)
    slots = _slots(stream, sides, periods, players, games, teams)
    slots = _expectations(slots, sides, teams)
    played, side_stats = _play(stream("box"), slots, sides, teams)
    return {
        "games": games.loc[:, list(COLUMNS["games"])],
        "player_game_logs": played.loc[:, list(COLUMNS["player_game_logs"])],
        "team_game_stats": _team_game_stats(side_stats, sides, games, teams),
        "injury_reports": injury_report_frame(stream("reports"), slots, games["tipoff_utc"]),
        "prop_lines": prop_line_frame(stream("lines"), slots, games["tipoff_utc"]),
        "synthetic_expected_points": played.loc[:, list(COLUMNS["synthetic_expected_points"])],
    }


def _slots(
    stream: _Streams, sides: pd.DataFrame, periods: pd.DataFrame, players: pd.DataFrame,
    games: pd.DataFrame, teams: pd.DataFrame,
) -> pd.DataFrame:
    """Roster slots with the player's attributes, the game's identity and who plays."""
    slots = roster_slots(sides, periods).join(players.drop(columns="team_idx"), on="player_idx")
    game = slots["game"].to_numpy()
    names = teams["team"].to_numpy()
    slots = slots.assign(
        game_id=games["game_id"].to_numpy()[game],
        game_date=games["game_date"].to_numpy()[game],
        team=names[slots["team_idx"]],
        opponent=names[slots["opp_idx"]],
    )
    slots["status"] = injury_statuses(
        stream("injuries"), slots["player_idx"].to_numpy(), slots["day"].to_numpy()
    )
    slots["plays"] = play_decisions(
        stream("decisions"), slots["status"].to_numpy(), slots["dnp"].to_numpy(),
        slots["side"].to_numpy(),
    )
    return slots


def _expectations(slots: pd.DataFrame, sides: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Expected minutes and points of tonight's lineup, and the pre-game projection books use.

    The projection weighs each player by his chance of playing, as nobody knows before tip-off
    which questionable player will suit up.
    """
    side, count = slots["side"].to_numpy(), len(sides)
    base, skill = slots["base_minutes"].to_numpy(), slots["skill"].to_numpy()
    dnp, status = slots["dnp"].to_numpy(), slots["status"].to_numpy()
    healthy = share_minutes(side, base * (1.0 - dnp), count)
    minutes = share_minutes(side, base * slots["plays"].to_numpy(), count)
    talent = talent_on_hand(side, skill, minutes, healthy, count)
    side_points = side_expected_points(sides, teams, talent)[side]
    projected = share_minutes(side, base * play_chance(status, dnp, side), count)
    return slots.assign(
        expected_minutes=minutes,
        expected_points=np.round(side_points * shares(side, skill * minutes, count), 3),
        projected_minutes=projected,
        projected_points=side_points * shares(side, skill * projected, count),
    )


def _play(
    rng: np.random.Generator, slots: pd.DataFrame, sides: pd.DataFrame, teams: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw every played slot's box score line, and each side's pace, ratings and result."""
    played = slots.loc[slots["plays"]].reset_index(drop=True)
    side, count = played["side"].to_numpy(), len(sides)
    expected_pace = possessions(sides, teams)
    pace = expected_pace * rng.lognormal(0.0, PACE_NOISE, len(expected_pace))
    minutes = draw_minutes(
        rng, side, played["expected_minutes"].to_numpy(), played["minutes_noise"].to_numpy(),
        count,
    )
    intensity = (
        played["expected_points"].to_numpy()
        * minutes / played["expected_minutes"].to_numpy()
        * (pace / expected_pace)[played["game"].to_numpy()]
        * form(rng, len(played))
    )
    box = break_ties(rng, side, minutes, shoot(rng, side, intensity, played, count), count)
    played = pd.concat([played, box], axis=1).assign(
        minutes=minutes,
        rebounds=rng.poisson(played["rebound_rate"].to_numpy() * minutes),
        assists=rng.poisson(played["assist_rate"].to_numpy() * minutes),
        started=_starters(played),
    )
    return played, team_results(side, box["points"].to_numpy(), pace, count)


def _starters(played: pd.DataFrame) -> np.ndarray:
    """The five players of each side with the largest role (base minutes) start."""
    ranked = played.sort_values(["side", "base_minutes"], ascending=[True, False])
    depth = ranked.groupby("side").cumcount()
    return (depth < 5).reindex(played.index).to_numpy()


def _team_game_stats(
    stats: pd.DataFrame, sides: pd.DataFrame, games: pd.DataFrame, teams: pd.DataFrame
) -> pd.DataFrame:
    game = sides["game"].to_numpy()
    frame = stats.assign(
        game_id=games["game_id"].to_numpy()[game],
        team=teams["team"].to_numpy()[sides["team_idx"].to_numpy()],
        game_date=games["game_date"].to_numpy()[game],
    )
    return frame.loc[:, list(COLUMNS["team_game_stats"])]
