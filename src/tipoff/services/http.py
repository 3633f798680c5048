"""The coordinator's HTTP surface (SPEC.md §7): a FastAPI app over one ``Services``.

Endpoints: ``POST /trigger`` (Pub/Sub push of ``phase4_complete``), ``POST /start``
(``{"game_date"?, "force"?, "wait_for_phase4"?}``), ``POST /retry`` (``{"game_date"?}``),
``GET /status?game_date=``, ``POST /complete`` (Pub/Sub push of a prediction result),
``POST /poll`` (the scheduler's wait poll: 200 with its decisions, 403 for anyone else),
``GET /health``, ``GET /ready``, ``GET /metrics``. ``game_date`` defaults to today (ET).
The read-only views (``GET /report``, ``/dashboard``) live in ``services/dashboard.py``.

Sources: ``/trigger`` is ``pubsub``; ``/start`` with ``X-CloudScheduler: true`` or
``X-Tipoff-Scheduler: true`` is ``scheduler_backup`` and waits for stage 4 unless told not to;
any other ``/start`` is ``manual`` (no wait by default); ``/retry`` is ``retry``. A
``GET /status`` from the scheduler runs the 07:00 check (it may send alerts).

This module is the only place decisions become HTTP statuses:

    started, filled_missing, forced, partial_after_wait, waiting_for_phase4       202
    already_running, already_complete, complete, event_path_disabled,
    no_ready_players, insufficient_data                                           200
    backfill_ignored    /trigger: 204 (acknowledged)  /start, /retry: 409 (run a backfill)
    not_ready           /trigger: 200 (acknowledged; the scheduled backup waits)
                        /start, /retry: 409 with the reason
    rejected (a push whose payload can never be used, recorded in run history)    204

Pub/Sub acknowledges 2xx and redelivers anything else, so ``/trigger`` answers 4xx only for
an envelope that is not a push at all. Other errors: body not JSON or malformed envelope 400;
invalid field 422; body over 1 MiB 413 (checked before anything parses it); a backend
temporarily unavailable 503; anything unexpected 500. Every body is JSON, errors as
``{"error": "..."}``, except 204 (empty) and ``/metrics`` (Prometheus text).
"""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from tipoff.domain.dates import parse_game_date
from tipoff.domain.messages import Phase4Completed, PredictionResult
from tipoff.errors import PermanentError, TransientError
from tipoff.domain.decisions import Category
from tipoff.domain.decisions import Decision as DecisionKind
from tipoff.pipeline.coordinator import Decision
from tipoff.pipeline.coordinator import live_window_end
from tipoff.pipeline.trend_report import TrendReport
from tipoff.services.auth import AuthError, Authenticator, OpenAccess, RequireCaller
from tipoff.services.dashboard import dashboard_router
from tipoff.services.http_docs import documented_responses, request_body_doc
from tipoff.services.http_pubsub import (
    EnvelopeError, PayloadError, PushMessage, decode_envelope, decode_payload,
    validation_summary,
)
from tipoff.services.metrics import CONTENT_TYPE, Metrics, RequestMetrics
from tipoff.services.runtime import Services, today_game_date

log = structlog.get_logger(__name__)
MAX_BODY = 1024 * 1024
SCHEDULER_HEADERS = ("x-cloudscheduler", "x-tipoff-scheduler")
PUSH = "pubsub"
STATUS_OF = {Category.ACCEPTED: 202, Category.SETTLED: 200, Category.REFUSED: 409,
             Category.RECORDED: 204}
MAX_CORRELATION_ID = 64
PATHS = ("/trigger", "/start", "/retry", "/status", "/complete", "/poll", "/health", "/ready",
         "/metrics", "/report", "/dashboard", "/dashboard/api/overview",
         "/dashboard/api/predictions")


