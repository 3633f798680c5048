"""The linear part of ``xgboost_v1``: points as a straight line in the booster's inputs, fitted
on absolute error.

Trees cut each input into steps; a line extrapolates smoothly and errs differently, so the
two average out some of each other's noise. Every input enters as itself, a missing role input
(NaN) as the training median plus its own "was missing" term. The fit minimises the absolute
error (the metric, as the boosters do) by iteratively reweighted least squares: each row weighs
1 / max(|residual|, ``FLOOR``) points, ``ITERATIONS`` times, each step a least-squares solve on
standardised inputs with a small ridge (``RIDGE`` x the mean diagonal: inputs that move
together, such as the L5 and L10 averages, would otherwise trade large opposite coefficients).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

ITERATIONS = 20
FLOOR = 1.0  # points: rows fitted closer than this weigh as if this far off
RIDGE = 1e-3


@dataclass(frozen=True, eq=False)
class LinearPart:
    """``intercept + Σ coefficient x input``, a NaN input read as ``fill`` plus ``missing``."""

    intercept: float
    coefficients: np.ndarray
    missing: np.ndarray
    fill: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Points for every row of an n x k input matrix."""
        absent = np.isnan(rows)
        values = np.where(absent, self.fill, rows)
        return self.intercept + values @ self.coefficients + absent @ self.missing

    def to_dict(self) -> dict[str, Any]:
        """The part as plain JSON values."""
        return {"intercept": self.intercept, "coefficients": self.coefficients.tolist(),
                "missing": self.missing.tolist(), "fill": self.fill.tolist()}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], width: int) -> LinearPart:
        """The part back from ``to_dict``; ``width`` inputs expected (ValueError otherwise)."""
        arrays = [np.asarray(doc[key], dtype=np.float64)
                  for key in ("coefficients", "missing", "fill")]
        if any(a.shape != (width,) for a in arrays):
            raise ValueError(f"linear part must have {width} coefficients, missing terms and "
                             f"fills, got {[a.shape for a in arrays]}")
        return cls(float(doc["intercept"]), *arrays)


def fit_linear_part(X: np.ndarray, y: np.ndarray) -> LinearPart:
    """The least-absolute-error line through the rows of ``X`` (NaN allowed) and ``y``."""
    absent = np.isnan(X)
    width = X.shape[1]
    fill = np.zeros(width)
    seen = ~absent.all(axis=0)
    fill[seen] = np.nanmedian(X[:, seen], axis=0)
    values = np.where(absent, fill, X)
    # Solved on standardised inputs, so that the ridge weighs every input alike.
    centre, scale = values.mean(axis=0), values.std(axis=0)
    scale[scale == 0] = 1.0
    sometimes = np.flatnonzero(absent.any(axis=0))  # the columns that get a "missing" term
    design = np.column_stack([np.ones(len(X)), (values - centre) / scale,
                              absent[:, sometimes].astype(np.float64)])
    solution = _weighted_ridge(design, y, np.ones(len(y)))
    for _ in range(ITERATIONS):
        weights = 1.0 / np.maximum(np.abs(y - design @ solution), FLOOR)
        solution = _weighted_ridge(design, y, weights)
    coefficients = solution[1:1 + width] / scale
    missing = np.zeros(width)
    missing[sometimes] = solution[1 + width:]
    intercept = float(solution[0] - centre @ coefficients)
    return LinearPart(intercept, coefficients, missing, fill)


def _weighted_ridge(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    weighted = design * weights[:, None]
    gram = weighted.T @ design
    ridge = RIDGE * float(np.mean(np.diag(gram)))
    gram[np.diag_indices_from(gram)] += ridge
    gram[0, 0] -= ridge  # the intercept is not shrunk
    return np.linalg.solve(gram, weighted.T @ y)
