"""The bus on Google Cloud Pub/Sub: the same at-least-once contract as ``MemoryBus``, across processes.

- **Resources.** Topic ``{prefix}{topic}``, subscription ``{prefix}{topic}--{group}`` (see
  ``codec``). Creation is idempotent (AlreadyExists is success). Topics retain messages for
  ``retention`` and a new subscription seeks back over them, so a group that subscribes late
  still receives what was published before it existed.
- **Receiving.** ``drain``/``join`` use unary pull on the caller's thread; ``start`` opens one
  streaming pull per subscription and hands messages to ``workers`` threads per subscription.
- **Acknowledgement.** The handler returning acks. The handler raising makes the message due
  again after ``retry_delay`` (modify-ack-deadline, or a delayed nack under streaming pull);
  a handler that never returns is redelivered when the subscription's ``ack_deadline`` passes
  (Pub/Sub's minimum is 10 s).
- **Dead letters.** The ``max_attempts``-th failed delivery (Pub/Sub's ``delivery_attempt``) is
  copied to ``{prefix}{topic}--dead`` with the group and error as attributes, then acked. The
  subscription's own dead-letter policy (``max_attempts + 3`` deliveries, at least 5) sends the
  same topic messages whose handler never returned. Replays are published to the topic again,
  addressed to the failed group only (other groups ack them unhandled).
- **De-duplication.** Pub/Sub has no publisher de-duplication. A bus skips re-publishing an id it
  published on that topic within ``dedup_window``, and each subscription acks without handling a
  message whose id it handled within the window. Duplicates handled by *different* processes
  are possible; every tipoff handler is idempotent (upserts keyed by player and batch).
- **Ordering.** No ordering keys: tipoff does not rely on order.
"""

from __future__ import annotations

import queue
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1

from tipoff.adapters.bus.envelope import describe, encode
from tipoff.adapters.bus.pubsub.codec import (
    Layout,
    attributes,
    check_name,
    dead_letter,
    replay_attributes,
    require_project,
)
from tipoff.adapters.bus.pubsub.delivery import (
    Delivery,
    Settler,
    Subscription,
    streamed,
    unary,
)
from tipoff.adapters.bus.pubsub.errors import TRANSLATABLE, translate
from tipoff.domain.dates import require_aware
from tipoff.errors import AdapterError, PermanentError
from tipoff.ports import BatchHandler, Clock, DeadLetter, Handler

log = structlog.get_logger(__name__)

_SEEK_FROM = datetime(2000, 1, 1, tzinfo=UTC)  # before anything retained: "deliver all"
_PULL_MAX = 100


