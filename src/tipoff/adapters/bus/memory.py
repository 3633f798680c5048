"""The in-process bus: at-least-once delivery with the semantics real brokers have.

- **Durable topics.** A topic keeps its messages for ``retention`` (by the injected clock). When
  a group subscribes for the first time it receives every retained message, including those
  published before it existed (a JetStream durable consumer with "deliver all"), so an event
  published before the coordinator subscribes is not lost.
- **Groups.** Every group receives every message; handlers subscribed under the same group are
  competing consumers, served in turn.
- **Explicit delivery.** Nothing runs on the publisher's thread. ``pump``/``drain``/``join``
  deliver on the caller's thread; ``start`` runs pump loops on daemon threads.
- **Acknowledgement.** A delivery is in flight for ``visibility_timeout``. The handler returning
  acks it. The handler raising leaves it un-acked, due again ``visibility_timeout`` after the
  failure with ``attempt`` + 1; a handler that never returns is redelivered once its timeout
  passes. The ``max_attempts``-th failed delivery moves it to the dead-letter list.
- **De-duplication.** A ``message_id`` published again on the same topic within
  ``dedup_window`` of its first publish is ignored.
- **Isolation.** Data is copied through JSON on publish and again for each delivery, so neither
  publisher nor handlers share mutable state.
"""

from __future__ import annotations

import heapq
import json
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from tipoff.adapters.bus.envelope import describe, encode
from tipoff.domain.dates import require_aware
from tipoff.ports import BatchHandler, Clock, DeadLetter, Handler, Message
from tipoff.errors import PermanentError

