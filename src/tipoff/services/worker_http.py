"""A prediction worker behind HTTP, for Cloud Run without pull workers (``tipoff worker --http``).

``POST /predict`` takes a Pub/Sub push of one ``prediction-request``, runs the ``Worker`` on it
(prediction rows written durably, then the result published on ``prediction-ready``) and
answers only then, because Pub/Sub redelivers whatever is not acknowledged with a 2xx:

    predicted (rows durable, result published)                       204
    payload that can never be a request (recorded in run history)    204
    body that is not a push envelope                                 400
    store or bus temporarily unavailable                             503 (Pub/Sub retries)
    anything unexpected                                              500 (Pub/Sub retries)

``deliveryAttempt`` of the envelope becomes the message's ``attempt``, so the worker's
last-attempt rule (report ``failed`` instead of raising) holds under push too. ``GET /health``
answers while the process runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tipoff.bootstrap import model_store, open_bus, open_store, worker_pool
from tipoff.config import Settings
from tipoff.domain.messages import REQUEST_TOPIC, PredictionRequest
from tipoff.errors import AdapterError, PermanentError, TransientError
from tipoff.pipeline.runtime import load_model
from tipoff.pipeline.worker import Worker
from tipoff.ports import Bus, Clock, Message, RunRecord, Store
from tipoff.services.http_pubsub import (
    EnvelopeError, PayloadError, PushMessage, decode_envelope, decode_payload,
)

log = structlog.get_logger(__name__)
PROCESSOR = "worker_http"


@dataclass
class WorkerService:
    """One worker with the store and bus it owns."""

    store: Store
    bus: Bus
    clock: Clock
    worker: Worker

    def close(self) -> None:
        self.bus.close()
        self.store.close()


def build_worker_service(settings: Settings, clock: Clock) -> WorkerService:
    """A worker over the configured store and bus; the bus only publishes (nothing subscribes)."""
    store = open_store(settings.store_url, clock)
    bus = open_bus(settings.bus_url, clock)
    model = load_model(model_store(settings.model_dir))
    [worker] = worker_pool(store, bus, clock, model, 1, prefix=f"http-{uuid.uuid4().hex[:6]}-w")
    return WorkerService(store, bus, clock, worker)


def create_worker_app(service: WorkerService) -> FastAPI:
    """The FastAPI app of ``/predict`` and ``/health``."""
    app = FastAPI(title="tipoff worker", docs_url=None, redoc_url=None)

    @app.post("/predict", status_code=204)
    async def predict(request: Request) -> Response:
        """A Pub/Sub push of one prediction request."""
        try:
            message = decode_envelope(await request.body())
        except EnvelopeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await run_in_threadpool(_predict, service, message)

    @app.get("/health")
    async def health() -> Response:
        return JSONResponse({"status": "ok"})

    return app


def _predict(service: WorkerService, push: PushMessage) -> Response:
    """Run the worker on one push and turn the outcome into the status Pub/Sub needs."""
    log.info("push_received", endpoint="/predict", push_message_id=push.message_id,
             delivery_attempt=push.delivery_attempt)
    try:
        request = decode_payload(push, PredictionRequest)
    except PayloadError as exc:
        return _reject(service, str(exc), push)
    try:
        service.worker.handle(_message(push, request))
    except TransientError as exc:
        log.warning("predict_unavailable", error=str(exc), delivery_attempt=push.delivery_attempt)
        return JSONResponse({"error": f"temporarily unavailable, retry later: {exc}"}, status_code=503)
    except PermanentError as exc:
        return _reject(service, f"store or bus refused the request: {exc}", push)
    except AdapterError as exc:  # neither kind said: let Pub/Sub retry
        return JSONResponse({"error": str(exc)}, status_code=503)
    return Response(status_code=204)


def _message(push: PushMessage, request: PredictionRequest) -> Message:
    attempt = push.delivery_attempt or 1
    return Message(topic=REQUEST_TOPIC, message_id=push.attributes.get("message_id") or
                   push.message_id or request.message_id(),
                   data=request.model_dump(mode="json"), attempt=attempt, attributes=push.attributes)


def _reject(service: WorkerService, reason: str, push: PushMessage) -> Response:
    """Record a push that can never be processed, then acknowledge it."""
    now = service.clock.now()
    details: dict[str, Any] = {**push.details(), "endpoint": "/predict"}
    service.store.record_run(RunRecord(run_id=f"rejected-{uuid.uuid4().hex}", processor=PROCESSOR,
                                       status="rejected", started_at=now, finished_at=now,
                                       source="pubsub", decision="rejected", reason=reason[:500],
                                       details=details))
    log.error("push_rejected", endpoint="/predict", reason=reason, delivery_attempt=push.delivery_attempt)
    return Response(status_code=204)