class PubSubBus:
    """The ``tipoff.ports.Bus`` on Google Cloud Pub/Sub (or its emulator via
    ``PUBSUB_EMULATOR_HOST``); ``open`` connects."""

    def __init__(
        self,
        project: str,
        clock: Clock,
        *,
        prefix: str = "tipoff-",
        ack_deadline: timedelta = timedelta(seconds=60),
        retry_delay: timedelta | None = None,
        max_attempts: int = 5,
        dedup_window: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(days=1),
        request_timeout: timedelta = timedelta(seconds=10),
    ) -> None:
        if not timedelta(seconds=10) <= ack_deadline <= timedelta(seconds=600):
            raise ValueError("ack_deadline must be between 10 s and 600 s (Pub/Sub's limits)")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if not timedelta(minutes=10) <= retention <= timedelta(days=7) or dedup_window < timedelta(0):
            raise ValueError("retention must be between 10 minutes and 7 days, dedup_window >= 0")
        delay = ack_deadline if retry_delay is None else retry_delay
        if not timedelta(0) <= delay <= timedelta(seconds=600):
            raise ValueError("retry_delay must be between 0 and 600 s")
        self._layout = Layout(require_project(project), prefix)
        self._clock, self._ack_deadline, self._max = clock, int(ack_deadline.total_seconds()), max_attempts
        self._retention, self._window = retention, dedup_window
        self._timeout = request_timeout.total_seconds()
        self._settler = Settler(self._publish_raw, self._now, max_attempts=max_attempts,
                                retry_delay=delay.total_seconds(), dedup_window=dedup_window)
        self._subs: list[Subscription] = []
        self._topics: set[str] = set()
        self._recent: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()
        self._publisher: Any = None
        self._subscriber: Any = None
        self._workers = 0
        self._streams: list[Future[Any]] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._errors: list[Exception] = []
        self._create = True

    def __repr__(self) -> str:
        return (f"PubSubBus(project={self._layout.project!r}, prefix={self._layout.prefix!r}, "
                f"subscriptions={len(self._subs)})")

    def __enter__(self) -> PubSubBus:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self, *, create: bool = True) -> PubSubBus:
        """Create the clients and check the service answers; with ``create=False`` reading
        dead letters creates no topic or subscription."""
        self._create = create
        if self._publisher is None:
            # A worker publishes one result at a time and waits for it: the default 10 ms of
            # batching latency would be paid per result.
            self._publisher = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(max_latency=0.001))
            self._subscriber = pubsub_v1.SubscriberClient()
            self.ping()
        return self

    # --- the Bus port ---------------------------------------------------------------------

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Publish ``data`` once Pub/Sub confirms it; an id this bus published on ``topic``
        within ``dedup_window`` is skipped. ``PermanentError`` if ``data`` is not a JSON
        object; ``TransientError`` if Pub/Sub does not confirm within ``request_timeout``."""
        return self.publish_many(topic, [(data, message_id or uuid.uuid4().hex)])[0]

    def publish_many(self, topic: str, items: Sequence[tuple[dict[str, Any], str]]) -> list[str]:
        """Publish ``(data, message_id)`` pairs concurrently; return once every one is confirmed."""
        self._ensure_topic(check_name("topic", topic))
        now = self._now()
        fresh = [(data, mid) for data, mid in dict((mid, (data, mid)) for data, mid in items).values()
                 if not self._recently_published(topic, mid, now)]
        prepared = [(encode(data).encode(), attributes(data, mid, now)) for data, mid in fresh]
        path = self._layout.topic(topic)
        self._call(lambda: self._confirm([self._publisher.publish(path, payload, **found)
                                          for payload, found in prepared]), f"publish to {topic}")
        with self._lock:
            self._recent.update({(topic, mid): now for _, mid in fresh})
        return [mid for _, mid in items]

    def subscribe(self, topic: str, handler: Handler, *, group: str = "default") -> None:
        """Create (or reuse) the subscription of (topic, group) and attach ``handler``."""
        self._add(topic, group, handler, None)

    def subscribe_batch(self, topic: str, handler: BatchHandler, *, group: str = "default",
                        max_batch: int = 100) -> None:
        """Like ``subscribe``, handing over up to ``max_batch`` messages per handler call."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._add(topic, group, handler, max_batch)

    def drain(self, *, idle: timedelta = timedelta(milliseconds=200)) -> int:
        """Pull and handle until a round finds nothing twice, ``idle`` apart; return how many."""
        return self._drain(idle, [])

    def join(self, raise_errors: bool = True, *, idle: timedelta = timedelta(milliseconds=200)) -> int:
        """Drain, then re-raise the first handler exception seen since the last ``join``."""
        errors: list[Exception] = []
        delivered = self._drain(idle, errors)
        with self._lock:
            errors.extend(self._errors)
            self._errors.clear()
        if raise_errors and errors:
            raise errors[0]
        return delivered

    def start(self, workers: int = 1, *, poll_interval: timedelta = timedelta(seconds=1)) -> None:
        """Open a streaming pull per subscription (and per later one) with ``workers`` handler
        threads each, until ``stop``. ``poll_interval`` is how often idle threads check for stop."""
        if self._workers:
            raise RuntimeError("PubSubBus background workers are already running")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._workers, self._poll = workers, poll_interval.total_seconds()
        self._stopping.clear()
        for sub in self._subs:
            self._stream(sub)

    def stop(self, timeout: timedelta = timedelta(seconds=10)) -> None:
        """Close the streaming pulls and wait for the handlers that are running."""
        if not self._workers:
            return
        self._workers = 0
        self._stopping.set()
        for stream in self._streams:
            stream.cancel()  # held, unsettled messages are nacked by the client
        for thread in self._threads:
            thread.join(timeout.total_seconds())
        self._streams, self._threads = [], []

    def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Dead-lettered messages, oldest first, optionally of one topic (read, then released)."""
        found: list[DeadLetter] = []
        for name in self._dead_topics(topic):
            path, received = self._layout.dead_subscription(name), self._pull_all(name)
            found += [dead_letter(name, r.message.data, dict(r.message.attributes), r.message.publish_time)
                      for r in received]
            if received:
                self._call(lambda: self._subscriber.modify_ack_deadline(
                    subscription=path, ack_ids=[r.ack_id for r in received], ack_deadline_seconds=0),
                    "dead-letter release")
        return sorted(found, key=lambda letter: letter.failed_at)

    def replay_dead_letters(self, topic: str | None = None) -> int:
        """Publish dead letters again for the group that failed them (attempts restart at 1),
        then remove them; return how many."""
        count = 0
        for name in self._dead_topics(topic):
            path, received = self._layout.dead_subscription(name), self._pull_all(name)
            for r in received:
                letter = dead_letter(name, r.message.data, dict(r.message.attributes), r.message.publish_time)
                self._publish_raw(self._layout.topic(name), r.message.data, replay_attributes(letter))
            if received:
                self._call(lambda: self._subscriber.acknowledge(
                    subscription=path, ack_ids=[r.ack_id for r in received]), "dead-letter removal")
            count += len(received)
        return count

    def pending_count(self, topic: str | None = None) -> int:
        """Messages this bus's background workers hold and have not settled yet.

        Pub/Sub reports a subscription's backlog only as a Cloud Monitoring metric
        (``subscription/num_undelivered_messages``), which neither the API nor the emulator
        serves; counting by pulling would change delivery attempts.
        """
        return sum(sub.inbox.qsize() for sub in self._subs if topic in (None, sub.topic))

    def ping(self) -> None:
        """Return if Pub/Sub answers within ``request_timeout``; ``TransientError`` otherwise."""
        project = f"projects/{self._layout.project}"
        self._call(lambda: next(iter(self._publisher.list_topics(
            request={"project": project, "page_size": 1}, timeout=self._timeout,
            retry=None).pages), None), "ping")

    def close(self) -> None:
        """Stop background delivery and close the clients; un-acked work is redelivered."""
        self.stop()
        if self._subscriber is not None:
            try:
                self._subscriber.close()
                self._publisher.stop()
            except Exception as exc:  # best effort: Pub/Sub redelivers what is un-acked
                log.warning("pubsub_close_failed", error=describe(exc))
            self._publisher = self._subscriber = None

    def delete_resources(self) -> None:
        """Delete every topic and subscription of this prefix (tests and teardown)."""
        project = f"projects/{self._layout.project}"
        own = f"{project}/subscriptions/{self._layout.prefix}"
        for sub in self._subscriber.list_subscriptions(request={"project": project}):
            if sub.name.startswith(own):
                self._subscriber.delete_subscription(subscription=sub.name)
        for topic in self._publisher.list_topics(request={"project": project}):
            if topic.name.startswith(f"{project}/topics/{self._layout.prefix}"):
                self._publisher.delete_topic(topic=topic.name)

    # --- set-up ----------------------------------------------------------------------------

    def _add(self, topic: str, group: str, handler: Callable[..., None], max_batch: int | None) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        check_name("topic", topic), check_name("group", group)
        self._ensure_topic(topic)
        sub = Subscription(topic, group, self._layout.subscription(topic, group),
                           self._layout.dead_topic(topic), handler, max_batch)
        self._call(lambda: self._ensure_subscription(sub), f"subscribe to {topic}")
        self._subs.append(sub)
        if self._workers:
            self._stream(sub)

    def _ensure_topic(self, topic: str) -> None:
        if topic in self._topics:
            return
        retention = self._retention
        for path in (self._layout.topic(topic), self._layout.dead_topic(topic)):
            self._call(lambda: self._created(lambda: self._publisher.create_topic(
                request={"name": path, "message_retention_duration": retention})), f"create {path}")
        inspect = {"name": self._layout.dead_subscription(topic), "topic": self._layout.dead_topic(topic),
                   "ack_deadline_seconds": 60, "retain_acked_messages": False}
        self._call(lambda: self._created(lambda: self._subscriber.create_subscription(request=inspect)),
                   f"create dead-letter subscription of {topic}")
        self._topics.add(topic)

    def _ensure_subscription(self, sub: Subscription) -> None:
        """Create the subscription; a new one seeks back over the topic's retained messages."""
        request = {"name": sub.path, "topic": self._layout.topic(sub.topic),
                   "ack_deadline_seconds": self._ack_deadline,
                   "dead_letter_policy": {"dead_letter_topic": sub.dead_topic,
                                          "max_delivery_attempts": min(max(self._max + 3, 5), 100)}}
        if self._created(lambda: self._subscriber.create_subscription(request=request)):
            self._subscriber.seek(request={"subscription": sub.path, "time": _SEEK_FROM})

    @staticmethod
    def _created(create: Callable[[], Any]) -> bool:
        """Run a create call; False if the resource already existed."""
        try:
            create()
        except gexc.AlreadyExists:
            return False
        return True

    # --- receiving -------------------------------------------------------------------------

    def _drain(self, idle: timedelta, errors: list[Exception]) -> int:
        """Rounds over every subscription until two rounds, ``idle`` apart, receive nothing."""
        total, quiet = 0, 0
        while quiet < 2:
            rounds = [self._pull_once(sub, errors) for sub in list(self._subs)]
            total += sum(handled for _, handled in rounds)
            quiet = 0 if any(received for received, _ in rounds) else quiet + 1
            if quiet == 1:
                self._stopping.wait(idle.total_seconds())
        return total

    def _pull_once(self, sub: Subscription, errors: list[Exception]) -> tuple[int, int]:
        """Pull what is due on ``sub`` and settle it; return (received, handled)."""
        response = self._pull(sub.path, sub.max_batch or 10, f"pull {sub.topic}")
        acked: list[str] = []
        deliveries = [unary(self._subscriber, sub.path, r, acked)
                      for r in response.received_messages]
        chunks = [deliveries] if sub.max_batch else [[delivery] for delivery in deliveries]
        handled = 0
        for chunk in chunks:
            count, error = self._call(lambda: self._settler.settle(sub, chunk), f"settle {sub.topic}")
            handled += count
            if error is not None:
                errors.append(error)
            if acked:  # one acknowledge per chunk, not one per message
                self._call(lambda: self._subscriber.acknowledge(subscription=sub.path,
                                                                ack_ids=list(acked)),
                           f"acknowledge {sub.topic}")
                acked.clear()
        return len(deliveries), handled

    def _stream(self, sub: Subscription) -> None:
        """One streaming pull for ``sub`` feeding a queue, and ``workers`` threads settling it."""
        inbox = sub.inbox
        control = pubsub_v1.types.FlowControl(max_messages=self._workers * (sub.max_batch or 1) * 2)
        self._streams.append(self._subscriber.subscribe(
            sub.path, lambda msg: inbox.put(streamed(msg)), flow_control=control))
        for n in range(self._workers):
            thread = threading.Thread(target=self._work, args=(sub, inbox), daemon=True,
                                      name=f"pubsub-bus-{sub.topic}-{n}")
            thread.start()
            self._threads.append(thread)

    def _work(self, sub: Subscription, inbox: queue.Queue[Delivery]) -> None:
        while not self._stopping.is_set():
            try:
                batch = [inbox.get(timeout=self._poll)]
            except queue.Empty:
                continue
            while sub.max_batch and len(batch) < sub.max_batch and not inbox.empty():
                batch.append(inbox.get_nowait())
            try:
                _, error = self._settler.settle(sub, batch)
            except Exception as exc:  # un-settled messages come back after the ack deadline
                log.warning("bus_settle_failed", topic=sub.topic, group=sub.group, error=describe(exc))
                continue
            if error is not None:
                with self._lock:
                    self._errors.append(error)

    def _pull_all(self, topic: str) -> list[Any]:
        """Every message on the dead-letter subscription of ``topic``, held (not acked)."""
        path, found = self._layout.dead_subscription(topic), []
        while True:
            response = self._pull(path, _PULL_MAX, f"read dead letters of {topic}")
            if not response.received_messages:
                return found
            found += list(response.received_messages)

    def _dead_topics(self, topic: str | None) -> list[str]:
        if topic is not None and self._create:
            self._ensure_topic(check_name("topic", topic))
            return [topic]
        listed = self._call(lambda: list(self._publisher.list_topics(
            request={"project": f"projects/{self._layout.project}"}, timeout=self._timeout)), "list topics")
        names = [self._layout.topic_of(t.name) for t in listed]
        return sorted(name for name in names if name and topic in (None, name))

    # --- helpers ---------------------------------------------------------------------------

    def _pull(self, path: str, most: int, doing: str) -> Any:
        """One unary pull that returns at once with what is due (possibly nothing)."""
        with warnings.catch_warnings():
            # deprecated for serving loops, which use streaming pull here; draining needs it
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._call(lambda: self._subscriber.pull(
                request={"subscription": path, "max_messages": most, "return_immediately": True},
                timeout=self._timeout), doing)

    def _publish_raw(self, path: str, payload: bytes, found: dict[str, str]) -> None:
        self._call(lambda: self._confirm([self._publisher.publish(path, payload, **found)]), "publish")

    def _confirm(self, futures: list[Any]) -> None:
        done, not_done = wait(futures, timeout=self._timeout)
        if not_done:
            raise TimeoutError(f"{len(not_done)} of {len(futures)} publishes unconfirmed")
        for future in done:
            future.result()

    def _recently_published(self, topic: str, message_id: str, now: datetime) -> bool:
        with self._lock:
            when = self._recent.get((topic, message_id))
            if len(self._recent) > 50_000:
                self._recent = {k: t for k, t in self._recent.items() if now - t < self._window}
        return when is not None and now - when < self._window

    def _call(self, action: Callable[[], Any], doing: str) -> Any:
        if self._publisher is None:
            raise PermanentError(f"Pub/Sub {doing} failed: the bus is not open")
        try:
            return action()
        except AdapterError:
            raise
        except TRANSLATABLE as exc:
            raise translate(exc, doing) from exc

    def _now(self) -> datetime:
        return require_aware(self._clock.now())


