"""Stage 4 features from the team, the opponent and the game: pace, ratings, rest, injuries.

Team windows use D's season before D, newest first (rank ``r``): the team's last 10 games and
the opponent's last 15. See `tipoff.domain.stage4.builder` for the formula table.
"""

from __future__ import annotations

import pandas as pd

from tipoff.domain.features import INJURY_RISK
from tipoff.domain.stage4.context import Context, Tagged, always, per_player, per_player_rows, tag
from tipoff.domain.stage4.player import MAX_DAYS_REST

TEAM_WINDOW = 10
OPPONENT_WINDOW = 15
AVAILABLE = "available"


def team_features(ctx: Context, player_rest: pd.Series) -> dict[str, Tagged]:
    """Features 7, 9, 10, 13–17 and 22–24 for every roster player."""
    roster = ctx.roster
    team = _lookup(_means(ctx, TEAM_WINDOW, ["pace", "off_rating"]), roster["team"])
    opp = _lookup(_means(ctx, OPPONENT_WINDOW, ["def_rating", "pace"]), roster["opponent"])
    return {
        "pace_score": _pace_score(ctx, team, opp),
        "rest_advantage": _rest_advantage(ctx, player_rest),
        "injury_risk": always(injury_status(ctx).map(INJURY_RISK)),
        "opponent_def_rating": tag("opponent_def_rating", opp["def_rating"], opp["n"], 15),
        "opponent_pace": tag("opponent_pace", opp["pace"], opp["n"], 15),
        "home_away": always(roster["is_home"]),
        "back_to_back": always(_played_on(ctx, roster["team"], ctx.day - pd.Timedelta(days=1))),
        "playoff_game": always(roster["playoff"]),
        "team_pace": tag("team_pace", team["pace"], team["n"], 10),
        "team_off_rating": tag("team_off_rating", team["off_rating"], team["n"], 10),
        "team_win_pct": _win_pct(ctx),
    }


def injury_status(ctx: Context) -> pd.Series:
    """The latest status reported before the first tip-off; no report means available."""
    return per_player(ctx.injuries["status"], ctx.roster.index.to_series()).fillna(AVAILABLE)


def opponent_has_data(ctx: Context) -> pd.Series:
    """True when the opponent has at least one team-stats row this season before D."""
    return ctx.roster["opponent"].isin(ctx.team_stats["team"])


def _means(ctx: Context, window: int, columns: list[str]) -> pd.DataFrame:
    recent = ctx.team_stats[ctx.team_stats["r"] < window].groupby("team")
    return recent[columns].mean().assign(n=recent.size())


def _lookup(frame: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    return per_player_rows(frame, keys).fillna({"n": 0})


def _pace_score(ctx: Context, team: pd.DataFrame, opp: pd.DataFrame) -> Tagged:
    league = ctx.team_stats["pace"].mean()
    raw = (((team["pace"] + opp["pace"]) / 2 - league) / 1.5).clip(-3, 3)
    return tag("pace_score", raw, pd.concat([team["n"], opp["n"]], axis=1).min(axis=1), 10)


def _rest_advantage(ctx: Context, player_rest: pd.Series) -> Tagged:
    last = ctx.team_dates.groupby("team")["game_date"].max()
    opponent_last = per_player(last, ctx.roster["opponent"])
    opponent_rest = ((ctx.day - opponent_last).dt.days - 1).clip(upper=MAX_DAYS_REST)
    raw = (player_rest - opponent_rest).clip(-2, 2)
    return tag("rest_advantage", raw, raw.notna().astype(int), 1)


def _played_on(ctx: Context, teams: pd.Series, day: pd.Timestamp) -> pd.Series:
    playing = ctx.team_dates.loc[ctx.team_dates["game_date"] == day, "team"]
    return teams.isin(playing)


def _win_pct(ctx: Context) -> Tagged:
    season = ctx.team_stats.groupby("team")["won"].agg(["sum", "size"])
    rows = _lookup(season.rename(columns={"size": "n"}), ctx.roster["team"])
    raw = (rows["sum"] / rows["n"]).where(rows["n"] >= 5, 0.5)
    return tag("team_win_pct", raw, rows["n"], 5)
