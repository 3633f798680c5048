"""Similar past games (``similarity_balanced_v1``, edge 2.0, floor 65).

Candidates are the player's games from the last 90 days (``0 <= days_ago <= 90``). Each gets a
similarity in [0, 1], a weighted sum of four closeness scores:

    defense tier 0.35   tiers <110 strong, 110-116 average, >116 weak; same 1, adjacent 0.5
    rest bucket  0.20   0 / 1 / 2+ days; same 1, adjacent 0.5
    venue        0.15   same 1, else 0
    form         0.30   exp(-|form - tonight's L5| / max(3, 0.2·L5))

A match has similarity >= 0.5; the 30 most similar matches (ties: most recent first) are used,
and fewer than 5 raise ``PredictionUnavailable``. The prediction is their weighted mean points,
each game weighing similarity⁴ (a flat weight would let a game against the opposite defense
tier, at 0.65, count almost as much as a perfect match), plus residual adjustments for what the
matching could not equalise (means below use the same weights):

    form     0.5 x (L5 - weighted mean form), within ±3
    defense  0.10 x (tonight's def rating - weighted mean def rating), within ±1.5
    venue    1.0 x (home tonight - weighted home share)
    rest     0.75 x (tonight's rest bucket - weighted mean rest bucket)
    fatigue  -(100 - fatigue)/100 x 1.0;  pace 0.3 x pace_score;  usage 0.4 x usage_spike_score

all together capped at ±5 points.

Confidence = 35 + 25·min(1, n/20) + 30·mean similarity - min(40, 50·CV of the matched points),
CV = weighted std / max(weighted mean, 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tipoff.domain.systems.base import (
    SIMILARITY,
    FeatureView,
    Prediction,
    PredictionUnavailable,
    fatigue_adjustment,
    finish,
    rounded,
)

WINDOW_DAYS = 90
MAX_MATCHES = 30
MIN_MATCHES = 5
MIN_SIMILARITY = 0.5
WEIGHT_POWER = 4
STRONG_DEFENSE_BELOW, WEAK_DEFENSE_ABOVE = 110.0, 116.0
WEIGHTS = {"defense": 0.35, "rest": 0.20, "venue": 0.15, "form": 0.30}
FORM_SCALE_MIN, FORM_SCALE_SHARE = 3.0, 0.2
FORM_PER_POINT, FORM_CAP = 0.5, 3.0
DEFENSE_PER_POINT, DEFENSE_CAP = 0.10, 1.5
VENUE_PER_SHARE = 1.0
REST_PER_BUCKET = 0.75
FATIGUE_SCALE = 1.0
PACE_PER_POINT = 0.3
USAGE_PER_POINT = 0.4
CONFIDENCE_BASE, COUNT_WEIGHT, COUNT_FULL, SIMILARITY_WEIGHT = 35.0, 25.0, 20.0, 30.0
SPREAD_WEIGHT, SPREAD_CAP = 50.0, 40.0
ADJUSTMENT_CAP = 5.0


class PastGame(NamedTuple):
    """One of the player's finished games, described as it looked before tip-off (a named
    tuple: a worker builds a year of them per player, ≈ 5× faster than a frozen dataclass)."""

    days_ago: int
    points: float
    opponent_def_rating: float
    days_rest: int
    is_home: bool
    form: float  # the player's L5 average before that game
    minutes: float = 0.0  # minutes played in that game (``minutes_role``)
    started: bool = False
    field_goal_attempts: float = 0.0  # shots and free throws (``model_inputs``)
    free_throw_attempts: float = 0.0


@dataclass(frozen=True)
class Context:
    """Tonight's situation in the terms past games are compared on."""

    defense_tier: int
    rest_bucket: int
    is_home: bool
    form: float


def defense_tier(def_rating: float) -> int:
    """0 strong (< 110), 1 average (110-116), 2 weak (> 116)."""
    if def_rating < STRONG_DEFENSE_BELOW:
        return 0
    return 2 if def_rating > WEAK_DEFENSE_ABOVE else 1


