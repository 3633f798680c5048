"""What the coordinator's OpenAPI document says about each endpoint: its request body (parsed
by hand in ``http``, so declared here) and every status it can answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tipoff.services.http_pubsub import PushEnvelope


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": "..."}`` (with ``field`` for an invalid field)."""

    model_config = ConfigDict(extra="allow")

    error: str


class DecisionBody(BaseModel):
    """A trigger's decision (``/trigger``, ``/start``, ``/retry``)."""

    model_config = ConfigDict(extra="allow")

    decision: str
    game_date: str
    reason: str


class PollBody(BaseModel):
    """What one run of the wait poll decided (``/poll``)."""

    model_config = ConfigDict(extra="allow")

    decisions: list[DecisionBody]
    open_waits: int


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "model": ErrorBody}


_DECIDED = {200: {"description": "settled (already running or complete, nothing to do)",
                  "model": DecisionBody},
            202: {"description": "started or waiting for stage 4", "model": DecisionBody}}
_AUTH = {401: _error("missing or invalid credential"),
         403: _error("a valid identity that may not call the coordinator")}
_BODY = {400: _error("body not JSON or not an object / not a Pub/Sub push"),
         413: _error("body over 1 MiB"), 422: _error("an invalid field")}
_BODY_LIMIT = {413: _error("body over 1 MiB")}
_BACKEND = {503: _error("a backend is temporarily unavailable; retry later")}
RESPONSES: dict[str, dict[int, dict[str, Any]]] = {
    "/trigger": {**_DECIDED, 204: {"description": "acknowledged (rejected or a backfill)"},
                 **_BODY, **_BACKEND},
    "/start": {**_DECIDED, 409: _error("refused: a backfill date or stage 4 not ready"),
               **_BODY, **_BACKEND},
    "/retry": {**_DECIDED, 409: _error("refused: a backfill date or stage 4 not ready"),
               **_BODY, **_BACKEND},
    "/status": {422: _error("an invalid game_date"), **_BACKEND},
    "/report": {422: _error("days outside 1-366, or an invalid or out-of-range date"),
                **_BACKEND},
    "/complete": {204: {"description": "recorded (or rejected and acknowledged)"},
                  **_BODY, **_BACKEND},
    "/poll": {200: {"description": "the wait poll ran: what it decided, and the waits left open",
                    "model": PollBody},
              403: _error("the caller is not the scheduler"), **_BODY_LIMIT, **_BACKEND},
    "/health": {},
    "/ready": {503: _error("the store or the bus is unreachable")},
    "/metrics": {200: {"description": "Prometheus exposition",
                       "content": {"text/plain": {"schema": {"type": "string"}}}}},
}


def documented_responses(path: str, guarded: bool) -> dict[int | str, dict[str, Any]]:
    """The answers ``path`` can give besides 200, with the credential ones when ``guarded``."""
    return {**(_AUTH if guarded else {}), **RESPONSES[path]}


def request_body_doc(path: str) -> dict[str, Any] | None:
    """The ``requestBody`` of ``path`` for the OpenAPI document (None: no body)."""
    from tipoff.services.http import RetryBody, StartBody

    model = {"/trigger": PushEnvelope, "/complete": PushEnvelope, "/start": StartBody,
             "/retry": RetryBody}.get(path)
    if model is None:
        return None
    return {"requestBody": {"required": path in ("/trigger", "/complete"),
                            "content": {"application/json": {"schema": _inline(model)}}}}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` substituted in place (the document's
    ``#/...`` references would otherwise point at its root)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)
