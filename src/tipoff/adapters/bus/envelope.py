"""What every bus adapter shares: the JSON payload rule, how errors are described, how a
handler is called."""

from __future__ import annotations

import json
from typing import Any, Protocol

import structlog

from tipoff.errors import PermanentError
from tipoff.ports import Message

log = structlog.get_logger(__name__)


def describe(exc: BaseException) -> str:
    """An exception as ``Type: message`` (dead letters and logs)."""
    return f"{type(exc).__name__}: {exc}"


def encode(data: dict[str, Any]) -> str:
    """The JSON text of ``data``; ``PermanentError`` if it is not a JSON-serialisable dict."""
    if not isinstance(data, dict):
        raise PermanentError(f"message data must be a dict, got {type(data).__name__}")
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"message data is not JSON-serialisable: {exc}") from exc


class HandledSubscription(Protocol):
    """What ``call_handler`` needs of an adapter's subscription."""

    topic: str
    group: str
    handler: Any
    max_batch: int | None  # None: one Message per call


def call_handler(sub: HandledSubscription, messages: list[Message]) -> Exception | None:
    """Run the handler; return its exception instead of raising it."""
    try:
        sub.handler(messages if sub.max_batch else messages[0])
    except Exception as exc:  # any handler bug becomes a redelivery, never a lost message
        log.warning("bus_handler_failed", topic=sub.topic, group=sub.group, messages=len(messages),
                    message_id=messages[0].message_id, attempt=messages[0].attempt,
                    error=describe(exc), exc_info=exc)
        return exc
    return None
