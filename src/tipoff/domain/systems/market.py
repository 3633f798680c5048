"""Market-aware system (``market_residual_v1``): the sportsbook line plus a share of the
model's disagreement with it.

    predicted = line + beta x (model - line)

``model`` is the XGBoost prediction for the player. The line is the strongest single predictor
there is, so the system only models the residual: ``beta`` (0..1) is fitted with the model by
least squares of (points - line) on (model - line) over held-out nights that had sportsbook
lines (``pipeline.train``); with fewer than ``MIN_BETA_ROWS`` such rows it is ``PRIOR_BETA``.
It predicts only against a sportsbook line (an estimated line is the player's own average and
carries no market information): otherwise it raises ``PredictionUnavailable``.

Confidence is ``base.steadiness_confidence``; edge 1.0, floor 50. It is reported beside the
five DESIGN systems and is not one of the ensemble's components.
"""

from __future__ import annotations

from tipoff.domain.systems.base import (
    MARKET,
    FeatureView,
    Prediction,
    PredictionUnavailable,
    finish,
    steadiness_confidence,
)

PRIOR_BETA = 0.5
MIN_BETA_ROWS = 150


def market_predict(features: FeatureView, line: float | None, model_points: float,
                   beta: float, book_line: bool) -> Prediction:
    """The line moved ``beta`` of the way towards the model's prediction."""
    if line is None or not book_line:
        raise PredictionUnavailable("no sportsbook line for this player")
    f = FeatureView.of(features)
    confidence, _ = steadiness_confidence(f)
    points = line + beta * (model_points - line)
    return finish(MARKET, points, confidence, line,
                  {"beta": round(beta, 3), "model_points": round(model_points, 2)})


def fit_beta(model_minus_line, points_minus_line) -> tuple[float, int]:
    """Least-squares share of the model's disagreement that the results bore out, in [0, 1]."""
    import numpy as np

    x = np.asarray(model_minus_line, float)
    y = np.asarray(points_minus_line, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < MIN_BETA_ROWS or not np.any(x):
        return PRIOR_BETA, int(len(x))
    return float(np.clip(x @ y / (x @ x), 0.0, 1.0)), int(len(x))
