"""Stage 4 features from the player's own games: scoring, workload, usage and shot mix.

All windows are the player's games of D's season before D, newest first (rank ``k``):
L3 = k < 3, L5 = k < 5, L10 = k < 10. See `tipoff.domain.stage4.builder` for the formula table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipoff.domain.stage4.context import Context, Tagged, always, tag

FREE_THROW_WEIGHT = 0.44  # the usual possession weight of a free-throw attempt
MAX_DAYS_REST = 7


def player_features(ctx: Context) -> dict[str, Tagged]:
    """Features 0–5, 8, 11, 12 and 18–21 for every roster player."""
    index = ctx.roster.index
    season_logs = _with_usage(ctx.season_logs)
    mine = season_logs[season_logs["player_lookup"].isin(index)]
    season = _window(mine, index)
    l10 = _window(mine[mine["k"] < 10], index)
    l5 = _window(mine[mine["k"] < 5], index)
    l3 = _window(mine[mine["k"] < 3], index)
    week = _games_since(ctx, days=7)
    features = {
        "points_avg_last_5": tag("points_avg_last_5", l5["points"], l5["n"], 5),
        "points_avg_last_10": tag("points_avg_last_10", l10["points"], l10["n"], 10),
        "points_avg_season": tag("points_avg_season", season["points"], season["n"], 10),
        "points_std_last_10": tag("points_std_last_10", l10["std"], l10["n"], 10, minimum=2),
        "games_in_last_7_days": always(week),
        "fatigue_score": _fatigue(ctx, l3, week),
        "usage_spike_score": _usage_spike(season, l3),
        "recent_trend": _recent_trend(mine, season, l5),
        "minutes_change": _minutes_change(season, l10),
    }
    return features | _shot_mix(l10)


def days_rest(ctx: Context) -> pd.Series:
    """Days between the player's last game and D minus one (back-to-back = 0), capped at 7."""
    return ((ctx.day - ctx.last_game).dt.days - 1).clip(upper=MAX_DAYS_REST)


def season_games(ctx: Context) -> pd.Series:
    """Number of the player's games this season before D."""
    counts = ctx.season_logs.groupby("player_lookup").size()
    return counts.reindex(ctx.roster.index, fill_value=0)


def _with_usage(logs: pd.DataFrame) -> pd.DataFrame:
    """Share of the team's shot load in each game (team total over every log of that game)."""
    load = logs["fga"] + FREE_THROW_WEIGHT * logs["fta"]
    team_load = load.groupby([logs["game_id"], logs["team"]]).transform("sum")
    return logs.assign(usage=load / team_load.where(team_load > 0))


def _window(logs: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Per-player sizes, means and sums of a window, one grouped pass per kind of aggregate."""
    grouped = logs.groupby("player_lookup")
    means = grouped[["points", "minutes", "usage"]].mean()
    sums = grouped[["points", "fga", "fg3a", "ftm", "paint_fga", "mid_fga"]].sum()
    zone_missing = (logs["paint_fga"].isna() | logs["mid_fga"].isna()).astype(float)
    stats = pd.DataFrame({
        "n": grouped.size(),
        "points": means["points"],
        "std": grouped["points"].std(),
        "minutes": means["minutes"],
        "usage": means["usage"],
        "points_sum": sums["points"],
        "fga": sums["fga"],
        "fg3a": sums["fg3a"],
        "ftm": sums["ftm"],
        "paint": sums["paint_fga"],
        "mid": sums["mid_fga"],
        "zone_missing": zone_missing.groupby(logs["player_lookup"]).max(),
    })
    return stats.reindex(index).fillna({"n": 0})


def _games_since(ctx: Context, days: int) -> pd.Series:
    recent = ctx.logs[ctx.logs["game_date"] >= ctx.day - pd.Timedelta(days=days)]
    return recent.groupby("player_lookup").size().reindex(ctx.roster.index, fill_value=0)


def _fatigue(ctx: Context, l3: pd.DataFrame, week: pd.Series) -> Tagged:
    yesterday = ctx.logs[ctx.logs["game_date"] == ctx.day - pd.Timedelta(days=1)]
    played = ctx.roster.index.isin(yesterday["player_lookup"]).astype(float)
    heavy_week = (week - 3).clip(lower=0)
    heavy_minutes = (l3["minutes"] - 30).clip(lower=0)
    raw = 100 - 15 * played - 5 * heavy_week - 1.5 * heavy_minutes
    return tag("fatigue_score", raw.clip(0, 100), l3["n"], 3)


def _usage_spike(season: pd.DataFrame, l3: pd.DataFrame) -> Tagged:
    base = season["usage"]
    change = (10 * (l3["usage"] - base) / base.where(base > 0)).fillna(0)
    raw = change.clip(-3, 3).where(season["n"] > 0)
    return tag("usage_spike_score", raw, season["n"], 10, minimum=3)


def _recent_trend(mine: pd.DataFrame, season: pd.DataFrame, l5: pd.DataFrame) -> Tagged:
    index = season.index
    newest = mine[mine["k"] < 2].groupby("player_lookup")["points"].mean().reindex(index)
    oldest = mine[mine["k"].between(2, 4)].groupby("player_lookup")["points"].mean()
    scale = season["points"].clip(lower=5)
    raw = (10 * (newest - oldest.reindex(index)) / scale).clip(-2, 2)
    return tag("recent_trend", raw, l5["n"], 5, minimum=5)


def _minutes_change(season: pd.DataFrame, l10: pd.DataFrame) -> Tagged:
    base = season["minutes"]
    # Rounded so that an exact 10% / 20% change is not lost to float noise.
    ratio = ((l10["minutes"] - base) / base.where(base > 0)).fillna(0).round(9)
    size = np.select([ratio.abs() >= 0.2, ratio.abs() >= 0.1], [2.0, 1.0], 0.0)
    raw = (np.sign(ratio) * size).where(season["n"] > 0)
    return tag("minutes_change", raw, season["n"], 10, minimum=3)


def _shot_mix(l10: pd.DataFrame) -> dict[str, Tagged]:
    shots = l10["fga"].where(l10["fga"] > 0)
    zoned = shots.where(l10["zone_missing"] == 0)
    free_throw = (l10["ftm"] / l10["points_sum"].where(l10["points_sum"] > 0)).clip(0, 0.5)
    raws = {
        "pct_paint": l10["paint"] / zoned,
        "pct_mid_range": l10["mid"] / zoned,
        "pct_three": l10["fg3a"] / shots,
        "pct_free_throw": free_throw,
    }
    return {name: tag(name, raw, l10["n"], 10) for name, raw in raws.items()}