def status_for(decision: str, *, push: bool = False) -> int:
    """The HTTP status of a decision (``push``: it answers a Pub/Sub delivery)."""
    try:
        kind = DecisionKind(decision)
    except ValueError:
        raise ValueError(f"no HTTP status for decision {decision!r}") from None
    return STATUS_OF[kind.on_push if push else kind.category]


class RequestError(Exception):
    """A request this service cannot act on; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class StartBody(BaseModel):
    """The JSON body of ``POST /start`` (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    game_date: date | None = Field(None, description="default today (ET); up to today + 7 days")
    force: bool = False
    wait_for_phase4: bool | None = None


class RetryBody(BaseModel):
    """The JSON body of ``POST /retry``."""

    model_config = ConfigDict(extra="forbid")

    game_date: date | None = None


def create_app(services: Services, *, metrics: Metrics | None = None,
               max_body: int = MAX_BODY, auth: Authenticator | None = None,
               metrics_public: bool = False) -> FastAPI:
    """The coordinator app over ``services`` (which the caller starts and stops); ``auth``
    decides who may call it (``OpenAccess`` when None: loopback development only)."""
    metrics = metrics or Metrics.for_services(services)
    app = FastAPI(title="tipoff coordinator", docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.metrics = metrics
    auth = auth or OpenAccess()
    CoordinatorApi(services, metrics).register(app, auth, metrics_public)
    app.include_router(dashboard_router(services, auth))  # GET /, /report, /dashboard…
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(RequestMetrics, metrics=metrics, paths=PATHS)  # outermost: sees 413s
    return app


class CoordinatorApi:
    """The endpoints; blocking store and bus calls run on the thread pool."""

    def __init__(self, services: Services, metrics: Metrics) -> None:
        self._services = services
        self._coordinator = services.coordinator
        self._metrics = metrics

    def register(self, app: FastAPI, auth: Authenticator, metrics_public: bool) -> None:
        """Add every route to ``app``, each with its credential rule and documented answers."""
        guard = [Depends(RequireCaller(auth))]
        metrics_guard = [Depends(RequireCaller(auth, public=metrics_public))]
        for path, endpoint, method, deps in (
                ("/trigger", self.trigger, "POST", guard), ("/start", self.start, "POST", guard),
                ("/retry", self.retry, "POST", guard), ("/status", self.status, "GET", guard),
                ("/complete", self.complete, "POST", guard), ("/poll", self.poll, "POST", guard),
                ("/health", self.health, "GET", []),
                ("/ready", self.ready, "GET", []),
                ("/metrics", self.metrics, "GET", metrics_guard)):
            app.add_api_route(path, endpoint, methods=[method], dependencies=deps,
                              responses=documented_responses(path, bool(deps)),
                              openapi_extra=request_body_doc(path))

    async def trigger(self, request: Request) -> Response:
        """Stage 4 finished: a Pub/Sub push of ``phase4_complete``."""
        message = _received(decode_envelope(await request.body()), "/trigger")
        try:
            event = decode_payload(message, Phase4Completed)
        except PayloadError as exc:
            self._metrics.count_trigger(PUSH, "rejected")
            return await self._reject(str(exc), message, "/trigger", exc.game_date)
        try:
            decision = await run_in_threadpool(self._coordinator.on_phase4_completed, event, PUSH)
        except PermanentError as exc:  # a value the store refuses: redelivery cannot help
            return await self._reject(f"store refused the event: {exc}", message, "/trigger",
                                      event.game_date)
        return self._decided(decision, PUSH, push=True)

    async def start(self, request: Request) -> Response:
        """Backup or manual start; the scheduler's calls wait for stage 4 by default."""
        body = _parse(StartBody, await _json_body(request))
        scheduled = _from_scheduler(request)
        source = "scheduler_backup" if scheduled else "manual"
        wait = scheduled if body.wait_for_phase4 is None else body.wait_for_phase4
        decision = await run_in_threadpool(partial(
            self._coordinator.start, self._live_date(body.game_date), source, force=body.force,
            wait_for_phase4=wait, correlation_id=_correlation_id(request)))
        return self._decided(decision, source)

    async def retry(self, request: Request) -> Response:
        """Predict the ready players that still have no active prediction."""
        body = _parse(RetryBody, await _json_body(request))
        decision = await run_in_threadpool(self._coordinator.retry,
                                           self._live_date(body.game_date))
        return self._decided(decision, "retry")

    async def status(self, request: Request,
                     game_date: str | None = Query(None, max_length=32)) -> Response:
        """A night's state, counts, coverage and timings (the scheduler's call also alerts)."""
        day = self._date(query_date(game_date))
        watch = self._services.watch
        check = watch.status_check if _from_scheduler(request) else watch.status
        status = await run_in_threadpool(check, day)
        self._metrics.observe_status(status)
        return JSONResponse(status)

    async def complete(self, request: Request) -> Response:
        """A worker's result pushed over HTTP (deployments where workers report this way)."""
        message = _received(decode_envelope(await request.body()), "/complete")
        try:
            result = decode_payload(message, PredictionResult)
        except PayloadError as exc:
            return await self._reject(str(exc), message, "/complete", exc.game_date)
        try:
            await run_in_threadpool(self._coordinator.on_results, [result])
        except PermanentError as exc:  # a value the store refuses: redelivery cannot help
            return await self._reject(f"store refused the result: {exc}", message, "/complete",
                                      result.game_date)
        return Response(status_code=204)

    async def poll(self, request: Request) -> Response:
        """The scheduler's wait poll, once: start the waits whose stage 4 is ready, expire those
        past their deadline (critical alert, then a partial start)."""
        if not _from_scheduler(request):
            raise AuthError(403, "only the scheduler may run the wait poll")
        decisions = await run_in_threadpool(self._services.watch.poll_waits)
        still_open = await run_in_threadpool(self._services.store.open_waits)
        return JSONResponse({"decisions": [d.to_dict() for d in decisions],
                             "open_waits": len(still_open)})

    async def health(self) -> Response:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    async def ready(self) -> Response:
        """Readiness: the store and the bus are reachable."""
        checks = {name: await run_in_threadpool(_ping, name, backend) for name, backend in
                  (("store", self._services.store), ("bus", self._services.bus))}
        failed = [f"{name} {state}" for name, state in checks.items() if state != "ok"]
        if failed:
            return JSONResponse({"error": "; ".join(failed), **checks}, status_code=503)
        return JSONResponse(checks)

    async def metrics(self) -> Response:
        """Prometheus exposition, with today's coverage and latency refreshed first."""
        await run_in_threadpool(self._refresh_today)
        return Response(self._metrics.render(), media_type=CONTENT_TYPE)

    # --- helpers ------------------------------------------------------------------------

    def _date(self, game_date: date | None) -> date:
        return game_date or today_game_date(self._services.clock)

    def _live_date(self, game_date: date | None) -> date:
        """The date of a live start or retry: refused (422) beyond today + 7 days (ET)."""
        day, last = self._date(game_date), live_window_end(self._services.clock.now())
        if day > last:
            raise RequestError(422, f"game_date: {day} is beyond the live window (up to {last})",
                               "game_date")
        return day

    def _decided(self, decision: Decision, source: str, *, push: bool = False) -> Response:
        self._metrics.count_trigger(source, decision.decision)
        status = status_for(decision.decision, push=push)
        if status == 204:
            return Response(status_code=204)
        body: dict[str, Any] = {"source": source, **decision.to_dict()}
        if status == 409:
            body = {"error": decision.reason, **body}
        return JSONResponse(body, status_code=status)

    async def _reject(self, reason: str, message: PushMessage, endpoint: str,
                      game_date: date | None = None) -> Response:
        details = {**message.details(), "endpoint": endpoint}
        # Only stage 4's events alert: a rejected result cannot leave the night waiting.
        await run_in_threadpool(partial(self._coordinator.reject, reason, PUSH, details,
                                        game_date=game_date, alert=endpoint == "/trigger"))
        return Response(status_code=204)

    def _refresh_today(self) -> None:
        try:
            report = TrendReport(self._services.store, self._services.watch,
                                 self._services.clock)
            self._metrics.observe_night(report.night(today_game_date(self._services.clock)))
        except Exception:
            # A scrape must still show the other metrics when the store is down.
            log.error("metrics_refresh_failed", exc_info=True)


def _received(message: PushMessage, endpoint: str) -> PushMessage:
    """Log a push with its delivery attempt; this request's later log lines carry both too."""
    structlog.contextvars.bind_contextvars(push_message_id=message.message_id,
                                           delivery_attempt=message.delivery_attempt)
    log.info("push_received", endpoint=endpoint, subscription=message.subscription)
    return message


def _ping(name: str, backend: Any) -> str:
    try:
        backend.ping()
    except Exception as exc:  # any failure means "not ready", whatever the adapter raised
        log.warning("readiness_check_failed", backend=name, exc_info=True)
        return f"unreachable: {exc}"
    return "ok"


def _from_scheduler(request: Request) -> bool:
    """The scheduler is the authenticated caller's identity (the header alone is a hint)."""
    caller = getattr(request.state, "caller", None)
    return bool(caller and caller.scheduler)


def _correlation_id(request: Request) -> str | None:
    value = request.headers.get("x-correlation-id")
    return value[:MAX_CORRELATION_ID] if value else None


async def _json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` (scheduler jobs may send none)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(400, f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    return body


def _parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or None
        raise RequestError(422, validation_summary(exc), field) from exc


def query_date(text: str | None) -> date | None:
    """A game date from a query parameter (blank: none); a bad one is a 422 naming game_date."""
    if text is None or not text.strip():
        return None
    try:
        return parse_game_date(text)
    except ValueError as exc:
        raise RequestError(422, f"game_date: {exc}", "game_date") from exc


# --- errors -------------------------------------------------------------------------------

def _install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(EnvelopeError, _envelope_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(TransientError, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _auth_error(_request: Request, exc: AuthError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)


async def _request_error(_request: Request, exc: RequestError) -> JSONResponse:
    return _error(exc.status, exc.message, **({"field": exc.field} if exc.field else {}))


async def _envelope_error(_request: Request, exc: EnvelopeError) -> JSONResponse:
    return _error(400, f"malformed Pub/Sub push: {exc}")


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return _error(422, validation_summary(exc) or "invalid request")


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return _error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")


async def _unavailable(request: Request, exc: TransientError) -> JSONResponse:
    log.warning("backend_unavailable", path=request.url.path, error=str(exc))
    return _error(503, f"temporarily unavailable, retry later: {exc}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("request_failed", path=request.url.path, exc_info=exc)
    return _error(500, f"internal error ({type(exc).__name__}); see the coordinator log")


# --- ASGI middleware ------------------------------------------------------------------------

class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413 before any endpoint reads them: by the
    declared ``Content-Length`` and by the bytes actually received (chunked bodies)."""

    def __init__(self, app, limit: int = MAX_BODY) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        declared = _content_length(scope)
        if declared == -1:
            return await _send_json(send, 400, {"error": "invalid Content-Length header"})
        if declared is not None and declared > self._limit:
            return await self._too_large(send)
        try:
            body = await _read_at_most(receive, self._limit)
        except _Disconnected:
            return None  # nobody is left to answer
        if body is None:
            return await self._too_large(send)
        await self._app(scope, _replay(body, receive), send)

    async def _too_large(self, send) -> None:
        await _send_json(send, 413, {"error": f"request body larger than {self._limit} bytes"})


class _Disconnected(Exception):
    """The client went away before its body arrived."""


def _content_length(scope) -> int | None:
    """The declared length, None when absent, -1 when unreadable."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


async def _read_at_most(receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds ``limit``."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_json(send, status: int, payload: dict[str, Any]) -> None:
    content = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})
