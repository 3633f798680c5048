"""Rows in (group, day) order with prefix sums: any window of a group's rows in O(1).

Stage 4's windows ("the player's last 10 games of D's season before D") become index
ranges: ``before(group, day)`` is the position of a group's first row on or after ``day``,
so ``[before(g, season_start), before(g, D))`` is the group's season before D and its last
10 rows are ``[max(start, end − 10), end)``. Sums over a range come from prefix sums kept in
extended precision, so a window's sum is as exact as summing its rows directly.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

DAY_SHIFT = np.int64(1 << 20)  # day numbers (days since 1970-01-01) stay far below this


def day_keys(groups: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One sortable int64 per (group, day): group-major, then day."""
    return groups.astype(np.int64) * DAY_SHIFT + days.astype(np.int64)


class Timeline:
    """Rows already sorted by (group, day, …) with prefix sums of some numeric columns.

    NaN values count as missing: ``total`` skips them and ``count`` does not count them, as
    pandas' ``sum`` and ``mean`` do.
    """

    def __init__(self, groups: np.ndarray, days: np.ndarray,
                 columns: Mapping[str, np.ndarray] | None = None) -> None:
        self.groups = np.asarray(groups, dtype=np.int64)
        self.days = np.asarray(days, dtype=np.int64)
        self.keys = day_keys(self.groups, self.days)
        if np.any(np.diff(self.keys) < 0):
            raise ValueError("timeline rows must be sorted by group and day")
        self._values = {name: np.asarray(values, dtype=float)
                        for name, values in (columns or {}).items()}
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, np.ndarray] = {}
        for name, values in self._values.items():
            valid = ~np.isnan(values)
            self._sums[name] = _prefix(np.where(valid, values, 0.0))
            self._counts[name] = _prefix(valid.astype(float))

    def values(self, name: str) -> np.ndarray:
        """The column's values, row by row."""
        return self._values[name]

    def before(self, groups: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Position of each group's first row on or after each day (where its rows before the
        day end)."""
        return np.searchsorted(self.keys, day_keys(np.asarray(groups), np.asarray(days)))

    def last_day(self, groups: np.ndarray, end: np.ndarray, since: np.ndarray) -> np.ndarray:
        """Day of the group's row just before ``end`` when it is on or after ``since``; NaN
        otherwise (no such row)."""
        last = np.clip(end - 1, 0, max(len(self.days) - 1, 0))
        if len(self.days) == 0:
            return np.full(len(end), np.nan)
        found = (end > 0) & (self.groups[last] == groups) & (self.days[last] >= since)
        return np.where(found, self.days[last], np.nan)

    def total(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sum of the column over rows [lo, hi), missing values skipped."""
        sums = self._sums[name]
        return (sums[hi] - sums[lo]).astype(float)

    def count(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Number of non-missing values of the column over rows [lo, hi)."""
        counts = self._counts[name]
        return (counts[hi] - counts[lo]).astype(float)

    def mean(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Mean of the column over rows [lo, hi) (NaN without any value)."""
        n = self.count(name, lo, hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.total(name, lo, hi) / np.where(n > 0, n, 1.0), np.nan)


def _prefix(values: np.ndarray) -> np.ndarray:
    """0, v0, v0+v1, … in extended precision (window sums stay exact to float64)."""
    out = np.zeros(len(values) + 1, dtype=np.longdouble)
    np.cumsum(values.astype(np.longdouble), out=out[1:])
    return out
