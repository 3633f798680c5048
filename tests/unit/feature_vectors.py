"""A typical feature vector for system tests, with named overrides."""

from tipoff.domain.features import FEATURE_NAMES

TYPICAL = {
    "points_avg_last_5": 20.0, "points_avg_last_10": 19.0, "points_avg_season": 18.0,
    "points_std_last_10": 5.0, "games_in_last_7_days": 3.0, "fatigue_score": 100.0,
    "shot_zone_mismatch_score": 0.0, "pace_score": 0.0, "usage_spike_score": 0.0,
    "rest_advantage": 0.0, "injury_risk": 0.0, "recent_trend": 0.0, "minutes_change": 0.0,
    "opponent_def_rating": 112.0, "opponent_pace": 99.0, "home_away": 1.0, "back_to_back": 0.0,
    "playoff_game": 0.0, "pct_paint": 0.4, "pct_mid_range": 0.2, "pct_three": 0.4,
    "pct_free_throw": 0.15, "team_pace": 99.0, "team_off_rating": 112.0, "team_win_pct": 0.5,
}


def features(**overrides: float) -> list[float]:
    """The typical vector in canonical order, with some features changed."""
    values = {**TYPICAL, **overrides}
    return [values[name] for name in FEATURE_NAMES]
