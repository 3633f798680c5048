"""Settling deliveries for ``PubSubBus``: admit, hand to the handler, then ack, retry or dead-letter.

Both ways of receiving (unary pull in ``drain``, streaming pull in background workers) wrap
each received message in a ``Delivery`` and hand lists of them to ``Settler.settle``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from tipoff.adapters.bus.envelope import call_handler, describe
from tipoff.adapters.bus.pubsub.codec import GROUP, ID, dead_attributes, message
from tipoff.ports import Message

log = structlog.get_logger(__name__)


@dataclass(eq=False)
class Delivery:
    """One received Pub/Sub message and how to settle it."""

    payload: bytes
    attributes: dict[str, str]
    attempt: int
    publish_time: datetime
    ack: Callable[[], None]
    retry: Callable[[float], None]  # make it due again after this many seconds


@dataclass(eq=False)
class Subscription:
    """One handler on the subscription of (topic, group)."""

    topic: str
    group: str
    path: str
    dead_topic: str
    handler: Callable[..., None]
    max_batch: int | None  # None: one Message per call
    seen: dict[str, datetime] = field(default_factory=dict)  # handled ids, for de-duplication
    lock: threading.Lock = field(default_factory=threading.Lock)
    inbox: queue.Queue[Delivery] = field(default_factory=queue.Queue)  # streamed, not yet handled



class Settler:
    """Decides the fate of deliveries; de-duplicates by tipoff's message id within a window."""

    def __init__(self, publish_dead: Callable[[str, bytes, dict[str, str]], None],
                 now: Callable[[], datetime], *, max_attempts: int, retry_delay: float,
                 dedup_window: timedelta) -> None:
        self._publish_dead, self._now = publish_dead, now
        self._max, self._delay, self._window = max_attempts, retry_delay, dedup_window

    def settle(self, sub: Subscription, deliveries: list[Delivery]) -> tuple[int, Exception | None]:
        """Handle ``deliveries`` in one handler call; return how many it got and its error."""
        ready = [(d, m) for d in deliveries if (m := self._admit(sub, d, deliveries))]
        if not ready:
            return 0, None
        error = call_handler(sub, [m for _, m in ready])
        for delivery, msg in ready:
            if error is None:
                delivery.ack()
                self._remember(sub, msg.message_id)
            elif msg.attempt >= self._max:
                self._dead_letter(sub, delivery, describe(error))
            else:
                delivery.retry(self._delay)
        return len(ready), error

    def _admit(self, sub: Subscription, delivery: Delivery, batch: list[Delivery]) -> Message | None:
        """The delivery as a ``Message``, or None once it is settled without the handler."""
        target, message_id = delivery.attributes.get(GROUP), delivery.attributes.get(ID, "")
        earlier = batch[:batch.index(delivery)]
        if (target and target != sub.group) or self._seen(sub, message_id) or any(
                d.attributes.get(ID) == message_id for d in earlier if message_id):
            delivery.ack()  # a replay for another group, or a duplicate of a handled message
            return None
        if delivery.attempt > self._max:
            self._dead_letter(sub, delivery, f"not acknowledged after {delivery.attempt - 1} "
                                             "deliveries (handler did not return in time)")
            return None
        try:
            return message(sub.topic, delivery.payload, delivery.attributes, delivery.attempt,
                           delivery.publish_time)
        except (ValueError, UnicodeDecodeError) as exc:
            self._dead_letter(sub, delivery, f"undecodable message: {describe(exc)}")
            return None

    def _dead_letter(self, sub: Subscription, delivery: Delivery, error: str) -> None:
        """Copy the delivery to the dead-letter topic, then ack it.

        If the copy fails the exception propagates and the delivery stays un-acked, so Pub/Sub
        redelivers it and the dead-lettering is tried again.
        """
        found = dead_attributes(delivery.attributes, sub.group, error, delivery.attempt, self._now())
        self._publish_dead(sub.dead_topic, delivery.payload, found)
        delivery.ack()
        log.error("bus_message_dead_lettered", topic=sub.topic, group=sub.group,
                  attempts=delivery.attempt, error=error)

    def _seen(self, sub: Subscription, message_id: str) -> bool:
        if not message_id:
            return False
        with sub.lock:
            handled = sub.seen.get(message_id)
        return handled is not None and self._now() - handled < self._window

    def _remember(self, sub: Subscription, message_id: str) -> None:
        if not message_id:
            return
        now = self._now()
        with sub.lock:
            sub.seen[message_id] = now
            if len(sub.seen) > 10_000:  # forget ids older than the window
                sub.seen = {k: t for k, t in sub.seen.items() if now - t < self._window}


def unary(subscriber: Any, path: str, received: Any, acked: list[str]) -> Delivery:
    """A ``Delivery`` of one message from a unary ``pull`` response; its ack adds the ack id
    to ``acked``, which the caller acknowledges in one call once the chunk is settled."""
    ack_id = received.ack_id
    return Delivery(
        payload=received.message.data, attributes=dict(received.message.attributes),
        attempt=received.delivery_attempt or 1, publish_time=received.message.publish_time,
        ack=lambda: acked.append(ack_id),
        retry=lambda delay: subscriber.modify_ack_deadline(
            subscription=path, ack_ids=[ack_id], ack_deadline_seconds=max(int(round(delay)), 0)))


def streamed(msg: Any) -> Delivery:
    """A ``Delivery`` of one message from streaming pull.

    The client keeps extending the lease of a message it holds, so a retry holds it for
    ``delay`` and then nacks it (due at once).
    """
    def retry(delay: float) -> None:
        timer = threading.Timer(delay, msg.nack)
        timer.daemon = True
        timer.start()

    return Delivery(payload=msg.data, attributes=dict(msg.attributes), attempt=msg.delivery_attempt or 1,
                    publish_time=msg.publish_time, ack=msg.ack, retry=retry)
