"""Run the systems for one player and every line, each behind a circuit-breaker gate.

Shared by the worker (live nights) and the backtest, so both predict the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import structlog

from tipoff.domain.systems import (
    ENSEMBLE, MOVING_AVERAGE, SIMILARITY, XGBOOST, ZONE_MATCHUP, FeatureView, PastGame,
    Prediction, PredictionUnavailable, XGBoostSystem, ensemble_predict, moving_average_predict,
    similarity_predict, zone_matchup_predict,
)
from tipoff.domain.systems.base import MARKET, MINUTES_ROLE
from tipoff.domain.systems.calibration import Calibration, calibrated_pick
from tipoff.domain.systems.market import PRIOR_BETA, market_predict
from tipoff.domain.systems.minutes_role import RoleContext, minutes_role_predict
from tipoff.domain.systems.model_inputs import model_inputs

log = structlog.get_logger(__name__)

# A component system: (features, line, context) -> Prediction.
System = Callable[[FeatureView, "float | None", "PlayerContext"], Prediction]


@dataclass(frozen=True)
class PlayerContext:
    """What a system may need beyond the feature vector.

    ``precomputed`` holds predictions already made for a whole batch at once (keyed by system
    id and line), so a vectorised model is not called row by row. With ``calibration`` (the
    model's), the ensemble's confidence is its calibrated win probability and it picks only
    where the expected value at the line's price (``prices``: line → (over, under) American
    odds, −110 when absent) is positive. ``role`` is tonight's slate as it bears on the
    player's team (teammates ruled out, the opponent's win share: ``minutes_role.slate_roles``).
    """

    history: Sequence[PastGame] = ()
    days_rest: int | None = None
    player_lookup: str = ""
    precomputed: Mapping[tuple[str, float | None], Prediction] = field(default_factory=dict)
    calibration: Calibration | None = None
    prices: Mapping[float, tuple[float, float]] = field(default_factory=dict)  # book lines only
    role: RoleContext | None = None


class Gate:
    """Decides whether a system may run and hears how it went (the circuit breakers)."""

    def allows(self, system_id: str) -> bool:
        return True

    def succeeded(self, system_id: str) -> None:
        """The system produced predictions."""

    def failed(self, system_id: str, error: Exception) -> None:
        """The system raised something other than PredictionUnavailable."""


@dataclass
class PlayerPredictions:
    """Predictions of one player across lines, and how each system fared."""

    predictions: list[Prediction] = field(default_factory=list)
    succeeded: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)


def default_systems(model: XGBoostSystem) -> dict[str, System]:
    """The component systems the ensemble combines, in canonical order; the market-aware
    system predicts only against a sportsbook line, and the ensemble weighs it only there."""
    def xgboost(f: FeatureView, line: float | None, ctx: PlayerContext) -> Prediction:
        return ctx.precomputed.get((XGBOOST, line)) or model.predict(
            model_inputs(f.values, ctx.history, ctx.role, ctx.days_rest), line)

    beta = PRIOR_BETA if model.artifact is None else float(
        model.artifact.metrics.get("market_beta", PRIOR_BETA))
    return {
        MOVING_AVERAGE: lambda f, line, ctx: moving_average_predict(f, line),
        ZONE_MATCHUP: lambda f, line, ctx: zone_matchup_predict(f, line),
        SIMILARITY: lambda f, line, ctx: similarity_predict(f, line, ctx.history,
                                                            days_rest=ctx.days_rest),
        XGBOOST: xgboost,
        MINUTES_ROLE: lambda f, line, ctx: minutes_role_predict(f, line, ctx.history, ctx.role,
                                                                ctx.days_rest),
        MARKET: lambda f, line, ctx: market_predict(
            f, line, xgboost(f, line, ctx).predicted_points, beta, line in ctx.prices),
    }


def row_model_inputs(row: Mapping, history: Mapping[str, Sequence[PastGame]],
                     roles: Mapping[str, RoleContext]) -> list[float]:
    """``model_inputs`` of a stage 4 row, from the night's histories and slate roles by
    player (the worker and the backtest build the booster's rows alike)."""
    player = row["player_lookup"]
    return model_inputs(row["features"], history.get(player, ()), roles.get(player),
                        row["days_rest"])


def precompute_xgboost(model: XGBoostSystem,
                       rows: Sequence[tuple[str, Sequence[float], float | None]],
                       ) -> dict[str, dict[tuple[str, float | None], Prediction]]:
    """The model's predictions for many (player, ``model_inputs`` row, line) rows in one
    call, keyed by player as ``PlayerContext.precomputed`` wants them; empty when the model
    cannot predict (each player then fails that system with the model's reason)."""
    if not rows or not model.available:
        return {}
    try:
        made = model.predict_many(np.array([f for _, f, _ in rows], dtype=float),
                                  [line for _, _, line in rows])
    except PredictionUnavailable:
        return {}
    by_player: dict[str, dict[tuple[str, float | None], Prediction]] = {}
    for (player, _, line), prediction in zip(rows, made):
        by_player.setdefault(player, {})[(XGBOOST, line)] = prediction
    return by_player


def ensemble_weights(model: XGBoostSystem) -> Mapping[str, float] | None:
    """The ensemble weights trained with the model (None without a model)."""
    return None if model.artifact is None else model.artifact.ensemble_weights


def book_prices(lines) -> dict[float, tuple[float, float]]:
    """Sportsbook lines of a request at the standard −110 (requests carry no prices)."""
    return {line.value: (-110.0, -110.0) for line in lines if line.source == "sportsbook"}


def ensemble_calibration(model: XGBoostSystem) -> Calibration | None:
    """The ensemble's confidence calibration trained with the model (None without one)."""
    return None if model.artifact is None else Calibration.from_dict(model.artifact.calibration)


def predict_player(features: Sequence[float], lines: Sequence[float | None],
                   context: PlayerContext, systems: Mapping[str, System],
                   ensemble_weights: Mapping[str, float] | None, gate: Gate) -> PlayerPredictions:
    """Every system for every line; a system that is gated off or fails is skipped alone."""
    view = FeatureView.of(features)
    result = PlayerPredictions()
    for line in lines:
        components = {}
        for system_id, system in systems.items():
            prediction = _run(system_id, lambda: system(view, line, context), gate, result)
            if prediction is not None:
                components[system_id] = prediction
        result.predictions.extend(components.values())
        ensemble = _run(ENSEMBLE, lambda: _ensemble(components, ensemble_weights, line, context),
                        gate, result)
        if ensemble is not None:
            result.predictions.append(ensemble)
    result.succeeded -= set(result.failed)
    return result


def _ensemble(components: Mapping[str, Prediction], weights: Mapping[str, float] | None,
              line: float | None, context: PlayerContext) -> Prediction:
    prediction = ensemble_predict(components, weights, line)
    if context.calibration is None:
        return prediction
    return calibrated_pick(prediction, prediction.predicted_points, context.calibration,
                           context.prices.get(line) if line is not None else None)


def _run(system_id: str, call: Callable[[], Prediction], gate: Gate,
         result: PlayerPredictions) -> Prediction | None:
    if not gate.allows(system_id):
        result.failed[system_id] = "circuit breaker open"
        return None
    try:
        prediction = call()
    except PredictionUnavailable as exc:
        result.failed[system_id] = exc.reason
        return None
    except Exception as exc:  # a broken system must not fail the other four
        log.warning("system_failed", system_id=system_id, error=repr(exc), exc_info=True)
        gate.failed(system_id, exc)
        result.failed[system_id] = f"error: {exc!r}"
        return None
    gate.succeeded(system_id)
    result.succeeded.add(system_id)
    return prediction
