"""Wire the coordinator and workers onto a bus: the same handlers serve every deployment."""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError

from tipoff.domain.messages import readable_date, validation_summary
from tipoff.errors import PermanentError

from tipoff.domain.messages import (
    PHASE4_TOPIC, REQUEST_TOPIC, RESULT_TOPIC, Phase4Completed, PredictionResult,
)
from tipoff.domain.systems import XGBOOST, PredictionUnavailable, XGBoostSystem
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.worker import Worker
from tipoff.ports import Bus, Message, ModelStore

log = structlog.get_logger(__name__)
MAX_EXCERPT = 1024  # characters of payload a rejection record keeps


def load_model(models: ModelStore, name: str = XGBOOST) -> XGBoostSystem:
    """The xgboost system from ``models``; without a usable model only that system fails."""
    try:
        return XGBoostSystem(models.load(name))
    except PredictionUnavailable as exc:
        log.warning("model_unavailable", models=repr(models), name=name, reason=exc.reason)
        return XGBoostSystem(None, unavailable_reason=exc.reason)


def subscribe_coordinator(bus: Bus, coordinator: Coordinator) -> None:
    """Stage 4 events start batches; worker results finish them."""
    def on_phase4(message: Message) -> None:
        try:
            event = Phase4Completed.model_validate(message.data)
        except ValidationError as exc:
            # Acknowledged: a malformed event can never succeed; recorded under its night.
            coordinator.reject(f"not a valid Phase4Completed: {validation_summary(exc)}",
                               "pubsub", {"message_id": message.message_id,
                                          "payload_excerpt": _excerpt(message.data)},
                               game_date=readable_date(message.data))
            return
        try:
            coordinator.on_phase4_completed(event, source="pubsub")
        except PermanentError as exc:  # a value the store refuses: recorded and acknowledged
            coordinator.reject(f"store refused the event: {exc}", "pubsub",
                               {"message_id": message.message_id}, game_date=event.game_date)

    bus.subscribe(PHASE4_TOPIC, on_phase4, group="coordinator")
    bus.subscribe_batch(RESULT_TOPIC, lambda messages: coordinator.on_results(
        [PredictionResult.model_validate(m.data) for m in messages]), group="coordinator")


def _excerpt(data) -> str:
    return json.dumps(data, default=str)[:MAX_EXCERPT]


def subscribe_workers(bus: Bus, workers: list[Worker], *, max_batch: int = 50) -> None:
    """Competing consumers of prediction requests, each taking up to ``max_batch`` at once."""
    for worker in workers:
        bus.subscribe_batch(REQUEST_TOPIC, worker.handle_batch, group="workers",
                            max_batch=max_batch)
