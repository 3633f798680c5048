"""How tipoff messages are laid out on JetStream: names, subjects, headers, dead-letter records.

- One stream ``{prefix}`` holds every topic, on subjects ``{prefix}.{topic}``; dead letters
  live in ``{prefix}_DLQ`` on subjects ``{prefix}_DLQ.{topic}``.
- The durable consumer of a (topic, group) is named ``{topic}__{group}``.
- ``Nats-Msg-Id`` is ``{topic}:{message_id}``: JetStream de-duplicates per stream, tipoff per
  topic. The bare id travels in ``Tipoff-Message-Id``, the publisher's clock reading in
  ``Tipoff-Published-At``.
- A replayed dead letter carries ``Tipoff-Group``: only that group handles it, the others ack it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tipoff.adapters.bus import envelope
from tipoff.domain.dates import require_aware
from tipoff.ports import DeadLetter, Message

DEDUP_HEADER = "Nats-Msg-Id"
ID_HEADER = "Tipoff-Message-Id"
PUBLISHED_HEADER = "Tipoff-Published-At"
GROUP_HEADER = "Tipoff-Group"

# One subject token, a valid stream/consumer name, and no "__" so consumer names stay unique.
_NAME = re.compile(r"^[A-Za-z0-9-]+(_[A-Za-z0-9-]+)*$")


def check_name(kind: str, value: str) -> str:
    """Return ``value`` if it can be a topic, group or prefix; raise ``ValueError`` otherwise."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{kind} {value!r} must be letters, digits, '-' and single '_' only")
    return value


@dataclass(frozen=True)
class Layout:
    """Stream, subject and consumer names under one prefix."""

    prefix: str

    @property
    def stream(self) -> str:
        return self.prefix

    @property
    def dlq_stream(self) -> str:
        return f"{self.prefix}_DLQ"

    def subject(self, topic: str) -> str:
        return f"{self.prefix}.{topic}"

    def dlq_subject(self, topic: str | None) -> str:
        return f"{self.dlq_stream}.{topic or '>'}"

    def consumer(self, topic: str, group: str) -> str:
        return f"{topic}__{group}"


def encode(data: dict[str, Any]) -> bytes:
    """The JSON bytes of ``data``; ``PermanentError`` if it is not a JSON object."""
    return envelope.encode(data).encode()


def headers(topic: str, message_id: str, published_at: str, *, replay: str | None = None,
            group: str | None = None) -> dict[str, str]:
    """The headers of a publish; ``replay`` and ``group`` mark a dead letter's replay."""
    dedup = f"{topic}:{message_id}" + (f":replay:{replay}" if replay else "")
    result = {DEDUP_HEADER: dedup, ID_HEADER: message_id, PUBLISHED_HEADER: published_at}
    if group:
        result[GROUP_HEADER] = group
    return result


def decode_data(payload: bytes) -> dict[str, Any]:
    """The JSON object in ``payload``; ``ValueError`` if there is none."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError(f"payload is a JSON {type(data).__name__}, not an object")
    return data


def _message_id(found: dict[str, str]) -> str:
    """``Tipoff-Message-Id``, else ``Nats-Msg-Id``, else empty."""
    return found.get(ID_HEADER) or found.get(DEDUP_HEADER) or ""


def decode(topic: str, msg: Any) -> Message:
    """The ``Message`` of a JetStream delivery; ``ValueError`` if its payload is unusable."""
    found = msg.headers or {}
    published = found.get(PUBLISHED_HEADER)
    return Message(
        topic=topic,
        message_id=_message_id(found),
        data=decode_data(msg.data),
        attempt=msg.metadata.num_delivered,
        published_at=require_aware(datetime.fromisoformat(published)) if published else msg.metadata.timestamp,
    )


def dead_letter_record(topic: str, msg: Any, group: str, error: str, failed_at: datetime) -> bytes:
    """The DLQ payload for a delivery of ``msg``: its original payload and why it failed."""
    found = msg.headers or {}
    return json.dumps({
        "topic": topic,
        "message_id": _message_id(found),
        "published_at": found.get(PUBLISHED_HEADER) or msg.metadata.timestamp.isoformat(),
        "attempt": msg.metadata.num_delivered,
        "group": group,
        "error": error,
        "failed_at": require_aware(failed_at).isoformat(),
        "payload": msg.data.decode(errors="replace"),
    }).encode()


def read_dead_letter(payload: bytes) -> tuple[DeadLetter, dict[str, Any]]:
    """The ``DeadLetter`` in a DLQ payload, and the raw record (for replays)."""
    record = json.loads(payload)
    try:
        data = decode_data(record["payload"].encode())
    except ValueError:
        data = {"undecodable_payload": record["payload"]}
    message = Message(record["topic"], record["message_id"], data, record["attempt"],
                      datetime.fromisoformat(record["published_at"]))
    letter = DeadLetter(message, record["error"], datetime.fromisoformat(record["failed_at"]),
                        record["group"])
    return letter, record
