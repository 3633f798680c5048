"""Who is hurt and who plays: multi-game injuries, one-night listings and coach's decisions.

Statuses are codes into ``INJURY_STATUSES`` (available, probable, questionable, doubtful, out),
one per roster slot (a player on a team's roster for one game).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipoff.domain.analytics import INJURY_STATUSES

AVAILABLE, PROBABLE, QUESTIONABLE, DOUBTFUL, OUT = range(len(INJURY_STATUSES))
PLAY_CHANCE = np.array([1.0, 0.93, 0.5, 0.12, 0.0])  # indexed by status code
INJURY_CHANCE = 0.012  # per game, for a healthy player: out for several games
LISTING_CHANCE = 0.05  # per game: listed for one night only
LISTING_STATUSES = np.array([PROBABLE, QUESTIONABLE, DOUBTFUL, OUT])
LISTING_WEIGHTS = np.array([0.45, 0.35, 0.10, 0.10])
PRESEASON_INJURY_CHANCE = 0.03
MIN_PLAYERS = 8
MEAN_GAMES_OUT = 7.0


def injury_statuses(
    rng: np.random.Generator, player_idx: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """The pre-game status of each slot, walking every player's games in date order."""
    order = np.lexsort((day, player_idx))
    players = player_idx[order]
    count = len(order)
    walked = _walk(
        first=np.r_[True, players[1:] != players[:-1]].tolist(),
        draws=rng.random(count).tolist(),
        returns=rng.random(count).tolist(),
        listings=rng.choice(LISTING_STATUSES, size=count, p=LISTING_WEIGHTS).tolist(),
        lengths=_games_out(rng, count).tolist(),
        preseason=(rng.random(count) < PRESEASON_INJURY_CHANCE).tolist(),
    )
    statuses = np.empty(count, dtype=int)
    statuses[order] = walked
    return statuses


def _games_out(rng: np.random.Generator, count: int) -> np.ndarray:
    """Lengths of injuries in games: at least two, mostly about a week, a few a month or more."""
    return (1 + rng.geometric(1.0 / (MEAN_GAMES_OUT - 1.0), size=count)).clip(2, 35)


def _walk(
    first: list[bool], draws: list[float], returns: list[float], listings: list[int],
    lengths: list[int], preseason: list[bool],
) -> list[int]:
    """One status per game: an injury keeps a player out, then he returns listed once."""
    statuses: list[int] = []
    out_left, returning = 0, False
    for k, draw in enumerate(draws):
        if first[k]:
            out_left, returning = (lengths[k] if preseason[k] else 0), False
        if out_left == 0 and not returning and draw < INJURY_CHANCE:
            out_left = lengths[k]
        if out_left:
            out_left -= 1
            returning = out_left == 0
            statuses.append(OUT)
        elif returning:
            returning = False
            statuses.append(QUESTIONABLE if returns[k] < 0.6 else PROBABLE)
        else:
            statuses.append(listings[k] if draw < INJURY_CHANCE + LISTING_CHANCE else AVAILABLE)
    return statuses


def play_decisions(
    rng: np.random.Generator, status: np.ndarray, dnp: np.ndarray, side: np.ndarray
) -> np.ndarray:
    """Whether each slot's player plays: fit enough, and picked by the coach.

    Deep-bench players sit most nights, but get on the floor when teammates are missing. A short
    team dresses at least ``MIN_PLAYERS``: benched players first, then listed players who are
    not ruled out. ``side`` must be sorted.
    """
    fit = rng.random(len(status)) < PLAY_CHANCE[status]
    missing = np.bincount(side, weights=~fit)[side]
    benched = fit & (rng.random(len(status)) < benched_chance(dnp, missing))
    plays = _call_up(fit & ~benched, benched, side)
    return _call_up(plays, ~fit & (status != OUT), side)


def _call_up(plays: np.ndarray, pool: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Add players from ``pool``, in slot order, to sides with fewer than ``MIN_PLAYERS``."""
    short = np.maximum(0, MIN_PLAYERS - np.bincount(side, weights=plays))[side]
    rank = pd.Series(pool).groupby(side).cumsum().to_numpy()
    return plays | (pool & (rank <= short))


def benched_chance(dnp: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Chance a fit player sits by the coach's decision, given how many teammates are missing."""
    return dnp * np.maximum(0.25, 1.0 - 0.3 * missing)


def play_chance(status: np.ndarray, dnp: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Before tip-off: each slot's chance of playing, from the statuses of the whole roster."""
    fit = PLAY_CHANCE[status]
    missing = np.bincount(side, weights=1.0 - fit)[side]
    return fit * (1.0 - benched_chance(dnp, missing))


def injury_report_frame(
    rng: np.random.Generator, slots: pd.DataFrame, tipoffs: pd.Series
) -> pd.DataFrame:
    """One report row per listed player and game, filed by his team 2–6 hours before tip-off.

    ``slots`` needs side, game, game_date, player_lookup and status; ``tipoffs`` is indexed by
    game. Healthy players are not reported.
    """
    lead_minutes = 5 * rng.integers(24, 73, size=int(slots["side"].max()) + 1)
    listed = slots[slots["status"] != AVAILABLE]
    tipoff = pd.DatetimeIndex(tipoffs)[listed["game"].to_numpy()]
    reported_at = tipoff - pd.to_timedelta(lead_minutes[listed["side"].to_numpy()], unit="min")
    frame = pd.DataFrame({
        "game_date": listed["game_date"].to_numpy(),
        "player_lookup": listed["player_lookup"].to_numpy(),
        "status": np.array(INJURY_STATUSES)[listed["status"]],
        "reported_at": reported_at,
    })
    return frame.sort_values(["game_date", "reported_at", "player_lookup"], ignore_index=True)
