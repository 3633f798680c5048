"""Wire the coordinator and workers onto a bus: the same handlers serve every deployment."""

from __future__ import annotations

import json
from pathlib import Path

import structlog
from pydantic import ValidationError

from tipoff.domain.messages import readable_date, validation_summary
from tipoff.errors import PermanentError

from tipoff.adapters.model_files import load_model_file
from tipoff.domain.messages import (
    PHASE4_TOPIC, REQUEST_TOPIC, RESULT_TOPIC, Phase4Completed, PredictionResult,
)
from tipoff.domain.systems import PredictionUnavailable, XGBoostSystem
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.worker import Worker
from tipoff.ports import Bus, Clock, Message, Store

log = structlog.get_logger(__name__)
MODEL_FILE = "xgboost_v1.json"
MAX_EXCERPT = 1024  # characters of payload a rejection record keeps


def load_model(model_dir: Path) -> XGBoostSystem:
    """The xgboost system from ``model_dir``; without a usable model only that system fails."""
    path = Path(model_dir) / MODEL_FILE
    try:
        return XGBoostSystem(load_model_file(path))
    except PredictionUnavailable as exc:
        log.warning("model_unavailable", path=str(path), reason=exc.reason)
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


def embedded(store: Store, bus: Bus, clock: Clock, model: XGBoostSystem, *,
             workers: int = 1) -> Coordinator:
    """Coordinator and ``workers`` workers in this process, on ``bus``."""
    coordinator = Coordinator(store, bus, clock)
    subscribe_coordinator(bus, coordinator)
    subscribe_workers(bus, [Worker(store, bus, clock, model, worker_id=f"worker-{n + 1}")
                            for n in range(workers)])
    return coordinator
