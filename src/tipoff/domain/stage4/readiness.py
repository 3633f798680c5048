"""Stage 4 completeness and the production-ready rule (SPEC.md §4).

A row is production ready when all of these hold (every failure is one issue text):

- enough games: ≥ ``SMALL_SEASON_MIN_GAMES`` this season before D, or, while the team has
  played fewer than ``COMPLETENESS_WINDOW`` games, ≥ ``EARLY_SEASON_MIN_GAMES`` this season,
  or ≥ ``EARLY_MIN_GAMES`` this season and ≥ ``PRIOR_SEASON_MIN_GAMES`` in the year before the
  season began;
- a recent game: the player's last game was at most ``RECENT_GAME_DAYS`` before D;
- quality ≥ ``QUALITY_READY_MIN``, status not ``out``, and the opponent's team data exists.

Completeness (the share of the team's last 10 games the player played) is recorded on the row
but excludes nobody: a star back after missing two games is who bettors ask about. (The
platform this replaced required ≥ 90% and left a fifth of the priced players unpredicted.)
"""

from __future__ import annotations

from tipoff.domain.features import (
    COMPLETENESS_WINDOW,
    QUALITY_READY_MIN,
    SMALL_SEASON_MIN_GAMES,
)

EARLY_SEASON_ISSUE = "early season"
RECENT_GAME_DAYS = 30
EARLY_SEASON_MIN_GAMES = 3
EARLY_MIN_GAMES = 2
PRIOR_SEASON_MIN_GAMES = 20
PRIOR_SEASON_DAYS = 365


def readiness_issues(
    *,
    expected: int,
    actual: int,
    season_games: int,
    quality: float,
    injury_status: str,
    opponent_data: bool,
    days_since_last: float | None = None,
    prior_games: int = 0,
) -> list[str]:
    """Every reason the row is not production ready, as short readable strings ([] = ready).

    ``actual`` / ``expected`` (completeness) are accepted for the record and never exclude.
    """
    issues = []
    early = expected < COMPLETENESS_WINDOW
    enough_early = early and (season_games >= EARLY_SEASON_MIN_GAMES or (
        season_games >= EARLY_MIN_GAMES and prior_games >= PRIOR_SEASON_MIN_GAMES))
    if season_games < SMALL_SEASON_MIN_GAMES and not enough_early:
        issues.append(f"only {season_games} season games (need {SMALL_SEASON_MIN_GAMES})")
    if days_since_last is not None and days_since_last > RECENT_GAME_DAYS:
        issues.append(f"last game {days_since_last:g} days ago (need within {RECENT_GAME_DAYS})")
    if quality < QUALITY_READY_MIN:
        issues.append(f"quality {quality:g} below {QUALITY_READY_MIN:g}")
    if injury_status == "out":
        issues.append("injury status out")
    if not opponent_data:
        issues.append("no opponent team data")
    return issues
