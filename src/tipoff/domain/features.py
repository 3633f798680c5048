"""The stage 4 feature contract (SPEC.md §4): names, order, defaults and source weights."""

from __future__ import annotations

FEATURE_VERSION = "v1_25"
PROCESSOR = "ml_feature_store_v2"

FEATURE_NAMES: tuple[str, ...] = (
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "games_in_last_7_days",
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "rest_advantage",
    "injury_risk",
    "recent_trend",
    "minutes_change",
    "opponent_def_rating",
    "opponent_pace",
    "home_away",
    "back_to_back",
    "playoff_game",
    "pct_paint",
    "pct_mid_range",
    "pct_three",
    "pct_free_throw",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
FEATURE_COUNT = len(FEATURE_NAMES)

# The value a feature takes when there is no data for it (source tag "default").
DEFAULTS: dict[str, float] = {
    "points_avg_last_5": 10.0,
    "points_avg_last_10": 10.0,
    "points_avg_season": 10.0,
    "points_std_last_10": 5.0,
    "games_in_last_7_days": 0.0,
    "fatigue_score": 80.0,
    "shot_zone_mismatch_score": 0.0,
    "pace_score": 0.0,
    "usage_spike_score": 0.0,
    "rest_advantage": 0.0,
    "injury_risk": 0.0,
    "recent_trend": 0.0,
    "minutes_change": 0.0,
    "opponent_def_rating": 112.0,
    "opponent_pace": 99.0,
    "home_away": 0.0,
    "back_to_back": 0.0,
    "playoff_game": 0.0,
    "pct_paint": 0.35,
    "pct_mid_range": 0.20,
    "pct_three": 0.35,
    "pct_free_throw": 0.15,
    "team_pace": 99.0,
    "team_off_rating": 112.0,
    "team_win_pct": 0.5,
}

COMPUTED, PARTIAL, DEFAULT = "computed", "partial", "default"
SOURCE_WEIGHTS = {COMPUTED: 100.0, PARTIAL: 75.0, DEFAULT: 40.0}

INJURY_RISK = {"available": 0, "probable": 1, "questionable": 2, "doubtful": 3, "out": 3}

QUALITY_READY_MIN = 70.0
COMPLETENESS_WINDOW = 10
SMALL_SEASON_MIN_GAMES = 5
EARLY_SEASON_DAYS = 7


def quality_score(sources: list[str] | tuple[str, ...]) -> float:
    """Mean of the per-feature source weights (computed 100, partial 75, default 40)."""
    if not sources:
        return 0.0
    return round(sum(SOURCE_WEIGHTS[s] for s in sources) / len(sources), 2)
