"""The stage 5 worker: one prediction request in, durable rows and exactly one result out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

import structlog

from tipoff.collector import collector_paused
from tipoff.domain import batches as b
from tipoff.domain.features import FEATURE_VERSION, QUALITY_READY_MIN
from tipoff.domain.history import HISTORY_COLUMNS, history_window, past_games
from tipoff.domain.systems.minutes_role import RoleContext, slate_roles
from tipoff.domain.messages import RESULT_TOPIC, Line, Outcome, PredictionRequest, PredictionResult
from tipoff.domain.systems import (
    ENSEMBLE, XGBOOST, BreakerState, Prediction, XGBoostSystem, allow,
)
from tipoff.domain.systems import record_failure, record_success
from tipoff.domain.systems.breaker import CLOSED
from tipoff.errors import AdapterError, PermanentError
from tipoff.pipeline.predict import (
    Gate, PlayerContext, System, book_prices, default_systems, ensemble_calibration,
    ensemble_weights, precompute_xgboost, row_model_inputs,
    predict_player,
)
from tipoff.logs import night_context
from tipoff.ports import BreakerStore, Bus, Clock, Message, WorkerStore

log = structlog.get_logger(__name__)
T = TypeVar("T")
K = TypeVar("K")


class StoreBreakers(Gate):
    """Circuit breakers whose state lives in the store, so every worker shares it."""

    def __init__(self, store: BreakerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._states: dict[str, BreakerState] = {}
        self._changed: set[str] = set()

    def load(self) -> None:
        self._states = {k: _breaker_from_row(v) for k, v in self._store.load_breakers().items()}
        self._changed.clear()

    def _state(self, system_id: str) -> BreakerState:
        return self._states.get(system_id) or BreakerState(system_id)

    def _set(self, state: BreakerState) -> None:
        if state != self._state(state.system_id):
            self._states[state.system_id] = state
            self._changed.add(state.system_id)

    def allows(self, system_id: str) -> bool:
        state = self._states.get(system_id)
        if state is None or _resting(state):  # the common case: no clock, no new state
            return True
        allowed, state = allow(state, self._clock.now())
        self._set(state)
        return allowed

    def succeeded(self, system_id: str) -> None:
        state = self._states.get(system_id)
        if state is not None and not _resting(state):  # a resting breaker stays as it is
            self._set(record_success(state, self._clock.now()))

    def failed(self, system_id: str, error: Exception) -> None:
        self._set(record_failure(self._state(system_id), self._clock.now()))

    def save(self) -> None:
        now = self._clock.now()
        for system_id in sorted(self._changed):
            self._store.save_breaker({**self._state(system_id).__dict__, "updated_at": now})
        self._changed.clear()


def _resting(state: BreakerState) -> bool:
    return state.state == CLOSED and not state.consecutive_failures \
        and not state.consecutive_successes


def _breaker_from_row(row: dict[str, Any]) -> BreakerState:
    return BreakerState(row["system_id"], row["state"], row["consecutive_failures"],
                        row["consecutive_successes"], row["opened_at"])


class Worker:
    """Handles ``prediction-request`` messages (at-least-once: every write is an upsert).

    Messages may arrive one at a time (``handle``) or in lists (``handle_batch``); a list is
    predicted with one read of features and breakers and written in one transaction.
    """

    def __init__(self, store: WorkerStore, bus: Bus, clock: Clock, model: XGBoostSystem, *,
                 worker_id: str = "worker-1", max_attempts: int = 5,
                 systems: dict[str, System] | None = None,
                 feature_version: str = FEATURE_VERSION) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._model = model
        self._systems = systems or default_systems(model)
        # Read from the model's artefact once, not per player.
        self._calibration = ensemble_calibration(model)
        self._weights = ensemble_weights(model)
        self._worker_id = worker_id
        self._max_attempts = max_attempts
        self._feature_version = feature_version
        self._history_date: date | None = None
        self._history_stats: Any = None
        self._history: dict[str, list] = {}
        self._roles_date: date | None = None
        self._roles: dict[str, RoleContext] = {}
        self._completed_date: date | None = None
        self._completed: dict[str, PredictionResult] = {}  # tonight's, by request message id

    def handle(self, message: Message) -> None:
        """Predict one player (see ``handle_batch``)."""
        self.handle_batch([message])

    def handle_batch(self, messages: list[Message]) -> None:
        """Predict, write durably, then publish exactly one result per request.

        A store failure raises (so the bus redelivers) while any message has attempts left;
        on the last attempt every request is reported ``failed`` instead, so the batch ends.
        """
        requests = [PredictionRequest.model_validate(m.data) for m in messages]
        with night_context(**_shared_context(requests)), collector_paused():
            self._handle(requests, messages)

    def _handle(self, requests: list[PredictionRequest], messages: list[Message]) -> None:
        last_attempt = min(m.attempt for m in messages) >= self._max_attempts
        known = {id(r): self._completed[r.message_id()] for r in requests
                 if r.message_id() in self._completed}
        fresh = [r for r in requests if id(r) not in known]
        try:
            made = dict(zip(map(id, fresh), self._predict_all(fresh) if fresh else []))
        except AdapterError as exc:
            if not last_attempt:
                raise
            made = {id(r): self._result(r, b.FAILED, f"gave up after {self._max_attempts} "
                                        f"attempts: {exc}") for r in fresh}
        self._remember(fresh, made)
        results = [known[id(r)] if id(r) in known else made[id(r)] for r in requests]
        # One publish_many: the results go out concurrently and are confirmed together.
        self._bus.publish_many(RESULT_TOPIC, [
            (result.model_dump(mode="json"), f"res:{request.message_id()}")
            for request, result in zip(requests, results)])

    def _remember(self, requests: list[PredictionRequest], made: dict[int, PredictionResult]
                  ) -> None:
        """Keep tonight's predicted requests: a request delivered again (at-least-once
        delivery, a crashed worker's batch) is answered with its result, not predicted and
        written a second time (its rows are durable and would come out identical)."""
        for request in requests:
            result = made[id(request)]
            if result.outcome != b.PREDICTED:
                continue
            if self._completed_date != request.game_date:  # last night's never come back
                self._completed_date, self._completed = request.game_date, {}
            self._completed[request.message_id()] = result

    def _predict_all(self, requests: list[PredictionRequest]) -> list[PredictionResult]:
        gate = StoreBreakers(self._store, self._clock)
        gate.load()
        results: list[tuple[PredictionRequest, PredictionResult]] = []
        rows_by_date: dict[date, list[dict[str, Any]]] = {}
        for game_date, group in _grouped(requests, lambda r: r.game_date).items():
            features = self._store.read_feature_rows(
                game_date, [r.player_lookup for r in group], self._feature_version)
            history = self._history_for(game_date, [r.player_lookup for r in group
                                                    if not _skip_reason(features.get(r.player_lookup))])
            roles = self._roles_for(game_date)
            model_predictions = self._precompute(group, features, history, roles)
            for request in group:
                result, rows = self._predict(request, features.get(request.player_lookup), gate,
                                             model_predictions.get(request.player_lookup, {}),
                                             history.get(request.player_lookup, ()),
                                             roles.get(request.player_lookup))
                results.append((request, result))
                rows_by_date.setdefault(game_date, []).extend(rows)
        unwritten: dict[str, str] = {}
        for game_date, rows in rows_by_date.items():
            unwritten.update(self._write(game_date, rows))
        gate.save()
        order = {id(r): n for n, r in enumerate(requests)}
        return [self._result(request, b.FAILED, unwritten[request.player_lookup])
                if request.player_lookup in unwritten else result
                for request, result in sorted(results, key=lambda pair: order[id(pair[0])])]

    def _write(self, game_date: date, rows: list[dict]) -> dict[str, str]:
        """Write a batch's rows in one transaction. A transient failure propagates (the bus
        redelivers the batch); a permanent one is retried player by player, so one bad player
        cannot fail the others. Returns the players that could not be written, with why."""
        try:
            self._store.write_predictions(game_date, rows)
            return {}
        except PermanentError:
            log.warning("batch_write_failed_retrying_per_player", game_date=str(game_date),
                        rows=len(rows), exc_info=True)
        failed = {}
        for player, player_rows in _grouped(rows, lambda r: r["player_lookup"]).items():
            try:
                self._store.write_predictions(game_date, player_rows)
            except PermanentError as exc:
                failed[player] = f"write refused: {exc}"
        return failed

    def _precompute(self, requests: list[PredictionRequest], features: dict[str, dict],
                    history: dict, roles: dict[str, RoleContext]) -> dict[str, dict]:
        """XGBoost predictions for every ready (player, line) of the batch in one model call."""
        inputs = {r.player_lookup: row_model_inputs(features[r.player_lookup], history, roles)
                  for r in requests if not _skip_reason(features.get(r.player_lookup))}
        return precompute_xgboost(self._model, [
            (player, inputs[player], line.value)
            for r in requests if (player := r.player_lookup) in inputs for line in r.lines])

    def _predict(self, request: PredictionRequest, row: dict | None, gate: Gate,
                 precomputed: dict, history,
                 role: RoleContext | None = None) -> tuple[PredictionResult, list[dict]]:
        skip = _skip_reason(row)
        if skip:
            return self._result(request, b.SKIPPED, skip), []
        assert row is not None  # a missing row is a skip reason
        outcome = predict_player(row["features"], [l.value for l in request.lines],
                                 PlayerContext(history, row["days_rest"], request.player_lookup,
                                               precomputed, self._calibration,
                                               book_prices(request.lines), role),
                                 self._systems, self._weights, gate)
        rows = self._rows(request, row, outcome.predictions)
        if not rows:
            return self._result(request, b.FAILED, "no system could predict",
                                failed=outcome.failed), []
        return self._result(request, b.PREDICTED, "", sorted(outcome.succeeded),
                            outcome.failed, len(rows)), rows

    def _history_for(self, game_date: date, players: list[str]) -> dict:
        """The batch's players' past games, built once per player and night: one read of
        only their logs (and only the columns history needs), reused by later batches and
        redeliveries."""
        if self._history_date != game_date:
            start, end = history_window(game_date)
            self._history_stats = self._store.read_analytics("team_game_stats", start=start,
                                                             end=end)
            self._history_date, self._history = game_date, {}
        missing = [p for p in players if p not in self._history]
        if missing:
            start, end = history_window(game_date)
            logs = self._store.read_analytics("player_game_logs", start=start, end=end,
                                              players=missing, columns=HISTORY_COLUMNS)
            built = past_games(logs, self._history_stats, game_date, players=missing)
            self._history.update({p: built.get(p, []) for p in missing})
        return self._history

    def _roles_for(self, game_date: date) -> dict[str, RoleContext]:
        """Tonight's slate as it bears on each team (``minutes_role.slate_roles``): one read of
        the night's feature rows, reused by later batches of the night."""
        if self._roles_date != game_date:
            rows = self._store.read_features(game_date, self._feature_version)
            self._roles_date, self._roles = game_date, slate_roles(rows)
        return self._roles

    def _rows(self, request: PredictionRequest, row: dict,
              predictions: list[Prediction]) -> list[dict[str, Any]]:
        lines: dict[float | None, Line] = {l.value: l for l in request.lines}
        now = self._clock.now()
        return [prediction_row(request, row, p, lines.get(p.line), self._model_version(p), now)
                for p in predictions]

    def _model_version(self, prediction: Prediction) -> str:
        if prediction.system_id in (XGBOOST, ENSEMBLE) and self._model.model_version:
            return self._model.model_version
        return f"{prediction.system_id}-{self._feature_version}"

    def _result(self, request: PredictionRequest, outcome: Outcome, reason: str,
                succeeded=(), failed=None, rows: int = 0) -> PredictionResult:
        return PredictionResult(
            batch_id=request.batch_id, game_date=request.game_date,
            player_lookup=request.player_lookup, outcome=outcome, reason=reason,
            systems_succeeded=tuple(succeeded), systems_failed=tuple(sorted(failed or {})),
            rows_written=rows, worker_id=self._worker_id)


