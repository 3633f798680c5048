"""Box scores of the synthetic league, drawn for every game at once with numpy.

A *side* is one team in one game (index ``2·game`` for the home team, ``2·game + 1`` for the
away team); a *slot* is one rostered player on one side. A side's expected points come from the
possessions of the game, its offense against the opponent's defense, home court, rest and the
talent it has available; each player's expected points are his share of that total by skill ×
expected minutes. Actual points add the game's pace, the player's minutes, his form that night
and shot-by-shot luck, so their spread grows with the scoring level (variance ≈ 2 × mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipoff.sim.league.teams import LEAGUE_RATING, TEAM_MINUTES

HOME_EDGE = 0.012  # share of points gained at home (and lost away)
REST_FACTOR = {0: 0.965, 1: 1.0}  # back-to-back tires a team; two or more days off help a bit
RESTED_FACTOR = 1.01
TALENT_ELASTICITY = 0.5
PACE_NOISE = 0.025
FORM_CV = 0.10
TEAM_ATTEMPT_DISPERSION = 0.3  # variance / mean of a side's attempts: possessions bound them
MINUTES_CAP = 42.0  # of a player's expected minutes
PLAYED_MINUTES_CAP = 44.0


def team_sides(games: pd.DataFrame) -> pd.DataFrame:
    """Two rows per game (home first) with the team's rest days before it (3 before its first)."""
    count = len(games)
    sides = pd.DataFrame({
        "side": np.arange(2 * count),
        "game": np.repeat(np.arange(count), 2),
        "day": np.repeat(games["day"].to_numpy(), 2),
        "team_idx": np.column_stack([games["home_idx"], games["away_idx"]]).ravel(),
        "opp_idx": np.column_stack([games["away_idx"], games["home_idx"]]).ravel(),
        "is_home": np.tile([True, False], count),
    })
    previous = sides.groupby("team_idx")["day"].shift()
    sides["rest_days"] = (sides["day"] - previous - 1).fillna(3).astype(int)
    return sides