__all__ = ["DeadLetter", "MemoryBus"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Record:
    seq: int
    topic: str
    message_id: str
    payload: str
    published_at: datetime

    def message(self, attempt: int) -> Message:
        return Message(self.topic, self.message_id, json.loads(self.payload), attempt, self.published_at)


@dataclass(frozen=True)
class _Consumer:
    handler: Callable[..., None]
    max_batch: int | None = None  # None: one Message per call; else a list of up to max_batch


@dataclass(eq=False)
class _Group:
    topic: str
    name: str
    handlers: list[_Consumer] = field(default_factory=list)
    turn: int = 0

    def next_handler(self) -> _Consumer:
        handler = self.handlers[self.turn % len(self.handlers)]
        self.turn += 1
        return handler


@dataclass(eq=False)
class _Delivery:
    """One message's journey through one group (identity-hashed)."""

    record: _Record
    group: _Group
    attempt: int = 0
    ticket: int | None = None  # the live entry in the waiting heap, while in flight
    queued: bool = False
    settled: bool = False  # acked or dead-lettered
    last_error: str | None = None


@dataclass(eq=False)
class _Topic:
    log: deque[_Record] = field(default_factory=deque)
    first_seen: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    groups: dict[str, _Group] = field(default_factory=dict)
    published: int = 0


class MemoryBus:
    """The ``tipoff.ports.Bus`` in one process: thread-safe, clock-driven, no server."""

    def __init__(
        self,
        clock: Clock,
        *,
        visibility_timeout: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        dedup_window: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(days=1),
    ) -> None:
        if visibility_timeout < timedelta(0) or dedup_window < timedelta(0) or retention <= timedelta(0):
            raise ValueError("visibility_timeout and dedup_window must be >= 0 and retention > 0")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._clock = clock
        self._visibility_timeout = visibility_timeout
        self._max_attempts = max_attempts
        self._dedup_window = dedup_window
        self._retention = retention
        self._lock = threading.Lock()
        self._topics: dict[str, _Topic] = {}
        self._ready: deque[_Delivery] = deque()
        self._waiting: list[tuple[datetime, int, _Delivery]] = []
        self._unsettled: set[_Delivery] = set()
        self._dead: list[tuple[DeadLetter, _Record]] = []
        self._seq = 0
        self._tickets = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._background_errors: deque[Exception] = deque(maxlen=100)

    def __repr__(self) -> str:
        return f"MemoryBus(topics={len(self._topics)}, workers={len(self._workers)})"

    def __enter__(self) -> MemoryBus:
        return self.open()

    def open(self, *, create: bool = True) -> MemoryBus:
        """Nothing to connect: the bus lives in this process."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the Bus port ---------------------------------------------------------------------

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Enqueue a JSON copy of ``data`` for every group of ``topic``; return its id.

        A ``message_id`` already published on ``topic`` within the de-duplication window is
        a no-op. Raises ``PermanentError`` if ``data`` is not a JSON-serialisable dict.
        """
        if not topic or not isinstance(topic, str):
            raise ValueError(f"topic must be a non-empty string, got {topic!r}")
        message_id = message_id or uuid.uuid4().hex
        payload = encode(data)
        with self._lock:
            self._accept(self._topic(topic), topic, message_id, payload)
        self._wake.set()
        return message_id

    def publish_many(self, topic: str, items: list[tuple[dict[str, Any], str]]) -> list[str]:
        """Publish ``(data, message_id)`` pairs (one lock round; same rules as ``publish``)."""
        payloads = [(encode(data), message_id) for data, message_id in items]
        with self._lock:
            state = self._topic(topic)
            for payload, message_id in payloads:
                self._accept(state, topic, message_id, payload)
        self._wake.set()
        return [message_id for _, message_id in items]

    def subscribe(self, topic: str, handler: Handler, *, group: str = "default") -> None:
        """Deliver every message of ``topic`` to ``handler``, once per group.

        The first subscription of a group also receives the topic's retained messages.
        Several handlers in one group compete for its messages.
        """
        self._add_consumer(topic, group, _Consumer(handler))

    def subscribe_batch(self, topic: str, handler: BatchHandler, *, group: str = "default",
                        max_batch: int = 100) -> None:
        """Like ``subscribe``, with up to ``max_batch`` due messages per call, settled together."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._add_consumer(topic, group, _Consumer(handler, max_batch))

    def _add_consumer(self, topic: str, group: str, consumer: _Consumer) -> None:
        if not callable(consumer.handler):
            raise TypeError(f"handler must be callable, got {consumer.handler!r}")
        with self._lock:
            state = self._topic(topic)
            if group not in state.groups:
                state.groups[group] = _Group(topic, group)
                for record in state.log:
                    self._deliver_later(record, state.groups[group])
            state.groups[group].handlers.append(consumer)
        self._wake.set()

    def ping(self) -> None:
        """Return: an in-process bus is always reachable."""

    def close(self) -> None:
        """Stop background workers; un-acked messages stay pending for ``pump``."""
        self.stop()

    # --- delivery -------------------------------------------------------------------------

    def pump(self, max_messages: int | None = None) -> int:
        """Deliver due messages on this thread (at most ``max_messages``); return how many."""
        return self._pump(max_messages, None)

    def drain(self) -> int:
        """Deliver until nothing is due, including messages handlers publish meanwhile.

        Redeliveries wait for the clock: advance it (``FakeClock.advance``) and drain again.
        """
        return self._pump(None, None)

    def join(self, raise_errors: bool = True) -> int:
        """Drain, then re-raise the first handler exception seen by this drain or by the
        background workers since the last ``join`` (so tests see handler bugs)."""
        errors: list[Exception] = []
        delivered = self._pump(None, errors)
        while self._background_errors:
            errors.append(self._background_errors.popleft())
        if raise_errors and errors:
            raise errors[0]
        return delivered

    def start(self, workers: int = 1, *, poll_interval: timedelta = timedelta(milliseconds=50)) -> None:
        """Run ``workers`` pump loops on daemon threads until ``stop``.

        Idle workers wake on publish, and every ``poll_interval`` to notice redeliveries.
        """
        if self._workers:
            raise RuntimeError("MemoryBus background workers are already running")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._stopping.clear()
        for index in range(workers):
            thread = threading.Thread(target=self._work, args=(poll_interval.total_seconds(),),
                                      name=f"memory-bus-{index}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout: timedelta = timedelta(seconds=10)) -> None:
        """Stop the background workers and wait for their current handlers to return."""
        self._stopping.set()
        self._wake.set()
        for thread in self._workers:
            thread.join(timeout.total_seconds())
            if thread.is_alive():
                log.warning("bus_worker_still_running", thread=thread.name)
        self._workers = []

    # --- dead letters and inspection --------------------------------------------------------

    def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Dead-lettered messages, oldest first, optionally for one topic."""
        with self._lock:
            return [letter for letter, _ in self._dead if topic in (None, letter.message.topic)]

    def replay_dead_letters(self, topic: str | None = None) -> int:
        """Re-enqueue dead letters for their group with attempts reset; return how many."""
        with self._lock:
            replay = [entry for entry in self._dead if topic in (None, entry[0].message.topic)]
            self._dead = [entry for entry in self._dead if topic not in (None, entry[0].message.topic)]
            for letter, record in replay:
                self._deliver_later(record, self._topics[record.topic].groups[letter.group])
        self._wake.set()
        return len(replay)

    def pending_count(self, topic: str | None = None) -> int:
        """Un-acked deliveries (one per message and group), plus messages retained on topics
        that no group subscribes to yet."""
        with self._lock:
            unsettled = sum(1 for d in self._unsettled if topic in (None, d.record.topic))
            orphaned = sum(len(t.log) for name, t in self._topics.items()
                           if not t.groups and topic in (None, name))
            return unsettled + orphaned

    def published_count(self, topic: str) -> int:
        """Messages accepted on ``topic`` (duplicates not counted)."""
        with self._lock:
            state = self._topics.get(topic)
            return state.published if state else 0

    # --- internals (``_lock`` held unless stated) -------------------------------------------

    def _now(self) -> datetime:
        return require_aware(self._clock.now())

    def _topic(self, name: str) -> _Topic:
        return self._topics.setdefault(name, _Topic())

    def _accept(self, state: _Topic, topic: str, message_id: str, payload: str) -> None:
        now = self._now()
        self._expire(state, now)
        if message_id in state.first_seen:
            return
        self._seq += 1
        record = _Record(self._seq, topic, message_id, payload, now)
        state.first_seen[message_id] = now
        state.log.append(record)
        state.published += 1
        for group in state.groups.values():
            self._deliver_later(record, group)

    def _expire(self, state: _Topic, now: datetime) -> None:
        while state.log and state.log[0].published_at <= now - self._retention:
            state.log.popleft()
        while state.first_seen and next(iter(state.first_seen.values())) <= now - self._dedup_window:
            state.first_seen.popitem(last=False)

    def _deliver_later(self, record: _Record, group: _Group) -> None:
        delivery = _Delivery(record, group)
        self._unsettled.add(delivery)
        self._enqueue(delivery)

    def _enqueue(self, delivery: _Delivery) -> None:
        delivery.queued = True
        self._ready.append(delivery)

    def _hold_until(self, delivery: _Delivery, deadline: datetime) -> None:
        self._tickets += 1
        delivery.ticket = self._tickets
        heapq.heappush(self._waiting, (deadline, self._tickets, delivery))

    def _pump(self, max_messages: int | None, errors: list[Exception] | deque[Exception] | None) -> int:
        """Deliver until nothing is due or ``max_messages`` is reached (lock not held)."""
        delivered = 0
        while max_messages is None or delivered < max_messages:
            if not self._deliver_next(errors):
                break
            delivered += 1
        return delivered

    def _deliver_next(self, errors: list[Exception] | deque[Exception] | None) -> bool:
        """Hand due messages to one handler and settle the outcome (lock not held)."""
        with self._lock:
            job = self._take_due()
        if job is None:
            return False
        deliveries, consumer, messages = job
        try:
            consumer.handler(messages if consumer.max_batch else messages[0])
        except Exception as exc:  # any handler bug becomes a redelivery, never a lost message
            for delivery, message in zip(deliveries, messages):
                self._fail(delivery, message, exc)
            if errors is not None:
                errors.append(exc)
        else:
            for delivery in deliveries:
                self._ack(delivery)
        return True

    def _take_due(self) -> tuple[list[_Delivery], _Consumer, list[Message]] | None:
        now = self._now()
        self._release_expired(now)
        first = self._next_ready()
        if first is None:
            return None
        consumer = first.group.next_handler()
        batch = [first]
        if consumer.max_batch:
            batch += self._more_ready(first.group, consumer.max_batch - 1)
        messages = []
        for delivery in batch:
            delivery.attempt += 1
            self._hold_until(delivery, now + self._visibility_timeout)
            messages.append(delivery.record.message(delivery.attempt))
        return batch, consumer, messages

    def _next_ready(self) -> _Delivery | None:
        while self._ready:
            delivery = self._ready.popleft()
            delivery.queued = False
            if not delivery.settled:
                return delivery
        return None

    def _more_ready(self, group: _Group, limit: int) -> list[_Delivery]:
        """Take up to ``limit`` more ready deliveries of ``group``, keeping the others' order."""
        taken, kept = [], deque()
        while self._ready and len(taken) < limit:
            delivery = self._ready.popleft()
            if delivery.settled:
                delivery.queued = False
            elif delivery.group is group:
                delivery.queued = False
                taken.append(delivery)
            else:
                kept.append(delivery)
        kept.extend(self._ready)
        self._ready = kept
        return taken

    def _release_expired(self, now: datetime) -> None:
        """Make in-flight deliveries whose visibility timeout has passed due again."""
        while self._waiting and self._waiting[0][0] <= now:
            _, ticket, delivery = heapq.heappop(self._waiting)
            if delivery.settled or delivery.ticket != ticket:
                continue  # superseded by a later hold, an ack or a dead letter
            delivery.ticket = None
            if delivery.attempt >= self._max_attempts:
                self._dead_letter(delivery, delivery.last_error or "visibility timeout expired", now)
            else:
                self._enqueue(delivery)

    def _ack(self, delivery: _Delivery) -> None:
        with self._lock:
            self._settle(delivery)

    def _settle(self, delivery: _Delivery) -> None:
        delivery.settled = True
        self._unsettled.discard(delivery)

    def _fail(self, delivery: _Delivery, message: Message, exc: Exception) -> None:
        error = describe(exc)
        log.warning("bus_handler_failed", topic=message.topic, group=delivery.group.name,
                    message_id=message.message_id, attempt=message.attempt, error=error, exc_info=exc)
        with self._lock:
            if delivery.settled or delivery.attempt != message.attempt:
                return  # a later delivery of the same message owns the outcome now
            delivery.last_error = error
            now = self._now()
            # A PermanentError cannot succeed on redelivery: dead-lettered at once.
            if message.attempt >= self._max_attempts or isinstance(exc, PermanentError):
                self._dead_letter(delivery, error, now)
            elif not delivery.queued:
                self._hold_until(delivery, now + self._visibility_timeout)

    def _dead_letter(self, delivery: _Delivery, error: str, now: datetime) -> None:
        self._settle(delivery)
        record = delivery.record
        letter = DeadLetter(record.message(delivery.attempt), error, now, delivery.group.name)
        self._dead.append((letter, record))
        log.error("bus_message_dead_lettered", topic=record.topic, group=delivery.group.name,
                  message_id=record.message_id, attempts=delivery.attempt, error=error)

    def _work(self, poll_seconds: float) -> None:
        """One background worker: pump one message at a time, idle until woken or polled."""
        while not self._stopping.is_set():
            if self._deliver_next(self._background_errors):
                continue
            self._wake.wait(poll_seconds)
            self._wake.clear()