def rest_bucket(days_rest: int) -> int:
    """0, 1 or 2 (two or more days)."""
    return min(max(days_rest, 0), 2)


def tonight(f: FeatureView, days_rest: int | None) -> Context:
    """Tonight's context; without ``days_rest``, a back-to-back is 0 days and otherwise 1."""
    if days_rest is None:
        days_rest = 0 if f.back_to_back >= 0.5 else 1
    return Context(defense_tier(f.opponent_def_rating), rest_bucket(days_rest),
                   f.home_away >= 0.5, f.points_avg_last_5)


def _step_closeness(a: int, b: int) -> float:
    return {0: 1.0, 1: 0.5}.get(abs(a - b), 0.0)


def similarity(game: PastGame, now: Context) -> float:
    """How much ``game`` resembles tonight, 0..1."""
    scale = max(FORM_SCALE_MIN, FORM_SCALE_SHARE * now.form)
    scores = {
        "defense": _step_closeness(defense_tier(game.opponent_def_rating), now.defense_tier),
        "rest": _step_closeness(rest_bucket(game.days_rest), now.rest_bucket),
        "venue": 1.0 if game.is_home == now.is_home else 0.0,
        "form": math.exp(-abs(game.form - now.form) / scale),
    }
    return sum(WEIGHTS[key] * score for key, score in scores.items())


def find_matches(history: Sequence[PastGame], now: Context) -> list[tuple[float, PastGame]]:
    """The most similar recent games, best first, at most ``MAX_MATCHES``."""
    recent = [g for g in history if 0 <= g.days_ago <= WINDOW_DAYS and math.isfinite(g.points)]
    scored = _similarities(recent, now)
    matches = [(s, g) for s, g in scored if s >= MIN_SIMILARITY]
    matches.sort(key=lambda pair: (-pair[0], pair[1].days_ago))
    return matches[:MAX_MATCHES]


def _similarities(games: Sequence[PastGame], now: Context) -> list[tuple[float, PastGame]]:
    """``similarity`` of each game, with tonight's side of every score worked out once (the
    same products summed in the same order, so the same floats)."""
    scale = max(FORM_SCALE_MIN, FORM_SCALE_SHARE * now.form)
    defense = [WEIGHTS["defense"] * _step_closeness(tier, now.defense_tier) for tier in range(3)]
    rest = [WEIGHTS["rest"] * _step_closeness(bucket, now.rest_bucket) for bucket in range(3)]
    venue = {True: WEIGHTS["venue"] * 1.0, False: WEIGHTS["venue"] * 0.0}
    form_weight, form, exp = WEIGHTS["form"], now.form, math.exp
    scored = []
    for g in games:
        rating = g.opponent_def_rating
        tier = 0 if rating < STRONG_DEFENSE_BELOW else 2 if rating > WEAK_DEFENSE_ABOVE else 1
        score = (defense[tier] + rest[min(max(g.days_rest, 0), 2)]
                 + venue[g.is_home == now.is_home]
                 + form_weight * exp(-abs(g.form - form) / scale))
        scored.append((score, g))
    return scored


def match_weight(similarity_score: float) -> float:
    """How much a matched game counts in the means: similarity to the fourth power."""
    return similarity_score**WEIGHT_POWER


def matched_means(matches: Sequence[tuple[float, PastGame]]) -> dict[str, float]:
    """Weighted means of the matched games' points and context."""
    columns = {
        "points": [g.points for _, g in matches],
        "form": [g.form for _, g in matches],
        "def_rating": [g.opponent_def_rating for _, g in matches],
        "home": [float(g.is_home) for _, g in matches],
        "rest": [float(rest_bucket(g.days_rest)) for _, g in matches],
    }
    weights = [match_weight(s) for s, _ in matches]
    total = sum(weights)
    return {key: sum(w * v for w, v in zip(weights, values)) / total
            for key, values in columns.items()}


