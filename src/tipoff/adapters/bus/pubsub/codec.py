"""Names, attributes and dead-letter records of ``PubSubBus``.

Topic ``{prefix}{topic}``, subscription ``{prefix}{topic}--{group}``, dead letters on topic
``{prefix}{topic}--dead`` read through its subscription ``{prefix}{topic}--dead--inspect``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tipoff.domain.dates import require_aware
from tipoff.errors import PermanentError
from tipoff.ports import DeadLetter, Message

ID, PUBLISHED, GROUP, ERROR, FAILED_AT, ATTEMPT = (
    "message_id", "published_at", "tipoff_group", "tipoff_error", "tipoff_failed_at", "tipoff_attempt")
# Fields of the data copied into attributes, so subscriptions and logs can filter on them.
COPIED = ("game_date", "batch_id", "correlation_id")
DEAD, INSPECT = "--dead", "--inspect"
_NAME = re.compile(r"[A-Za-z0-9_.~+%-]+")
_SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"


def check_name(kind: str, name: str) -> str:
    """``name`` if Pub/Sub accepts it inside a resource name; ``ValueError`` otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or "--" in name:
        raise ValueError(f"{kind} {name!r} must be letters, digits or -_.~+% without '--'")
    return name


@dataclass(frozen=True)
class Layout:
    """Resource paths of one project and prefix."""

    project: str
    prefix: str

    def topic(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{self.prefix}{topic}"

    def subscription(self, topic: str, group: str) -> str:
        return f"projects/{self.project}/subscriptions/{self.prefix}{topic}--{group}"

    def dead_topic(self, topic: str) -> str:
        return self.topic(topic + DEAD)

    def dead_subscription(self, topic: str) -> str:
        return f"projects/{self.project}/subscriptions/{self.prefix}{topic}{DEAD}{INSPECT}"

    def topic_of(self, path: str) -> str | None:
        """The tipoff topic of a dead-letter topic path of this prefix, else None."""
        name = path.rsplit("/", 1)[-1]
        if not (name.startswith(self.prefix) and name.endswith(DEAD)):
            return None
        return name[len(self.prefix):-len(DEAD)]


def attributes(data: dict[str, Any], message_id: str, published_at: datetime) -> dict[str, str]:
    """The attributes a publish carries: tipoff's id and publish time, and the copied fields."""
    found = {ID: message_id, PUBLISHED: require_aware(published_at).isoformat()}
    found.update({key: str(data[key]) for key in COPIED if data.get(key) is not None})
    return found


def decode_data(payload: bytes) -> dict[str, Any]:
    """The JSON object of a payload; ``ValueError`` for anything else."""
    data = json.loads(payload.decode())
    if not isinstance(data, dict):
        raise ValueError(f"message data must be a JSON object, got {type(data).__name__}")
    return data


def message(topic: str, payload: bytes, found: dict[str, str], attempt: int, publish_time: datetime) -> Message:
    """The ``Message`` of a delivery; ``ValueError`` if its payload is unusable."""
    published = found.get(PUBLISHED)
    return Message(topic=topic, message_id=found.get(ID, ""), data=decode_data(payload),
                   attempt=max(attempt, 1), attributes=dict(found),
                   published_at=require_aware(datetime.fromisoformat(published)) if published
                   else require_aware(publish_time))


def dead_attributes(found: dict[str, str], group: str, error: str, attempt: int,
                    failed_at: datetime) -> dict[str, str]:
    """The attributes of a dead-letter copy: the original ones and why it failed."""
    return {**found, GROUP: group, ERROR: error[:1000], ATTEMPT: str(attempt),
            FAILED_AT: require_aware(failed_at).isoformat()}


def dead_letter(topic: str, payload: bytes, found: dict[str, str], publish_time: datetime) -> DeadLetter:
    """The ``DeadLetter`` read from the dead-letter topic.

    Copies the bus made carry the group and error; copies the server made (a handler that never
    returned) carry only the source subscription.
    """
    try:
        data = decode_data(payload)
    except (ValueError, UnicodeDecodeError):
        data = {"undecodable_payload": payload.decode(errors="replace")}
    group = found.get(GROUP) or found.get(_SOURCE_SUBSCRIPTION, "").rsplit("--", 1)[-1]
    error = found.get(ERROR) or "not acknowledged within the ack deadline (handler did not return)"
    published = found.get(PUBLISHED)
    msg = Message(topic, found.get(ID, ""), data, int(found.get(ATTEMPT, "0") or 0),
                  datetime.fromisoformat(published) if published else publish_time,
                  {key: value for key, value in found.items() if not key.startswith("tipoff_")})
    failed = found.get(FAILED_AT)
    return DeadLetter(msg, error, datetime.fromisoformat(failed) if failed else publish_time, group)


def replay_attributes(letter: DeadLetter) -> dict[str, str]:
    """Attributes of a replay: the original ones, addressed to the failed group only."""
    return {**letter.message.attributes, GROUP: letter.group}


def require_project(project: str) -> str:
    """``project`` if it looks like a Google Cloud project id; ``PermanentError`` otherwise."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{3,61}[a-z0-9]|[a-z][a-z0-9-]*", project or ""):
        raise PermanentError(f"invalid Google Cloud project id {project!r}")
    return project
