"""The bus on NATS JetStream: the same at-least-once contract as ``MemoryBus``, across processes.

- **Streams.** One file-backed stream ``{prefix}`` holds every topic (subject ``{prefix}.{topic}``)
  for ``retention``; dead letters are kept in ``{prefix}_DLQ`` until replayed (see
  ``codec`` for the names). Streams and consumers are created idempotently: created, or
  updated when their settings changed.
- **Groups.** A (topic, group) is one durable pull consumer ("deliver all", explicit ack), so a
  group that subscribes late still receives the retained messages. Every handler in a group has
  its own pull subscription on that consumer: they compete for its messages.
- **Threads.** nats-py runs on one asyncio loop on a daemon thread (``LoopThread``); the port's
  methods wait on it. Messages are fetched on the loop and handed to handlers on a thread pool,
  so a slow handler never stalls the connection.
- **Acknowledgement.** The handler returning acks its messages. The handler raising naks them
  with a delay of ``ack_wait`` (redelivered ``ack_wait`` after the failure, as the memory bus
  does); a handler that never returns is redelivered once ``ack_wait`` passes.
- **Dead letters.** The ``max_deliver``-th failed delivery is written to the DLQ stream and
  terminated. The server allows ``_DEAD_LETTER_RETRIES`` deliveries more, never handed to a
  handler: they dead-letter messages whose handler never returned, and retry a dead-lettering
  that failed, so the server never drops a message silently.
  A replay is published to the topic again, marked for the failed group only.
- **De-duplication.** ``Nats-Msg-Id`` is per topic, within ``dedup_window``.
- **Reconnection.** The client reconnects forever; port calls made while the broker is away
  raise ``TransientError`` after ``request_timeout``; fetch loops back off and carry on.

Delivery lives in ``delivery``, DLQ reading and counts in ``admin``, the event loop
and error translation in ``loop``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import nats
import nats.js.errors
import structlog
from nats.js import api

from tipoff.adapters.bus.envelope import describe
from tipoff.adapters.bus.nats.admin import StreamAdmin
from tipoff.adapters.bus.nats.codec import Layout, check_name, encode, headers
from tipoff.adapters.bus.nats.delivery import Deliverer, Subscription
from tipoff.adapters.bus.nats.loop import LoopThread
from tipoff.domain.dates import require_aware
from tipoff.errors import AdapterError, PermanentError
from tipoff.ports import BatchHandler, Clock, DeadLetter, Handler

log = structlog.get_logger(__name__)

_DEAD_LETTER_RETRIES = 3
_HANDLER_THREADS = 64


def _masked(url: str) -> str:
    """``url`` without its credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{'***@' if parts.username else ''}{parts.hostname or ''}{port}"


def _optional_topic(topic: str | None) -> str | None:
    return None if topic is None else check_name("topic", topic)


