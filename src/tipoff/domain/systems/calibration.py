"""Calibrated confidence and expected-value picks for a system's prediction against a line.

A ``Calibration`` maps the margin (predicted points − line) to the probability that the player
scores over the line. It is fitted on held-out nights (isotonic regression of "went over" on the
margin, pushes left out; see ``pipeline.train``) and stored with the model as its breakpoints,
so applying it is a pure interpolation.

``calibrated_pick`` turns a prediction into a bet decision: the side the calibration favours,
``confidence`` = 100 × the probability that side wins, and OVER / UNDER only when the expected
value at the quoted American price is positive (−110 when the line has no price); otherwise
PASS, with the reason in the components (``pass_reason``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from tipoff.domain.systems.base import OVER, PASS, UNDER, Prediction, clamp_confidence

STANDARD_PRICE = -110
MIN_PROBABILITY, MAX_PROBABILITY = 0.01, 0.99


@dataclass(frozen=True)
class Calibration:
    """Increasing breakpoints: margin → probability of going over."""

    margins: tuple[float, ...]
    p_over: tuple[float, ...]
    rows: int = 0

    @classmethod
    def from_dict(cls, doc: Mapping | None) -> Calibration | None:
        """From the model artefact's JSON (None when the artefact has none)."""
        if not doc or not doc.get("margins"):
            return None
        return cls(tuple(map(float, doc["margins"])), tuple(map(float, doc["p_over"])),
                   int(doc.get("rows", 0)))

    def to_dict(self) -> dict:
        return {"margins": list(self.margins), "p_over": list(self.p_over), "rows": self.rows}

    def probability_over(self, margin: float) -> float:
        """P(points > line) for a prediction ``margin`` points above the line."""
        p = float(np.interp(margin, self.margins, self.p_over))
        return min(max(p, MIN_PROBABILITY), MAX_PROBABILITY)


def payout(price: float) -> float:
    """Profit per unit staked on a win at American odds ``price``."""
    return price / 100.0 if price > 0 else 100.0 / abs(price)


def expected_value(probability: float, price: float) -> float:
    """Expected profit per unit staked."""
    return probability * payout(price) - (1.0 - probability)


def calibrated_pick(prediction: Prediction, raw_points: float, calibration: Calibration,
                    prices: Sequence[float] | None = None) -> Prediction:
    """``prediction`` with calibrated confidence and an expected-value recommendation.

    ``raw_points`` is the unrounded prediction; ``prices`` (over, under) default to −110 each.
    """
    if prediction.line is None:
        return replace(prediction, recommendation=PASS,
                       components={**prediction.components, "pass_reason": "no line"})
    p_over = calibration.probability_over(raw_points - prediction.line)
    over_price, under_price = prices or (STANDARD_PRICE, STANDARD_PRICE)
    side, p, price = ((OVER, p_over, over_price) if p_over >= 0.5
                      else (UNDER, 1.0 - p_over, under_price))
    ev = expected_value(p, price)
    recorded = {"p_over": round(p_over, 4), "side": side, "price": price,
                "expected_value": round(ev, 4)}
    if ev <= 0:
        recorded["pass_reason"] = (f"expected value {ev:+.3f} at {price:+g} "
                                   f"(win probability {p:.3f})")
    return replace(prediction, confidence=clamp_confidence(100.0 * p),
                   recommendation=side if ev > 0 else PASS,
                   components={**prediction.components, "calibrated": recorded})


def fit_calibration(margins: np.ndarray, went_over: np.ndarray,
                    max_points: int = 60) -> Calibration:
    """Isotonic fit of P(over) on the margin (scikit-learn), thinned to ``max_points``."""
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
    model.fit(np.asarray(margins, float), np.asarray(went_over, float))
    xs, ys = np.asarray(model.X_thresholds_), np.asarray(model.y_thresholds_)
    if len(xs) > max_points:
        keep = np.unique(np.linspace(0, len(xs) - 1, max_points).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return Calibration(tuple(float(x) for x in xs), tuple(float(y) for y in ys), int(len(margins)))