def roster_slots(sides: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Every player on each side's roster on the game's day."""
    merged = sides.merge(periods, on="team_idx")
    on_roster = (merged["day"] >= merged["first_day"]) & (merged["day"] <= merged["last_day"])
    slots = merged.loc[on_roster].drop(columns=["first_day", "last_day"])
    return slots.sort_values(["side", "player_idx"], ignore_index=True)


def share_minutes(
    side: np.ndarray, weight: np.ndarray, sides: int, cap: float = MINUTES_CAP
) -> np.ndarray:
    """Spread each side's 240 minutes over its slots in proportion to ``weight``, capped.

    What the cap cuts off goes to the uncapped players, so a short-handed side leans on its
    bench rather than playing its starters past the cap.
    """
    minutes = weight.astype(float)
    capped = np.zeros(len(minutes), dtype=bool)
    for _ in range(8):  # each round caps at least one more player or settles
        fixed = np.bincount(side, weights=capped * cap, minlength=sides)
        free = np.bincount(side, weights=np.where(capped, 0.0, minutes), minlength=sides)
        scale = np.divide(TEAM_MINUTES - fixed, free, out=np.zeros(sides), where=free > 0)
        minutes = np.where(capped, cap, minutes * scale[side])
        if not (minutes > cap).any():
            break
        capped |= minutes > cap
    return np.minimum(minutes, cap)


def shares(side: np.ndarray, weight: np.ndarray, sides: int) -> np.ndarray:
    """Each slot's fraction of its side's total ``weight``."""
    total = np.bincount(side, weights=weight, minlength=sides)
    return weight / total[side]


def possessions(sides: pd.DataFrame, teams: pd.DataFrame) -> np.ndarray:
    """Expected possessions of each game: the mean of the two teams' paces."""
    pace = teams["pace"].to_numpy()[sides["team_idx"].to_numpy()]
    return 0.5 * (pace[0::2] + pace[1::2])


def side_expected_points(
    sides: pd.DataFrame, teams: pd.DataFrame, talent: np.ndarray
) -> np.ndarray:
    """Each side's expected points before any game-night luck."""
    offense = teams["off_rating"].to_numpy()[sides["team_idx"].to_numpy()]
    defense = teams["def_rating"].to_numpy()[sides["opp_idx"].to_numpy()]
    venue = np.where(sides["is_home"], 1.0 + HOME_EDGE, 1.0 - HOME_EDGE)
    rest = sides["rest_days"].map(REST_FACTOR).fillna(RESTED_FACTOR).to_numpy()
    per_100 = offense + defense - LEAGUE_RATING
    pace = np.repeat(possessions(sides, teams), 2)
    return pace * per_100 / 100.0 * venue * rest * talent**TALENT_ELASTICITY


def talent_on_hand(
    side: np.ndarray, skill: np.ndarray, minutes: np.ndarray, healthy_minutes: np.ndarray,
    sides: int,
) -> np.ndarray:
    """Per side: scoring of tonight's lineup relative to the full-strength roster."""
    tonight = np.bincount(side, weights=skill * minutes, minlength=sides)
    healthy = np.bincount(side, weights=skill * healthy_minutes, minlength=sides)
    return tonight / healthy


def draw_minutes(
    rng: np.random.Generator, side: np.ndarray, expected: np.ndarray, noise: np.ndarray,
    sides: int,
) -> np.ndarray:
    """Actual minutes: each player's expected minutes with his role's spread, still 240 a side."""
    jitter = rng.lognormal(-0.5 * noise**2, noise)
    minutes = share_minutes(side, expected * jitter, sides, cap=PLAYED_MINUTES_CAP)
    return np.round(np.maximum(minutes, 1.0), 1)


def form(rng: np.random.Generator, count: int) -> np.ndarray:
    """A player's hot or cold night: mean 1, coefficient of variation ``FORM_CV``."""
    shape = 1.0 / FORM_CV**2
    return rng.gamma(shape, 1.0 / shape, count)


def steady_count(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Counts with the given mean and variance ≈ ``dispersion`` × mean (``dispersion`` < 1)."""
    trials = mean / (1.0 - dispersion)
    whole = np.floor(trials)
    trials = whole + (rng.random(len(mean)) < trials - whole)
    return rng.binomial(trials.astype(np.int64), 1.0 - dispersion)


def shoot(
    rng: np.random.Generator, side: np.ndarray, intensity: np.ndarray, shooter: pd.DataFrame,
    sides: int,
) -> pd.DataFrame:
    """Shot-by-shot box score lines whose expected points equal ``intensity``.

    ``shooter`` has the players' zone shares, accuracies and free-throw share of points.
    """
    paint, mid, three = (shooter[f"share_{zone}"].to_numpy() for zone in ("paint", "mid", "three"))
    made = {zone: shooter[f"pct_{zone}"].to_numpy() for zone in ("paint", "mid", "three", "ft")}
    per_shot = 2 * (paint * made["paint"] + mid * made["mid"]) + 3 * three * made["three"]
    ft_share = shooter["ft_share"].to_numpy()
    fga = shared_attempts(rng, side, intensity * (1.0 - ft_share) / per_shot, sides)
    # Free throws come in trips and streaks, so they stay Poisson.
    fta = rng.poisson(intensity * ft_share / made["ft"])
    paint_fga = rng.binomial(fga, paint)
    mid_fga = rng.binomial(fga - paint_fga, mid / (mid + three))
    fg3a = fga - paint_fga - mid_fga
    fg2m = rng.binomial(paint_fga, made["paint"]) + rng.binomial(mid_fga, made["mid"])
    fg3m = rng.binomial(fg3a, made["three"])
    ftm = rng.binomial(fta, made["ft"])
    return pd.DataFrame({
        "points": 2 * fg2m + 3 * fg3m + ftm, "fga": fga, "fgm": fg2m + fg3m, "fg3a": fg3a,
        "fg3m": fg3m, "fta": fta, "ftm": ftm, "paint_fga": paint_fga, "mid_fga": mid_fga,
    })


def shared_attempts(
    rng: np.random.Generator, side: np.ndarray, rate: np.ndarray, sides: int
) -> np.ndarray:
    """Field-goal attempts per slot, ``side`` sorted: a side's total is steady, shared by rate.

    Teammates compete for a bounded number of shots, so a hot scorer takes them from the others
    and a team's total varies less than the sum of its players' spreads.
    """
    total = np.bincount(side, weights=rate, minlength=sides)
    attempts = steady_count(rng, total, TEAM_ATTEMPT_DISPERSION)
    position = np.arange(len(side)) - np.searchsorted(side, side)
    odds = np.zeros((sides, int(position.max()) + 1))
    odds[side, position] = rate / total[side]
    return rng.multinomial(attempts, odds)[side, position]


def break_ties(
    rng: np.random.Generator, side: np.ndarray, minutes: np.ndarray, box: pd.DataFrame,
    sides: int,
) -> pd.DataFrame:
    """Settle level games in overtime: one side, picked at random, wins by a basket.

    The basket goes to the winning side's player with the most minutes.
    """
    points = np.bincount(side, weights=box["points"], minlength=sides)
    tied = np.flatnonzero(points[0::2] == points[1::2])
    winners = 2 * tied + (rng.random(len(tied)) < 0.5)
    leader = pd.Series(minutes).groupby(side).idxmax()
    scorers = leader.reindex(winners).to_numpy()
    box = box.copy()
    for column, bump in (("points", 2), ("fga", 1), ("fgm", 1), ("paint_fga", 1)):
        box.loc[scorers, column] += bump
    return box


def team_results(
    side: np.ndarray, points: np.ndarray, pace: np.ndarray, sides: int
) -> pd.DataFrame:
    """Per side: pace (possessions per 48), offensive and defensive rating, and the result."""
    scored = np.bincount(side, weights=points, minlength=sides)
    allowed = scored.reshape(-1, 2)[:, ::-1].ravel()
    pace_per_side = np.round(np.repeat(pace, 2), 1)
    return pd.DataFrame({
        "pace": pace_per_side,
        "off_rating": np.round(100.0 * scored / pace_per_side, 2),
        "def_rating": np.round(100.0 * allowed / pace_per_side, 2),
        "won": scored > allowed,
        "points": scored.astype(int),
    })