def _shared_context(requests: list[PredictionRequest]) -> dict[str, Any]:
    """The night identifiers every request of a delivery shares (a mixed delivery binds the
    ones they agree on)."""
    context = {}
    for key in ("game_date", "batch_id", "source", "correlation_id"):
        values = {getattr(r, key) for r in requests}
        if len(values) == 1:
            context[key] = values.pop()
    return context


def _grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    grouped: dict[K, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _skip_reason(row: dict | None) -> str:
    if row is None:
        return "no feature row"
    if not row["is_production_ready"]:
        return "not production ready: " + "; ".join(row["data_quality_issues"])
    if row["quality_score"] < QUALITY_READY_MIN:
        return f"quality {row['quality_score']} below {QUALITY_READY_MIN:g}"
    return ""


def prediction_row(request: PredictionRequest, feature_row: dict, prediction: Prediction,
                   line, model_version: str, now) -> dict[str, Any]:
    """The stored form of one prediction (deterministic id: redelivery overwrites)."""
    return {
        "prediction_id": b.prediction_id(request.game_date, request.player_lookup,
                                         prediction.system_id, prediction.line, model_version),
        "system_id": prediction.system_id, "player_lookup": request.player_lookup,
        "game_id": request.game_id, "game_date": request.game_date,
        "predicted_points": prediction.predicted_points,
        "confidence_score": prediction.confidence, "recommendation": prediction.recommendation,
        "line": prediction.line, "line_source": line.source if line else b.ESTIMATE,
        "bookmaker": line.bookmaker if line else None, "line_margin": prediction.line_margin,
        "components": dict(prediction.components), "feature_quality": feature_row["quality_score"],
        "batch_id": request.batch_id, "model_version": model_version, "is_active": True,
        "superseded_by": None, "created_at": now,
    }
