"""What every prediction system shares (SPEC.md §6).

- ``Prediction``: one system's answer for one player and line.
- ``recommend``: PASS without a line, PASS when confidence is below the system's floor or the
  margin below its edge, otherwise OVER / UNDER.
- ``finish``: clamps points to [0, 60] and rounds to 0.1, clamps confidence to [0, 100] and
  rounds to 0.1, computes the line margin and the recommendation from ``EDGE_AND_FLOOR``.
- ``FeatureView``: name access to a feature vector in ``features.FEATURE_NAMES`` order.
- ``steadiness_confidence``: the volatility/workload confidence used by the moving-average and
  zone-matchup systems (coefficients below).
- ``PredictionUnavailable``: a system that cannot predict says why; it fails that system only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipoff.domain.features import FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES
from tipoff.errors import TipoffError

MOVING_AVERAGE = "moving_average_baseline"
ZONE_MATCHUP = "zone_matchup_v1"
SIMILARITY = "similarity_balanced_v1"
XGBOOST = "xgboost_v1"
ENSEMBLE = "ensemble_v1"
SYSTEM_IDS: tuple[str, ...] = (MOVING_AVERAGE, ZONE_MATCHUP, SIMILARITY, XGBOOST, ENSEMBLE)
# Beside the five: the market-aware system (``systems.market``), not an ensemble component.
MARKET = "market_residual_v1"
# Minutes, role, teammates out, matchup gap and rest (``systems.minutes_role``): an ensemble component.
MINUTES_ROLE = "minutes_role_v1"

EDGE_AND_FLOOR: dict[str, tuple[float, float]] = {
    MOVING_AVERAGE: (2.0, 45.0),
    ZONE_MATCHUP: (2.0, 45.0),
    SIMILARITY: (2.0, 65.0),
    XGBOOST: (1.5, 60.0),
    ENSEMBLE: (1.5, 65.0),
    MARKET: (1.0, 50.0),
    MINUTES_ROLE: (2.0, 45.0),
}

OVER, UNDER, PASS = "OVER", "UNDER", "PASS"
MIN_POINTS, MAX_POINTS = 0.0, 60.0
MIN_CONFIDENCE, MAX_CONFIDENCE = 0.0, 100.0
LEAGUE_DEF_RATING = 112.0

# Margins are compared after rounding away float noise, so 22.1 - 20.1 counts as exactly 2.0.
_MARGIN_DIGITS = 6


class PredictionUnavailable(TipoffError):
    """A system cannot predict for this input; ``reason`` says why (fails this system only)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Prediction:
    """One system's prediction for one player against one line (or none)."""

    system_id: str
    predicted_points: float
    confidence: float
    recommendation: str
    line: float | None
    line_margin: float | None
    components: Mapping[str, Any] = field(default_factory=dict)


def clamp_points(value: float) -> float:
    """Clamp predicted points to [0, 60] and round to 0.1."""
    if not math.isfinite(value):
        raise PredictionUnavailable(f"predicted points are not a finite number ({value!r})")
    return round(min(max(value, MIN_POINTS), MAX_POINTS), 1)


def clamp_confidence(value: float) -> float:
    """Clamp a confidence to [0, 100] and round to 0.1."""
    if not math.isfinite(value):
        raise PredictionUnavailable(f"confidence is not a finite number ({value!r})")
    return round(min(max(value, MIN_CONFIDENCE), MAX_CONFIDENCE), 1)


def recommend(
    predicted: float, confidence: float, line: float | None, edge: float, floor: float
) -> str:
    """OVER / UNDER / PASS by the shared rule; the edge and floor themselves still qualify."""
    if line is None:
        return PASS
    margin = round(predicted - line, _MARGIN_DIGITS)
    if confidence < floor or abs(margin) < edge:
        return PASS
    return OVER if margin > 0 else UNDER


