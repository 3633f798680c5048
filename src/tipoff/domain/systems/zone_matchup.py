"""Zone matchup (``zone_matchup_v1``, edge 2.0, floor 45).

The season average is split into four scoring zones. Free throws take ``pct_free_throw`` of the
points; the rest is split over paint / mid-range / three by the player's shot shares weighted by
typical points per shot (paint 1.2, mid-range 0.8, three 1.05), because shot shares count
attempts, not points. Each zone is then scaled by how the opponent defends:

    defense    (opponent_def_rating - 112) / 112 within ±10 %, times a zone sensitivity
               (paint 1.0, mid-range 0.6, three 1.2, free throws 0.5); weaker defense raises
    mismatch   1 % per shot_zone_mismatch_score point on field-goal zones (±10 % at ±10)

Then context (points): pace 0.4 x pace_score, venue ±0.5, fatigue -(100 - fatigue)/100 x 2.0,
back-to-back -0.75; all adjustments together capped at ±5. Confidence is the same steadiness
confidence as the moving average (``base.steadiness_confidence``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tipoff.domain.features import DEFAULTS
from tipoff.domain.systems.base import (
    LEAGUE_DEF_RATING,
    ZONE_MATCHUP,
    FeatureView,
    Prediction,
    fatigue_adjustment,
    finish,
    rounded,
    steadiness_confidence,
)
from tipoff.domain.systems.moving_average import capped_total, venue_adjustment

FIELD_ZONES = ("paint", "mid_range", "three")
POINTS_PER_SHOT = {"paint": 1.2, "mid_range": 0.8, "three": 1.05}
DEFENSE_SENSITIVITY = {"paint": 1.0, "mid_range": 0.6, "three": 1.2, "free_throw": 0.5}
DEFENSE_CAP = 0.10
MISMATCH_PER_POINT = 0.01
MAX_FREE_THROW_SHARE = 0.5
PACE_PER_POINT = 0.4
VENUE = 0.5
FATIGUE_SCALE = 2.0
BACK_TO_BACK = -0.75
ADJUSTMENT_CAP = 5.0


def shot_shares(f: FeatureView) -> dict[str, float]:
    """The player's field-goal shot shares, normalised; league defaults when there are none."""
    shares = {zone: max(f[f"pct_{zone}"], 0.0) for zone in FIELD_ZONES}
    if sum(shares.values()) <= 0:
        shares = {zone: DEFAULTS[f"pct_{zone}"] for zone in FIELD_ZONES}
    total = sum(shares.values())
    return {zone: share / total for zone, share in shares.items()}


def zone_points(f: FeatureView) -> dict[str, float]:
    """The season average split into expected points per zone."""
    season = max(f.points_avg_season, 0.0)
    free_throw_share = min(max(f.pct_free_throw, 0.0), MAX_FREE_THROW_SHARE)
    field = season * (1.0 - free_throw_share)
    weighted = {zone: share * POINTS_PER_SHOT[zone] for zone, share in shot_shares(f).items()}
    total = sum(weighted.values())
    split = {zone: field * value / total for zone, value in weighted.items()}
    return {**split, "free_throw": season * free_throw_share}


def defense_factor(f: FeatureView) -> float:
    """Relative weakness of the opponent's defense vs league, within ±10 %."""
    raw = (f.opponent_def_rating - LEAGUE_DEF_RATING) / LEAGUE_DEF_RATING
    return min(max(raw, -DEFENSE_CAP), DEFENSE_CAP)


def zone_multipliers(f: FeatureView) -> dict[str, float]:
    """How much each zone's points scale against tonight's opponent."""
    weakness = defense_factor(f)
    mismatch = MISMATCH_PER_POINT * f.shot_zone_mismatch_score
    return {
        zone: 1.0 + sensitivity * weakness + (mismatch if zone in FIELD_ZONES else 0.0)
        for zone, sensitivity in DEFENSE_SENSITIVITY.items()
    }


def context_adjustments(f: FeatureView) -> dict[str, float]:
    """Pace, venue, fatigue and back-to-back adjustments in points."""
    return {
        "pace": PACE_PER_POINT * f.pace_score,
        "venue": venue_adjustment(f, VENUE),
        "fatigue": fatigue_adjustment(f, FATIGUE_SCALE),
        "back_to_back": BACK_TO_BACK if f.back_to_back >= 0.5 else 0.0,
    }


def zone_matchup_predict(
    features: FeatureView | Sequence[float] | Mapping[str, float], line: float | None
) -> Prediction:
    """Predict points from the season average adjusted zone by zone."""
    f = FeatureView.of(features)
    base = zone_points(f)
    multipliers = zone_multipliers(f)
    adjusted = {zone: points * multipliers[zone] for zone, points in base.items()}
    matchup = sum(adjusted.values()) - sum(base.values())
    parts = {"matchup": matchup, **context_adjustments(f)}
    total = capped_total(parts, ADJUSTMENT_CAP)
    confidence, penalties = steadiness_confidence(f)
    components = {
        "base": round(sum(base.values()), 3),
        "zones": rounded(adjusted),
        "zone_multipliers": rounded(multipliers, 4),
        "adjustments": rounded(parts),
        "adjustment_total": round(total, 3),
        "confidence_penalties": rounded(penalties),
    }
    return finish(ZONE_MATCHUP, sum(base.values()) + total, confidence, line, components)