def weighted_spread(matches: Sequence[tuple[float, PastGame]], mean_points: float) -> float:
    """Weighted standard deviation of the matched games' points."""
    weights = [match_weight(s) for s, _ in matches]
    squares = [(g.points - mean_points) ** 2 for _, g in matches]
    return math.sqrt(sum(w * sq for w, sq in zip(weights, squares)) / sum(weights))


def _means_and_spread(matches: Sequence[tuple[float, PastGame]]) -> tuple[dict[str, float], float]:
    """``matched_means`` and ``weighted_spread`` with the weights worked out once (the same
    sums in the same order)."""
    weights = [match_weight(s) for s, _ in matches]
    games = [g for _, g in matches]
    total = sum(weights)
    means = {
        "points": sum(w * g.points for w, g in zip(weights, games)) / total,
        "form": sum(w * g.form for w, g in zip(weights, games)) / total,
        "def_rating": sum(w * g.opponent_def_rating for w, g in zip(weights, games)) / total,
        "home": sum(w * float(g.is_home) for w, g in zip(weights, games)) / total,
        "rest": sum(w * float(rest_bucket(g.days_rest)) for w, g in zip(weights, games)) / total,
    }
    squares = sum(w * (g.points - means["points"]) ** 2 for w, g in zip(weights, games))
    return means, math.sqrt(squares / total)


def _clamp(value: float, cap: float) -> float:
    return min(max(value, -cap), cap)


def residual_adjustments(
    f: FeatureView, now: Context, means: Mapping[str, float]
) -> dict[str, float]:
    """Adjustments for the differences between tonight and the matched games, in points."""
    defense_gap = f.opponent_def_rating - means["def_rating"]
    return {
        "form": _clamp(FORM_PER_POINT * (now.form - means["form"]), FORM_CAP),
        "defense": _clamp(DEFENSE_PER_POINT * defense_gap, DEFENSE_CAP),
        "venue": VENUE_PER_SHARE * (float(now.is_home) - means["home"]),
        "rest": REST_PER_BUCKET * (now.rest_bucket - means["rest"]),
        "fatigue": fatigue_adjustment(f, FATIGUE_SCALE),
        "pace": PACE_PER_POINT * f.pace_score,
        "usage": USAGE_PER_POINT * f.usage_spike_score,
    }


def match_confidence(n: int, mean_similarity: float, mean_points: float, spread: float) -> float:
    """Confidence from the number and closeness of matches and the spread of their points."""
    variation = spread / max(mean_points, 1.0)
    return (CONFIDENCE_BASE + COUNT_WEIGHT * min(1.0, n / COUNT_FULL)
            + SIMILARITY_WEIGHT * mean_similarity - min(SPREAD_CAP, SPREAD_WEIGHT * variation))


def similarity_predict(
    features: FeatureView | Sequence[float] | Mapping[str, float],
    line: float | None,
    history: Sequence[PastGame],
    *,
    days_rest: int | None = None,
) -> Prediction:
    """Predict points from the player's most similar recent games (needs at least 5)."""
    f = FeatureView.of(features)
    now = tonight(f, days_rest)
    matches = find_matches(history, now)
    if len(matches) < MIN_MATCHES:
        raise PredictionUnavailable(
            f"only {len(matches)} similar games in the last {WINDOW_DAYS} days "
            f"(need {MIN_MATCHES})"
        )
    means, spread = _means_and_spread(matches)
    mean_points = means["points"]
    mean_similarity = sum(s for s, _ in matches) / len(matches)
    parts = residual_adjustments(f, now, means)
    total = _clamp(sum(parts.values()), ADJUSTMENT_CAP)
    components = {
        "n_matches": len(matches),
        "mean_similarity": round(mean_similarity, 4),
        "spread": round(spread, 3),
        "weighted_mean_points": round(mean_points, 3),
        "adjustments": rounded(parts),
        "adjustment_total": round(total, 3),
    }
    confidence = match_confidence(len(matches), mean_similarity, mean_points, spread)
    return finish(SIMILARITY, mean_points + total, confidence, line, components)
