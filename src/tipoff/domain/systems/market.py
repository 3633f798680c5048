"""Market-aware system (``market_residual_v1``): the sportsbook line plus a share of the
model's disagreement with it.

    predicted = line + beta x (model - line)

``model`` is the XGBoost prediction for the player. The line is the strongest single predictor
there is, so the system only models the residual: ``beta`` (0..1) is fitted with the model by
least squares of (points - line) on (model - line) over held-out nights that had sportsbook
lines (``pipeline.train``); with fewer than ``MIN_BETA_ROWS`` such rows it is ``PRIOR_BETA``.
It predicts only against a sportsbook line (an estimated line is the player's own average and
carries no market information): otherwise it raises ``PredictionUnavailable``.

Confidence is ``base.steadiness_confidence``; edge 1.0, floor 50.

In the ensemble it is a member wherever a sportsbook line exists: it takes the share
``market_weight`` of the ensemble and the other components share the rest in their fitted
proportions (``with_market_weight``); where there is no book line it is unavailable and the
others' weights are renormalised as for any missing component. ``fit_market_weight`` is least
squares of (points - components' mix) on (market - components' mix) over held-out lined rows,
shrunk towards ``PRIOR_MARKET_WEIGHT`` as if ``MARKET_PRIOR_ROWS`` rows said so, in [0, 0.9].
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
PRIOR_MARKET_WEIGHT = 0.5
MARKET_PRIOR_ROWS = 200
MAX_MARKET_WEIGHT = 0.9  # the others keep a share, so their proportions survive unlined rows


def market_points(line, model_points, beta: float):
    """``line + beta x (model - line)`` before clamping: scalars, or numpy arrays of many rows."""
    return line + beta * (model_points - line)


def market_predict(features: FeatureView, line: float | None, model_points: float,
                   beta: float, book_line: bool) -> Prediction:
    """The line moved ``beta`` of the way towards the model's prediction."""
    if line is None or not book_line:
        raise PredictionUnavailable("no sportsbook line for this player")
    f = FeatureView.of(features)
    confidence, _ = steadiness_confidence(f)
    return finish(MARKET, market_points(line, model_points, beta), confidence, line,
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


def fit_market_weight(components_points, market_points, actual) -> tuple[float, int]:
    """The market system's share of the ensemble where a line exists, with its row count."""
    import numpy as np

    centre = np.asarray(components_points, float)
    x = np.asarray(market_points, float) - centre
    y = np.asarray(actual, float) - centre
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if not np.any(x):
        return PRIOR_MARKET_WEIGHT, int(len(x))
    ridge = MARKET_PRIOR_ROWS * float(np.mean(x * x))
    share = (float(x @ y) + ridge * PRIOR_MARKET_WEIGHT) / (float(x @ x) + ridge)
    return float(np.clip(share, 0.0, MAX_MARKET_WEIGHT)), int(len(x))


def with_market_weight(weights: dict[str, float], share: float) -> dict[str, float]:
    """``weights`` scaled to ``1 - share`` with the market system added at ``share``."""
    return {**{sid: w * (1.0 - share) for sid, w in weights.items()}, MARKET: share}
