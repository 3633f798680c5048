"""Stage 4 feature 6: the player's shot mix against the opponent's shot defence.

What a defence allows is read from the logs of the players who faced it (``opponent`` = that
team) in its last 15 games this season; the league baseline is every log over the same dates.
"""

from __future__ import annotations

import pandas as pd

from tipoff.domain.features import COMPUTED, DEFAULT
from tipoff.domain.stage4.context import Context, Tagged, per_player, per_player_rows, tag

ZONE_WINDOW = 15
THREE_WEIGHT = 1.5


def shot_zone_mismatch(ctx: Context, pct_three: Tagged, pct_paint: Tagged) -> Tagged:
    """Feature 6 for every roster player, from their L10 shot mix (features 18 and 20)."""
    allowed = _allowed(ctx.season_logs)
    league = _league_since(ctx.season_logs, allowed["start"])
    opp = per_player_rows(_rates(allowed), ctx.roster["opponent"])
    base = per_player_rows(_rates(league), ctx.roster["opponent"])
    p3 = pct_three.value
    delta = opp - base
    score = 100 * ((1 - p3) * delta["two"].fillna(0) + THREE_WEIGHT * p3 * delta["three"].fillna(0))
    zone = (pct_paint.source != DEFAULT) & delta["paint"].notna()
    score = score + (10 * pct_paint.value * delta["paint"]).where(zone, 0.0)
    games = per_player(allowed["games"], ctx.roster["opponent"]).fillna(0)
    complete = ctx.roster["opponent"].isin(allowed.index[allowed["unzoned"] == 0])
    return _tagged(score.clip(-10, 10), ctx, games, zone & complete, pct_paint)


def _tagged(
    raw: pd.Series, ctx: Context, games: pd.Series, zoned: pd.Series, pct_paint: Tagged
) -> Tagged:
    mine = ctx.season_logs[ctx.season_logs["k"] < 10]
    l10 = mine.groupby("player_lookup").size().reindex(raw.index, fill_value=0)
    usable = (l10 > 0) & (games > 0)
    full = (pct_paint.source == COMPUTED) & (games >= ZONE_WINDOW) & zoned
    # tag() grades by a count: 2 = full (computed), 1 = some data (partial), 0 = none (default).
    grade = usable.astype(int) + (usable & full).astype(int)
    return tag("shot_zone_mismatch_score", raw.where(usable), grade, full=2)


def _parts(logs: pd.DataFrame) -> pd.DataFrame:
    """Per-log summands of the allowed-efficiency ratios."""
    zoned = logs["paint_fga"].notna()
    return pd.DataFrame(
        {
            "two_made": logs["fgm"] - logs["fg3m"],
            "two_att": logs["fga"] - logs["fg3a"],
            "three_made": logs["fg3m"],
            "three_att": logs["fg3a"],
            "paint": logs["paint_fga"].fillna(0.0),
            "zoned_att": logs["fga"].where(zoned, 0.0),
            "unzoned": (~zoned).astype(float),
        },
        index=logs.index,
    )


def _allowed(logs: pd.DataFrame) -> pd.DataFrame:
    """What each defence allowed over its last 15 games, with the window's size and start."""
    games = logs[["opponent", "game_id", "game_date"]].drop_duplicates(["opponent", "game_id"])
    games = games.sort_values(
        ["opponent", "game_date", "game_id"], ascending=[True, False, False], kind="stable"
    )
    recent = games[games.groupby("opponent").cumcount() < ZONE_WINDOW]
    faced = logs.merge(recent[["opponent", "game_id"]], on=["opponent", "game_id"])
    sums = _parts(faced).groupby(faced["opponent"]).sum()
    window = recent.groupby("opponent")["game_date"].agg(games="size", start="min")
    return sums.join(window)


def _league_since(logs: pd.DataFrame, starts: pd.Series) -> pd.DataFrame:
    """League sums over all logs from each defence's window start up to D."""
    daily = _parts(logs).groupby(logs["game_date"]).sum().sort_index(ascending=False)
    since = daily.cumsum().reindex(starts.to_numpy())
    return since.set_axis(starts.index)


def _rates(sums: pd.DataFrame) -> pd.DataFrame:
    def ratio(top: str, bottom: str) -> pd.Series:
        return sums[top] / sums[bottom].where(sums[bottom] > 0)

    return pd.DataFrame(
        {
            "two": ratio("two_made", "two_att"),
            "three": ratio("three_made", "three_att"),
            "paint": ratio("paint", "zoned_att"),
        }
    )
