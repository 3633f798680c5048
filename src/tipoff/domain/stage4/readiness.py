"""Stage 4 completeness and the production-ready rule (SPEC.md §4).

A row is production ready when all of these hold (every failure is one issue text):

- enough games: ≥ ``SMALL_SEASON_MIN_GAMES`` this season before D, or, while the team has
  played fewer than ``COMPLETENESS_WINDOW`` games, ≥ ``EARLY_SEASON_MIN_GAMES`` this season;
- a recent game: the player's last game was at most ``RECENT_GAME_DAYS`` before D;
- quality ≥ ``QUALITY_READY_MIN``, status not ``out``, and the opponent's team data exists.

Completeness (the share of the team's last 10 games the player played) is recorded on the row
but excludes nobody: a star back after missing two games is who bettors ask about. (The
platform this replaced required ≥ 90% and left a fifth of the priced players unpredicted.)

Two games early in the season: chosen on 2022-23 and 2023-24 before 31 December (never on a
report window). There, rows with two season games scored close to the naive blend as those
with three did: blend MAE 2.98 vs 3.34 (players under 10 points a game, 105 vs 168 rows) and
5.14 vs 5.38 (10 or more, 18 vs 82) in 2022-23; 2.77 vs 3.34 (48 vs 168) in 2023-24. The rule
before also asked for 20 games in the prior season, which a league's first stored season
cannot show. One game is not enough (10+ point scorers: blend MAE 0.71 and 0.63 of their
points, against 0.33 with three games).
"""

from __future__ import annotations

from tipoff.domain.features import (
    COMPLETENESS_WINDOW,
    QUALITY_READY_MIN,
    SMALL_SEASON_MIN_GAMES,
)

EARLY_SEASON_ISSUE = "early season"
RECENT_GAME_DAYS = 30
EARLY_SEASON_MIN_GAMES = 2


def readiness_issues(
    *,
    expected: int,
    actual: int,
    season_games: int,
    quality: float,
    injury_status: str,
    opponent_data: bool,
    days_since_last: float | None = None,
) -> list[str]:
    """Every reason the row is not production ready, as short readable strings ([] = ready).

    ``actual`` / ``expected`` (completeness) are accepted for the record and never exclude.
    """
    issues = []
    early = expected < COMPLETENESS_WINDOW
    needed = EARLY_SEASON_MIN_GAMES if early else SMALL_SEASON_MIN_GAMES
    if season_games < needed:
        plural = "" if season_games == 1 else "s"
        when = f" while the team has played fewer than {COMPLETENESS_WINDOW}" if early else ""
        issues.append(f"only {season_games} season game{plural} (need {needed}{when})")
    if days_since_last is not None and days_since_last > RECENT_GAME_DAYS:
        issues.append(f"last game {days_since_last:g} days ago (need within {RECENT_GAME_DAYS})")
    if quality < QUALITY_READY_MIN:
        issues.append(f"quality {quality:g} below {QUALITY_READY_MIN:g}")
    if injury_status == "out":
        issues.append("injury status out")
    if not opponent_data:
        issues.append("no opponent team data")
    return issues
