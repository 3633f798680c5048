"""Sportsbook points lines of the synthetic league.

Books price players they project for real minutes or points and who are not ruled out. Each
book hangs a half-point line near a noisy market estimate of the player's expected points, at
prices around -110, a few hours before tip-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipoff.domain.analytics import POINTS_MARKET
from tipoff.sim.league.injuries import AVAILABLE, PROBABLE, QUESTIONABLE

BOOKMAKERS = ("draftkings", "fanduel", "betmgm")
BOOK_COVERAGE = np.array([0.92, 0.85, 0.60])  # chance that a book prices a priceable player
PRICED_STATUSES = (AVAILABLE, PROBABLE, QUESTIONABLE)
MIN_PROJECTED_MINUTES = 20.0
MIN_PROJECTED_POINTS = 8.0
MARKET_NOISE = 0.07  # relative error of the market's estimate of expected points
BOOK_NOISE = 0.35  # points by which one book strays from the market
OVER_PRICES = np.array([-105, -110, -110, -110, -115, -120, -125])


def is_priced(status: np.ndarray, minutes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Whether books price a slot from its status and projected minutes and points."""
    playing = np.isin(status, PRICED_STATUSES)
    return playing & ((minutes >= MIN_PROJECTED_MINUTES) | (points >= MIN_PROJECTED_POINTS))


def prop_line_frame(
    rng: np.random.Generator, slots: pd.DataFrame, tipoffs: pd.Series
) -> pd.DataFrame:
    """One row per priced slot and book that offers it.

    ``slots`` needs game, game_date, player_lookup, status, projected_minutes and
    projected_points; ``tipoffs`` is indexed by game.
    """
    priced = slots[is_priced(
        slots["status"].to_numpy(), slots["projected_minutes"].to_numpy(),
        slots["projected_points"].to_numpy(),
    )]
    market = priced["projected_points"].to_numpy() * rng.lognormal(0.0, MARKET_NOISE, len(priced))
    row, book = _offers(rng, len(priced))
    count = len(row)
    estimate = market[row] + rng.normal(0.0, BOOK_NOISE, count)
    over = rng.choice(OVER_PRICES, size=count)
    lead = pd.to_timedelta(5 * rng.integers(18, 61, size=count), unit="min")
    frame = pd.DataFrame({
        "game_date": priced["game_date"].to_numpy()[row],
        "player_lookup": priced["player_lookup"].to_numpy()[row],
        "market": POINTS_MARKET,
        "bookmaker": np.array(BOOKMAKERS)[book],
        "line": np.maximum(np.floor(estimate), 0.0) + 0.5,
        "over_price": over,
        "under_price": np.clip(-220 - over, -125, -105),
        "captured_at": pd.DatetimeIndex(tipoffs)[priced["game"].to_numpy()[row]] - lead,
    })
    return frame.sort_values(
        ["game_date", "captured_at", "player_lookup", "bookmaker"], ignore_index=True
    )


def _offers(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(priced row, book) pairs: each book by its coverage, and at least one book per player."""
    offered = rng.random((count, len(BOOKMAKERS))) < BOOK_COVERAGE
    offered[~offered.any(axis=1), 0] = True
    return np.nonzero(offered)