def finish(
    system_id: str,
    raw_points: float,
    raw_confidence: float,
    line: float | None,
    components: Mapping[str, Any],
) -> Prediction:
    """Clamp, round and recommend with ``system_id``'s edge and floor."""
    edge, floor = EDGE_AND_FLOOR[system_id]
    points = clamp_points(raw_points)
    confidence = clamp_confidence(raw_confidence)
    margin = None if line is None else round(points - line, 1)
    return Prediction(
        system_id=system_id,
        predicted_points=points,
        confidence=confidence,
        recommendation=recommend(points, confidence, line, edge, floor),
        line=line,
        line_margin=margin,
        components=dict(components),
    )


class FeatureView:
    """Read-only name access to a 25-value feature vector: ``f["pace_score"]``, ``f.pace_score``."""

    __slots__ = ("_values",)
    _values: tuple[float, ...]

    def __init__(self, values: Sequence[float]) -> None:
        if len(values) != FEATURE_COUNT:
            raise PredictionUnavailable(
                f"expected {FEATURE_COUNT} feature values, got {len(values)}"
            )
        floats = tuple(map(float, values))
        if not all(map(math.isfinite, floats)):  # every system builds views: keep this cheap
            bad = [FEATURE_NAMES[i] for i, v in enumerate(floats) if not math.isfinite(v)]
            raise PredictionUnavailable(f"features are not finite numbers: {', '.join(bad)}")
        object.__setattr__(self, "_values", floats)

    @classmethod
    def of(cls, features: FeatureView | Sequence[float] | Mapping[str, float]) -> FeatureView:
        """Accept a view, a sequence in canonical order or a mapping with every canonical name."""
        if isinstance(features, FeatureView):
            return features
        if isinstance(features, Mapping):
            missing = [name for name in FEATURE_NAMES if name not in features]
            if missing:
                raise PredictionUnavailable(f"features missing: {', '.join(missing)}")
            return cls([features[name] for name in FEATURE_NAMES])
        return cls(list(features))

    @property
    def values(self) -> tuple[float, ...]:
        """The values in canonical order."""
        return self._values

    def __getitem__(self, name: str) -> float:
        return self._values[FEATURE_INDEX[name]]

    def __getattr__(self, name: str) -> float:
        index = FEATURE_INDEX.get(name)
        if index is None:
            raise AttributeError(name)
        return self._values[index]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FeatureView is read-only")

    def __repr__(self) -> str:
        return f"FeatureView({dict(zip(FEATURE_NAMES, self._values))!r})"


# Steadiness confidence (moving average, zone matchup): start from 85 and subtract
#   volatility  60 x CV, CV = points_std_last_10 / max(points_avg_last_10, 1), at most 50
#   workload    4 per game beyond 3 in the last 7 days + 3 x |minutes_change|
#   injury      5 per injury_risk level (probable 1 .. doubtful 3)
_STEADY_BASE = 85.0
_CV_WEIGHT, _CV_CAP = 60.0, 50.0
_BUSY_GAMES, _PER_EXTRA_GAME = 3.0, 4.0
_PER_MINUTES_STEP = 3.0
_PER_INJURY_LEVEL = 5.0


def coefficient_of_variation(f: FeatureView) -> float:
    """Points std over the last 10 relative to their mean (mean floored at 1 point)."""
    return f.points_std_last_10 / max(f.points_avg_last_10, 1.0)


def steadiness_confidence(f: FeatureView) -> tuple[float, dict[str, float]]:
    """Confidence from volatility, recent workload and injury risk, with its penalties."""
    penalties = {
        "volatility": min(_CV_WEIGHT * coefficient_of_variation(f), _CV_CAP),
        "workload": _PER_EXTRA_GAME * max(0.0, f.games_in_last_7_days - _BUSY_GAMES)
        + _PER_MINUTES_STEP * abs(f.minutes_change),
        "injury": _PER_INJURY_LEVEL * f.injury_risk,
    }
    return _STEADY_BASE - sum(penalties.values()), penalties


def fatigue_adjustment(f: FeatureView, scale: float) -> float:
    """``-scale`` points when exhausted (fatigue 0), nothing when fully rested (100)."""
    return -(100.0 - min(max(f.fatigue_score, 0.0), 100.0)) / 100.0 * scale


def rounded(values: Mapping[str, float], digits: int = 3) -> dict[str, float]:
    """A copy of ``values`` rounded for the components record."""
    return {key: round(float(value), digits) for key, value in values.items()}
