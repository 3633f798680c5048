"""Stage 4 completeness and the production-ready rule (DESIGN.md §4)."""

from __future__ import annotations

import pandas as pd

from tipoff.domain.features import (
    COMPLETENESS_READY_MIN,
    COMPLETENESS_WINDOW,
    QUALITY_READY_MIN,
    SMALL_SEASON_MIN_GAMES,
)
from tipoff.domain.stage4.context import Context, per_player, per_player_rows

EARLY_SEASON_ISSUE = "early season"


def completeness(ctx: Context) -> pd.DataFrame:
    """Expected games (team's last ≤ 10 this season), games the player logged since, and the %.

    ``actual`` counts the player's logs for any team since the date of the team's
    ``expected``-th most recent game, so a traded player's games for both teams count.
    """
    index = ctx.roster.index
    dates = ctx.team_dates[ctx.team_dates["game_date"] >= ctx.season_start]
    recent = dates[dates.groupby("team").cumcount() < COMPLETENESS_WINDOW]
    window = recent.groupby("team")["game_date"].agg(expected="size", since="min")
    team = per_player_rows(window, ctx.roster["team"])
    expected = team["expected"].fillna(0).astype(int)
    mine = ctx.logs[ctx.logs["player_lookup"].isin(index)]
    since = per_player(team["since"], mine["player_lookup"])
    logged = (mine["game_date"] >= since).groupby(mine["player_lookup"]).sum()
    actual = logged.reindex(index, fill_value=0).astype(int).clip(upper=expected)
    pct = (100 * actual / expected.where(expected > 0)).fillna(100.0).round(2)
    return pd.DataFrame({"expected": expected, "actual": actual, "pct": pct})


def readiness_issues(
    *,
    expected: int,
    actual: int,
    season_games: int,
    quality: float,
    injury_status: str,
    opponent_data: bool,
) -> list[str]:
    """Every reason the row is not production ready, as short readable strings ([] = ready)."""
    issues = []
    if expected == COMPLETENESS_WINDOW and actual / expected < COMPLETENESS_READY_MIN:
        issues.append(f"completeness {actual}/{expected} below {COMPLETENESS_READY_MIN:.0%}")
    if expected < COMPLETENESS_WINDOW and season_games < SMALL_SEASON_MIN_GAMES:
        issues.append(f"only {season_games} season games (need {SMALL_SEASON_MIN_GAMES})")
    if quality < QUALITY_READY_MIN:
        issues.append(f"quality {quality:g} below {QUALITY_READY_MIN:g}")
    if injury_status == "out":
        issues.append("injury status out")
    if not opponent_data:
        issues.append("no opponent team data")
    return issues
