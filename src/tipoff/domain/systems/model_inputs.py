"""What ``xgboost_v1`` reads: the 25 stage 4 features, then the role inputs below.

The role inputs come from the player's box-score history (``PastGame``, newest first, the same
365 days the worker and the backtest read; all but the last two from its newest 90 days, the
similarity system's window) and tonight's slate (``RoleContext``):

    minutes_avg_last_N          mean minutes of the newest N games played (N = 3, 5, 10, 20)
    points_per_minute_last_N    Σ points / Σ minutes of those games (N = 5, 10, 20)
    field_goal_attempts_per_minute_last_N, free_throw_attempts_per_minute_last_N
                                shots and free throws per minute of those games (N = 10, 20)
    started_share_last_N        share of the newest N games started (N = 5, 10)
    started_last, minutes_last  the newest game
    projected_points            minutes_avg_last_5 x points_per_minute_last_20
    points_avg_last_82, points_per_minute_last_82
                                the newest 82 games played (about a season) of the last 365
                                days: across the off-season, last season's level
    teammates_out_points        points per game of the teammates ruled out tonight
    teammates_out_share         that, times the player's share of the team's available points
    win_pct_gap                 |team_win_pct - the opponent's|
    opponent_win_pct, days_rest

Minutes carry what the points averages mix with shooting luck: the books price minutes first.
Unknown values (no game played, no opponent record, no rest) are NaN, which the booster routes
down its learned default branch. Chosen nested in time: boosted on 2022-11 … 2023-10 and judged
on 2023-11 … 12, and on 2022-11 … 2023-01 judged on 2023-02 … 04, these inputs took the model
from 0.993× and 0.995× the naive blend's MAE to 0.980× and 0.979×. The season-long pair carries
what a 90-day window loses over the summer: 0.9790× → 0.9736× on 2023-11 … 12, 0.9803× →
0.9794× on 2023-02 … 04 (the same splits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from tipoff.domain.features import FEATURE_NAMES
from tipoff.domain.systems.base import FeatureView
from tipoff.domain.systems.minutes_role import RoleContext
from tipoff.domain.systems.moving_average import blended_average
from tipoff.domain.systems.similarity import WINDOW_DAYS, PastGame

MINUTES_WINDOWS = (3, 5, 10, 20)
SCORING_WINDOWS = (5, 10, 20)
SHOT_WINDOWS = (10, 20)
START_WINDOWS = (5, 10)
LONG_GAMES = 82  # a season's games …
LONG_WINDOW_DAYS = 365  # … within a year: the history a worker reads (the rest: 90 days)
ROLE_INPUT_NAMES: tuple[str, ...] = (
    *(f"minutes_avg_last_{n}" for n in MINUTES_WINDOWS),
    *(f"points_per_minute_last_{n}" for n in SCORING_WINDOWS),
    *(f"{kind}_per_minute_last_{n}" for n in SHOT_WINDOWS
      for kind in ("field_goal_attempts", "free_throw_attempts")),
    *(f"started_share_last_{n}" for n in START_WINDOWS),
    "started_last", "minutes_last", "projected_points",
    f"points_avg_last_{LONG_GAMES}", f"points_per_minute_last_{LONG_GAMES}",
    "teammates_out_points", "teammates_out_share", "win_pct_gap", "opponent_win_pct",
    "days_rest",
)
MODEL_INPUT_NAMES: tuple[str, ...] = (*FEATURE_NAMES, *ROLE_INPUT_NAMES)
# The ones read off the history; the rest come from tonight's slate.
HISTORY_INPUTS = ROLE_INPUT_NAMES[:ROLE_INPUT_NAMES.index("teammates_out_points")]
WIDEST_WINDOW = max(*MINUTES_WINDOWS, *SCORING_WINDOWS, *SHOT_WINDOWS, *START_WINDOWS)
NAN = math.nan


def _recent_totals(played: Sequence[PastGame]) -> list[tuple[float, ...]]:
    """Running sums of minutes, points, shots, free throws and starts over ``played`` (newest
    first) within the recent window: element k sums the newest k + 1 games."""
    running = [0.0] * 5
    totals: list[tuple[float, ...]] = []
    for g in played[:WIDEST_WINDOW]:
        if g.days_ago > WINDOW_DAYS:
            break
        for i, value in enumerate((g.minutes, g.points, g.field_goal_attempts,
                                   g.free_throw_attempts, 1.0 if g.started else 0.0)):
            running[i] += value
        totals.append(tuple(running))
    return totals


def _long_inputs(played: Sequence[PastGame]) -> list[float]:
    """Points per game and per minute of the newest ``LONG_GAMES`` games of the history."""
    minutes = points = 0.0
    games = played[:LONG_GAMES]
    for g in games:
        minutes += g.minutes
        points += g.points
    if not games:
        return [NAN, NAN]
    return [points / len(games), points / max(minutes, 1.0)]


def history_inputs(history: Sequence[PastGame]) -> list[float]:
    """The role inputs read off the player's history, in ``HISTORY_INPUTS`` order (the
    newest games played, summed newest first)."""
    played = [g for g in history if g.minutes > 0 and g.days_ago <= LONG_WINDOW_DAYS]
    totals = _recent_totals(played)
    found: dict[str, float] = {}

    def window(n: int) -> tuple[int, tuple[float, ...]]:
        count = min(n, len(totals))
        return count, totals[count - 1] if count else (0.0,) * 5

    for n in MINUTES_WINDOWS:
        count, (minutes, *_) = window(n)
        found[f"minutes_avg_last_{n}"] = minutes / count if count else NAN
    for n in sorted({*SCORING_WINDOWS, *SHOT_WINDOWS}):
        count, (minutes, points, shots, throws, _) = window(n)
        per = max(minutes, 1.0)
        for name, amount in (("points", points), ("field_goal_attempts", shots),
                             ("free_throw_attempts", throws)):
            found[f"{name}_per_minute_last_{n}"] = amount / per if count else NAN
    for n in START_WINDOWS:
        count, (*_, starts) = window(n)
        found[f"started_share_last_{n}"] = starts / count if count else NAN
    count, (minutes, *_, starts) = window(1)
    found["started_last"] = starts if count else NAN
    found["minutes_last"] = minutes if count else NAN
    found["projected_points"] = found["minutes_avg_last_5"] * found["points_per_minute_last_20"]
    (found[f"points_avg_last_{LONG_GAMES}"],
     found[f"points_per_minute_last_{LONG_GAMES}"]) = _long_inputs(played)
    return [found[name] for name in HISTORY_INPUTS]


def slate_inputs(features: FeatureView | Sequence[float] | Mapping[str, float],
                 role: RoleContext | None, days_rest: int | None) -> list[float]:
    """The role inputs read off tonight's slate and rest (the rest of ``ROLE_INPUT_NAMES``)."""
    f = FeatureView.of(features)
    role = role or RoleContext()
    share = blended_average(f) / role.team_points if role.team_points > 0 else 0.0
    opponent = NAN if role.opponent_win_pct is None else role.opponent_win_pct
    return [role.freed_points, role.freed_points * share, abs(f.team_win_pct - opponent),
            opponent, NAN if days_rest is None else float(days_rest)]


def model_inputs(features: Sequence[float], history: Sequence[PastGame],
                 role: RoleContext | None, days_rest: int | None) -> list[float]:
    """The booster's input row: the 25 features, then the role inputs."""
    return [*features, *history_inputs(history), *slate_inputs(features, role, days_rest)]
