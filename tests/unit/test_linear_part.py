"""The linear part of xgboost_v1: a least-absolute-error line with missing-input terms."""

import numpy as np
import pytest

from tipoff.domain.systems.linear_part import LinearPart, fit_linear_part


def test_the_fit_recovers_a_known_line_despite_wild_outliers():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 10, (3000, 2))
    y = 2.0 + 1.5 * X[:, 0] - 0.5 * X[:, 1] + rng.laplace(0, 0.5, 3000)
    wild = rng.random(3000) < 0.1
    y[wild] += rng.uniform(20, 60, wild.sum())  # one row in ten far above the line
    part = fit_linear_part(X, y)
    assert part.coefficients == pytest.approx([1.5, -0.5], abs=0.05)
    assert part.intercept == pytest.approx(2.0, abs=0.3)


def test_the_line_seeks_the_median_of_right_skewed_points():
    rng = np.random.default_rng(8)
    level = rng.uniform(4, 25, (5000, 1))
    points = rng.gamma(2.0, level[:, 0] / 2.0)  # mean = level, median ≈ 0.839 x level
    part = fit_linear_part(level, points)
    assert part.coefficients[0] == pytest.approx(0.839, abs=0.03)
    below = np.mean(points < part.predict(level))
    assert below == pytest.approx(0.5, abs=0.02)


def test_a_missing_input_reads_its_median_plus_a_learned_term():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 10, (4000, 2))
    y = 1.0 + 2.0 * X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.2, 4000)
    hidden = X.copy()
    hidden[X[:, 1] > 8, 1] = np.nan  # unknown exactly when it is large
    part = fit_linear_part(hidden, y)
    assert part.fill[1] == pytest.approx(np.nanmedian(hidden[:, 1]))
    assert part.missing[0] == 0.0 and part.missing[1] > 1.5  # 0.5 x (≈9 - ≈4)
    unknown = np.isnan(hidden[:, 1])
    error = np.abs(part.predict(hidden) - y)
    assert error[unknown].mean() < 0.5


def test_an_input_never_seen_in_training_does_not_break_the_fit():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(0, 10, 500), np.full(500, np.nan)])
    y = 3.0 * X[:, 0] + rng.normal(0, 0.1, 500)
    part = fit_linear_part(X, y)
    assert part.fill[1] == 0.0
    assert np.isfinite(part.predict(np.array([[5.0, np.nan], [5.0, 2.0]]))).all()
    assert part.predict(np.array([[5.0, np.nan]]))[0] == pytest.approx(15.0, abs=0.2)


def test_the_part_survives_a_round_trip_and_refuses_the_wrong_width():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 10, (300, 3))
    X[::7, 2] = np.nan
    part = fit_linear_part(X, X[:, 0] + rng.normal(0, 1, 300))
    again = LinearPart.from_dict(part.to_dict(), 3)
    assert np.array_equal(again.predict(X), part.predict(X))
    with pytest.raises(ValueError, match="must have 4 coefficients"):
        LinearPart.from_dict(part.to_dict(), 4)
