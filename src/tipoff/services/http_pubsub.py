"""Pub/Sub push envelopes: what the coordinator's ``/trigger`` and ``/complete`` receive.

A push is ``{"message": {"data": <base64 JSON>, "messageId", "publishTime", "attributes"},
"subscription"}``. Two kinds of failure are told apart because Pub/Sub redelivers anything
that is not acknowledged:

- ``EnvelopeError``: the request is not a push envelope at all (not JSON, no ``message``, no
  ``data``, ``data`` not base64). The HTTP layer answers 400.
- ``PayloadError``: the envelope is fine but its payload can never be processed (not JSON, not
  the expected message). The HTTP layer records it as rejected and acknowledges it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class EnvelopeError(ValueError):
    """The request body is not a Pub/Sub push envelope."""


class PayloadError(ValueError):
    """The envelope's payload can never become the expected message."""


@dataclass(frozen=True)
class PushMessage:
    """One decoded push: the raw payload bytes and the envelope's metadata."""

    data: bytes
    message_id: str | None = None
    publish_time: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    subscription: str | None = None

    def details(self) -> dict[str, Any]:
        """Envelope metadata for a rejection record."""
        return {"message_id": self.message_id, "publish_time": self.publish_time,
                "subscription": self.subscription, "attributes": self.attributes}


def decode_envelope(body: bytes) -> PushMessage:
    """Parse a push body; raise ``EnvelopeError`` saying what is missing or wrong."""
    envelope = _json_object(body)
    message = envelope.get("message")
    if not isinstance(message, dict):
        raise EnvelopeError("the envelope has no 'message' object")
    data = message.get("data")
    if not isinstance(data, str) or not data:
        raise EnvelopeError("the message has no 'data' (base64 text)")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise EnvelopeError("the message 'attributes' must be an object")
    return PushMessage(_base64(data), _text(message.get("messageId")),
                       _text(message.get("publishTime")),
                       {str(k): str(v) for k, v in attributes.items()},
                       _text(envelope.get("subscription")))


def decode_payload(message: PushMessage, model: type[Model]) -> Model:
    """The payload as ``model``; raise ``PayloadError`` naming the fields that are wrong."""
    try:
        payload = json.loads(message.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"message data is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise PayloadError(f"message data must be a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError(f"not a valid {model.__name__}: {validation_summary(exc)}") from exc


def validation_summary(exc: ValidationError) -> str:
    """``field: problem; …`` for every error of a pydantic (or FastAPI) validation."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                     for err in exc.errors())


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"the body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise EnvelopeError("the body must be a JSON object (a Pub/Sub push envelope)")
    return envelope


def _base64(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"the message 'data' is not base64: {exc}") from exc


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