class NatsBus:
    """The ``tipoff.ports.Bus`` on NATS JetStream; connects in ``open`` (or ``with``)."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        stream_prefix: str = "TIPOFF",
        ack_wait: timedelta = timedelta(seconds=30),
        max_deliver: int = 5,
        dedup_window: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(days=1),
        request_timeout: timedelta = timedelta(seconds=5),
        connect_timeout: timedelta = timedelta(seconds=5),
        name: str | None = None,
    ) -> None:
        if ack_wait <= timedelta(0) or request_timeout <= timedelta(0) or connect_timeout <= timedelta(0):
            raise ValueError("ack_wait, request_timeout and connect_timeout must be positive")
        if max_deliver < 1:
            raise ValueError(f"max_deliver must be at least 1, got {max_deliver}")
        if not timedelta(0) <= dedup_window <= retention:
            raise ValueError("dedup_window must be between 0 and retention")
        self._url, self._clock, self._name = url, clock, name
        self._layout = Layout(check_name("stream_prefix", stream_prefix))
        self._ack_wait = ack_wait.total_seconds()
        self._max_deliver = max_deliver
        self._dedup, self._retention = dedup_window.total_seconds(), retention.total_seconds()
        self._timeout = request_timeout.total_seconds()
        self._subs: list[Subscription] = []
        self._started, self._poll, self._closed = 0, 1.0, False
        self._connect_timeout = connect_timeout.total_seconds()
        self._opened = False

    def open(self, *, create: bool = True) -> NatsBus:
        """Connect and create the streams (idempotent; not with ``create=False``, for read-only
        commands: a missing stream then reads as empty); construction does no I/O."""
        if self._opened:
            return self
        if self._closed:
            raise PermanentError("NATS open failed: the bus is closed")
        self._loop = LoopThread("nats-bus-loop")
        try:
            self._nc = self._run_long(self._connect(self._connect_timeout), "connect")
        except BaseException:
            self._loop.stop()
            raise
        self._opened = True
        self._js = self._nc.jetstream(timeout=self._timeout)
        self._admin = StreamAdmin(self._js, self._layout)
        self._delivery = Deliverer(self._js, self._layout, self._now, ack_wait=self._ack_wait,
                                   max_deliver=self._max_deliver, handler_threads=_HANDLER_THREADS)
        try:
            if create:
                self._run(self._ensure_streams(), "stream setup")
        except BaseException:
            self.close()
            raise
        return self

    def __repr__(self) -> str:
        return f"NatsBus({_masked(self._url)!r}, prefix={self._layout.prefix!r}, subscriptions={len(self._subs)})"

    def __enter__(self) -> NatsBus:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the Bus port ---------------------------------------------------------------------

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Store ``data`` on ``topic``'s subject once the server acknowledges it; return its id.

        A ``message_id`` already published on ``topic`` within ``dedup_window`` is accepted and
        ignored by the server. ``PermanentError`` if ``data`` is not a JSON object;
        ``TransientError`` if the broker does not confirm within ``request_timeout``.
        """
        check_name("topic", topic)
        message_id = message_id or uuid.uuid4().hex
        if not message_id.isprintable():
            raise PermanentError(f"message_id must be printable text, got {message_id!r}")
        payload = encode(data)
        found = headers(topic, message_id, self._now().isoformat())
        self._run(self._publish(self._layout.subject(topic), payload, found), f"publish to {topic}")
        return message_id

    def publish_many(self, topic: str, items: Sequence[tuple[dict[str, Any], str]]) -> list[str]:
        """Publish ``(data, message_id)`` pairs concurrently; return once the server has
        acknowledged every one (same guarantees as ``publish``)."""
        check_name("topic", topic)
        subject, now = self._layout.subject(topic), self._now().isoformat()
        prepared = [(encode(data), headers(topic, message_id, now)) for data, message_id in items]
        self._run_long(self._publish_all(subject, prepared), f"publish {len(items)} to {topic}")
        return [message_id for _, message_id in items]

    def subscribe(self, topic: str, handler: Handler, *, group: str = "default") -> None:
        """Create (or reuse) the durable consumer of (topic, group) and attach ``handler``.

        Delivery happens in ``start``'s background loops or in ``drain``/``join``.
        """
        self._add(topic, group, handler, None)

    def subscribe_batch(self, topic: str, handler: BatchHandler, *, group: str = "default",
                        max_batch: int = 100) -> None:
        """Like ``subscribe``, fetching up to ``max_batch`` messages per handler call."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._add(topic, group, handler, max_batch)

    def ping(self) -> None:
        """Return if JetStream answers within ``request_timeout``; ``TransientError`` otherwise."""
        self._run(self._js.account_info(), "ping")

    def close(self) -> None:
        """Stop background loops, flush acknowledgements, disconnect; un-acked work is redelivered."""
        if self._closed or not self._opened:
            self._closed = True
            return
        self._closed = True
        try:
            self.stop()
            self._run(self._disconnect(), "close")
        except AdapterError as exc:  # closing is best effort: the server redelivers what is un-acked
            log.warning("nats_close_failed", error=str(exc))
        finally:
            self._shutdown_threads()

    # --- delivery -------------------------------------------------------------------------

    def drain(self, *, idle: timedelta = timedelta(milliseconds=250)) -> int:
        """Fetch and handle until no subscription gets a message within ``idle``; return how many.

        Messages handlers publish meanwhile are delivered too. Redeliveries wait for ``ack_wait``.
        """
        return self._drain(idle, [])

    def join(self, raise_errors: bool = True, *, idle: timedelta = timedelta(milliseconds=250)) -> int:
        """Drain, then re-raise the first handler exception seen by this drain or by the
        background loops since the last ``join``."""
        errors: list[Exception] = []
        delivered = self._drain(idle, errors)
        while self._delivery.background_errors:
            errors.append(self._delivery.background_errors.popleft())
        if raise_errors and errors:
            raise errors[0]
        return delivered

    def start(self, workers: int = 1, *, poll_interval: timedelta = timedelta(seconds=1)) -> None:
        """Run ``workers`` fetch-and-handle loops per subscription (and per later one) until ``stop``.

        An idle loop's fetch waits up to ``poll_interval`` on the server.
        """
        if self._started:
            raise RuntimeError("NatsBus background workers are already running")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._started, self._poll = workers, poll_interval.total_seconds()
        self._run(self._delivery.spawn(list(self._subs), workers, self._poll), "start")

    def stop(self, timeout: timedelta = timedelta(seconds=10)) -> None:
        """Stop the background loops and wait for the handlers they are running."""
        if self._started:
            self._started = 0
            self._run_long(self._delivery.stop(timeout.total_seconds()), "stop")

    # --- dead letters and inspection --------------------------------------------------------

    def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Dead-lettered messages, oldest first, optionally for one topic."""
        entries = self._run_long(self._admin.dead_letters(_optional_topic(topic)), "dead-letter listing")
        return [letter for _, letter, _ in entries]

    def replay_dead_letters(self, topic: str | None = None) -> int:
        """Publish dead letters again for their group (attempts restart at 1), remove them from
        the DLQ, and return how many."""
        return self._run_long(self._admin.replay(_optional_topic(topic)), "dead-letter replay")

    def pending_count(self, topic: str | None = None) -> int:
        """Un-acked messages per consumer (one per message and group), plus messages stored on
        topics that no group consumes yet."""
        return self._run(self._admin.pending(_optional_topic(topic)), "pending count")

    def delete_streams(self) -> None:
        """Delete this prefix's streams with their messages, consumers and dead letters."""
        self._run(self._admin.delete_streams(), "stream deletion")

    # --- helpers on the caller's thread ----------------------------------------------------

    def _run(self, coro: Any, doing: str) -> Any:
        """Wait for a few requests' worth of ``request_timeout`` at most."""
        return self._loop.run(coro, doing, self._timeout * 3)

    def _run_long(self, coro: Any, doing: str) -> Any:
        """Wait for work whose length depends on handlers or on the amount of data."""
        return self._loop.run(coro, doing, None)

    def _drain(self, idle: timedelta, errors: list[Exception]) -> int:
        return self._run_long(self._delivery.drain(list(self._subs), idle.total_seconds(), errors), "drain")

    def _now(self) -> datetime:
        return require_aware(self._clock.now())

    def _add(self, topic: str, group: str, handler: Callable[..., None], max_batch: int | None) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        consumer = self._layout.consumer(check_name("topic", topic), check_name("group", group))
        sub = Subscription(topic, group, consumer, handler, max_batch)
        self._run(self._bind(sub), f"subscribe to {topic}")
        self._subs.append(sub)
        if self._started:
            self._run(self._delivery.spawn([sub], self._started, self._poll), "start")

    def _shutdown_threads(self) -> None:
        self._loop.stop()
        self._delivery.shutdown()

    # --- coroutines on the loop ---------------------------------------------------------------

    async def _connect(self, timeout: float) -> Any:
        async def error(exc: Exception) -> None:
            # While the server is away every reconnect attempt fails; the disconnect is the news.
            level = log.debug if isinstance(exc, OSError) else log.warning
            level("nats_error", error=describe(exc))

        async def disconnected() -> None:
            if not self._closed:
                log.warning("nats_disconnected")

        async def reconnected() -> None:
            log.info("nats_reconnected")

        return await asyncio.wait_for(nats.connect(
            self._url, name=self._name, connect_timeout=timeout, max_reconnect_attempts=-1,
            reconnect_time_wait=0.5, error_cb=error, disconnected_cb=disconnected,
            reconnected_cb=reconnected), timeout)

    async def _disconnect(self) -> None:
        try:
            if self._nc.is_connected:
                await self._nc.flush(self._timeout)  # acks still buffered reach the server
        finally:
            await self._nc.close()

    async def _ensure_streams(self) -> None:
        await self._ensure_stream(api.StreamConfig(
            name=self._layout.stream, subjects=[f"{self._layout.stream}.>"],
            storage=api.StorageType.FILE, retention=api.RetentionPolicy.LIMITS,
            max_age=self._retention, duplicate_window=self._dedup))
        await self._ensure_stream(api.StreamConfig(
            name=self._layout.dlq_stream, subjects=[self._layout.dlq_subject(None)],
            storage=api.StorageType.FILE, retention=api.RetentionPolicy.LIMITS,
            duplicate_window=self._dedup))

    async def _ensure_stream(self, config: api.StreamConfig) -> None:
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != 10058:  # "already in use with a different configuration"
                raise
            await self._js.update_stream(config)

    async def _bind(self, sub: Subscription) -> None:
        """Create or update the durable consumer (idempotent), then attach a pull subscription."""
        await self._js.add_consumer(self._layout.stream, api.ConsumerConfig(
            name=sub.consumer, durable_name=sub.consumer, filter_subject=self._layout.subject(sub.topic),
            deliver_policy=api.DeliverPolicy.ALL, ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait, max_deliver=self._max_deliver + _DEAD_LETTER_RETRIES))
        sub.pull = await self._js.pull_subscribe_bind(durable=sub.consumer, stream=self._layout.stream)

    async def _publish_all(self, subject: str, prepared: list[tuple[bytes, dict[str, str]]]) -> None:
        await asyncio.gather(*(self._publish(subject, payload, found) for payload, found in prepared))

    async def _publish(self, subject: str, payload: bytes, found: dict[str, str]) -> None:
        try:
            await self._js.publish(subject, payload, headers=found)
        except nats.js.errors.NoStreamResponseError:
            # The server lost its streams (restarted without its storage): recreate, retry once.
            await self._ensure_streams()
            await self._js.publish(subject, payload, headers=found)
