"""Moving-average baseline (``moving_average_baseline``, edge 2.0, floor 45).

Base = 0.5·L5 + 0.3·L10 + 0.2·season, plus small additive adjustments (points):

    fatigue     -(100 - fatigue_score)/100 x 3.5        (0 rested .. -3.5 exhausted)
    matchup     0.07 x shot_zone_mismatch_score          (-0.7 .. +0.7)
                + 0.05 x (opponent_def_rating - 112), within ±1.0 (weaker defense raises)
    pace        0.1 x pace_score                         (-0.3 .. +0.3)
    usage       0.1 x usage_spike_score                  (-0.3 .. +0.3)
    venue       +0.15 home, -0.15 away
    rest        -0.25 on the second night of a back-to-back

The sum of adjustments is capped at ±5 points so context never outweighs form. Confidence is
``base.steadiness_confidence``: 85 minus volatility (60 x CV of the last 10, at most 50),
workload (4 per game beyond 3 in 7 days, 3 per minutes_change step) and injury-risk penalties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tipoff.domain.systems.base import (
    LEAGUE_DEF_RATING,
    MOVING_AVERAGE,
    FeatureView,
    Prediction,
    fatigue_adjustment,
    finish,
    rounded,
    steadiness_confidence,
)

WEIGHTS = {"points_avg_last_5": 0.5, "points_avg_last_10": 0.3, "points_avg_season": 0.2}
# Sizes calibrated on the 2023-24 regular season (Dec–Mar, 10,894 ready player-nights) by
# regressing points minus the blend on each adjustment; evaluated out of sample on 2022-23.
# The blend already carries recent usage and the fatigue score already counts the
# back-to-back, so those two stay small.
FATIGUE_SCALE = 3.5
MISMATCH_PER_POINT = 0.07
DEFENSE_PER_POINT, DEFENSE_CAP = 0.05, 1.0
PACE_PER_POINT = 0.1
USAGE_PER_POINT = 0.1
VENUE = 0.15
BACK_TO_BACK = -0.25
ADJUSTMENT_CAP = 5.0


def blended_average(f: FeatureView) -> float:
    """0.5·L5 + 0.3·L10 + 0.2·season."""
    return sum(weight * f[name] for name, weight in WEIGHTS.items())


def defense_adjustment(f: FeatureView, per_point: float, cap: float) -> float:
    """Points for the opponent's defense: weaker than league (higher rating) raises."""
    raw = per_point * (f.opponent_def_rating - LEAGUE_DEF_RATING)
    return min(max(raw, -cap), cap)


def venue_adjustment(f: FeatureView, size: float) -> float:
    """``+size`` at home, ``-size`` away."""
    return size if f.home_away >= 0.5 else -size


def adjustments(f: FeatureView) -> dict[str, float]:
    """Each context adjustment in points, before the overall cap."""
    return {
        "fatigue": fatigue_adjustment(f, FATIGUE_SCALE),
        "matchup": MISMATCH_PER_POINT * f.shot_zone_mismatch_score
        + defense_adjustment(f, DEFENSE_PER_POINT, DEFENSE_CAP),
        "pace": PACE_PER_POINT * f.pace_score,
        "usage": USAGE_PER_POINT * f.usage_spike_score,
        "venue": venue_adjustment(f, VENUE),
        "back_to_back": BACK_TO_BACK if f.back_to_back >= 0.5 else 0.0,
    }


def capped_total(parts: Mapping[str, float], cap: float) -> float:
    """The sum of ``parts`` within ±``cap``."""
    return min(max(sum(parts.values()), -cap), cap)


def moving_average_predict(
    features: FeatureView | Sequence[float] | Mapping[str, float], line: float | None
) -> Prediction:
    """Predict points with the moving-average baseline."""
    f = FeatureView.of(features)
    base = blended_average(f)
    parts = adjustments(f)
    total = capped_total(parts, ADJUSTMENT_CAP)
    confidence, penalties = steadiness_confidence(f)
    components = {
        "base": round(base, 3),
        "adjustments": rounded(parts),
        "adjustment_total": round(total, 3),
        "confidence_penalties": rounded(penalties),
    }
    return finish(MOVING_AVERAGE, base + total, confidence, line, components)
