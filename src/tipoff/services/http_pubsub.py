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
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from tipoff.domain.messages import readable_date, validation_summary

Model = TypeVar("Model", bound=BaseModel)
MAX_BODY_TEXT = 1024 * 1024


class EnvelopeError(ValueError):
    """The request body is not a Pub/Sub push envelope."""


class PayloadError(ValueError):
    """The envelope's payload can never become the expected message; ``game_date`` when the
    payload still names one (so the rejection is filed under its night)."""

    def __init__(self, message: str, game_date: date | None = None) -> None:
        super().__init__(message)
        self.game_date = game_date


MAX_EXCERPT = 1024  # bytes of payload a rejection record keeps
MAX_ATTRIBUTES = 2048  # bytes of attributes (keys and values) a rejection record keeps
MAX_ID = 256


class PushMessageBody(BaseModel):
    """``message`` of a Pub/Sub push (documentation of the body; parsing is by hand, so a
    malformed envelope is 400 and an unusable payload is acknowledged)."""

    data: str = Field(description="base64 of the JSON payload", max_length=MAX_BODY_TEXT)
    messageId: str | None = Field(None, max_length=MAX_ID)
    publishTime: str | None = Field(None, max_length=64)
    attributes: dict[str, str] | None = None
    deliveryAttempt: int | None = Field(None, ge=0)


class PushEnvelope(BaseModel):
    """A Pub/Sub push request body."""

    message: PushMessageBody
    subscription: str | None = Field(None, max_length=MAX_ID)


@dataclass(frozen=True)
class PushMessage:
    """One decoded push: the raw payload bytes and the envelope's metadata."""

    data: bytes
    message_id: str | None = None
    publish_time: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    subscription: str | None = None
    delivery_attempt: int | None = None  # Pub/Sub sets it when the subscription dead-letters

    def details(self) -> dict[str, Any]:
        """Envelope metadata for a rejection record, bounded: at most ``MAX_ATTRIBUTES`` bytes
        of attributes and ``MAX_EXCERPT`` bytes of the payload."""
        return {"message_id": _cut(self.message_id, MAX_ID),
                "publish_time": _cut(self.publish_time, 64),
                "subscription": _cut(self.subscription, MAX_ID),
                "delivery_attempt": self.delivery_attempt,
                "attributes": _bounded_attributes(self.attributes),
                "payload_excerpt": self.data[:MAX_EXCERPT].decode("utf-8", errors="replace")
                .replace("\x00", "\ufffd")}


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
                       _text(envelope.get("subscription")),
                       _attempt(envelope.get("deliveryAttempt", message.get("deliveryAttempt"))))


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
        raise PayloadError(f"not a valid {model.__name__}: {validation_summary(exc)}",
                           readable_date(payload)) from exc


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


def _cut(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit].replace("\x00", "\ufffd")


def _bounded_attributes(attributes: dict[str, str]) -> dict[str, str]:
    kept, size = {}, 0
    for key, value in attributes.items():
        key, value = _cut(key, 128) or "", _cut(value, 512) or ""
        size += len(key.encode()) + len(value.encode())
        if size > MAX_ATTRIBUTES:
            kept["..."] = f"{len(attributes) - len(kept)} more attributes left out"
            break
        kept[key] = value
    return kept


def _attempt(value: Any) -> int | None:
    """``deliveryAttempt`` (top level of the envelope; tolerated inside ``message``)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
