"""Delivery for ``NatsBus``: fetch on the event loop, handle on a thread, then ack, nak or dead-letter.

Every coroutine here runs on the bus's event loop (see ``loop``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from tipoff.adapters.bus.envelope import call_handler, describe
from tipoff.adapters.bus.nats.codec import (
    DEDUP_HEADER, GROUP_HEADER, Layout, dead_letter_record, decode,
)
from tipoff.ports import Message
from tipoff.errors import PermanentError

log = structlog.get_logger(__name__)

_MAX_BACKOFF = 5.0


@dataclass(eq=False)
class Subscription:
    """One handler on the durable consumer of (topic, group)."""

    topic: str
    group: str
    consumer: str
    handler: Callable[..., None]
    max_batch: int | None  # None: one Message per call
    pull: Any = None  # the nats-py PullSubscription, bound on the loop



class Deliverer:
    """Fetches, hands over and settles messages for ``NatsBus``; runs its background loops."""

    def __init__(self, js: Any, layout: Layout, now: Callable[[], datetime], *, ack_wait: float,
                 max_deliver: int, handler_threads: int) -> None:
        self._js, self._layout, self._now = js, layout, now
        self._ack_wait, self._max_deliver = ack_wait, max_deliver
        self._executor = ThreadPoolExecutor(handler_threads, thread_name_prefix="nats-bus-handler")
        self._workers: set[asyncio.Task[None]] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self.background_errors: deque[Exception] = deque(maxlen=100)

    def shutdown(self) -> None:
        """Release the handler threads (running handlers finish on their own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- drain: rounds over every subscription until a round finds nothing ----------------

    async def drain(self, subs: list[Subscription], idle: float, errors: list[Exception]) -> int:
        """Fetch and handle until a round over ``subs`` finds nothing within ``idle``."""
        total = 0
        while True:
            outcomes = await asyncio.gather(*(self._pull_once(sub, idle, errors) for sub in subs),
                                            return_exceptions=True)
            failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
            if failures:
                raise failures[0]
            total += sum(outcomes)  # type: ignore[arg-type]
            if not any(outcomes):
                return total

    async def _pull_once(self, sub: Subscription, idle: float, errors: list[Exception]) -> int:
        """Handle one fetch of ``sub``; skip the fetch when its consumer holds nothing."""
        info = await self._js.consumer_info(self._layout.stream, sub.consumer)
        if not (info.num_pending or info.num_ack_pending):
            return 0
        msgs = await self._fetch(sub, idle)
        if msgs:
            await self._process(sub, msgs, errors)
        return len(msgs)

    async def _fetch(self, sub: Subscription, timeout: float) -> list[Any]:
        try:
            return await sub.pull.fetch(sub.max_batch or 1, timeout=timeout)
        except asyncio.TimeoutError:  # nats' TimeoutError too: nothing was due
            return []

    # --- settling one fetch ---------------------------------------------------------------

    async def _process(self, sub: Subscription, msgs: list[Any],
                       errors: list[Exception] | deque[Exception]) -> None:
        """Hand the usable messages to the handler on a pool thread, then settle each."""
        ready = [(msg, message) for msg in msgs if (message := await self._admit(sub, msg))]
        if not ready:
            return
        messages = [message for _, message in ready]
        loop = asyncio.get_running_loop()
        error = await loop.run_in_executor(self._executor, call_handler, sub, messages)
        for msg, message in ready:
            if error is None:
                await msg.ack()
            else:
                await self._fail(sub, msg, message, error)
        if error is not None:
            errors.append(error)

    async def _admit(self, sub: Subscription, msg: Any) -> Message | None:
        """The delivery as a ``Message``, or None once it is settled without the handler."""
        target = (msg.headers or {}).get(GROUP_HEADER)
        if target and target != sub.group:
            await msg.ack()  # a replay meant for another group
            return None
        delivered = msg.metadata.num_delivered
        if delivered > self._max_deliver:
            await self._dead_letter(sub, msg, f"not acknowledged after {delivered - 1} deliveries "
                                              f"(handler did not return within ack_wait)")
            return None
        try:
            return decode(sub.topic, msg)
        except (ValueError, UnicodeDecodeError) as exc:
            await self._dead_letter(sub, msg, f"undecodable message: {describe(exc)}")
            return None

    async def _fail(self, sub: Subscription, msg: Any, message: Message, error: Exception) -> None:
        # A PermanentError cannot succeed on redelivery: dead-lettered without the waits.
        if message.attempt >= self._max_deliver or isinstance(error, PermanentError):
            await self._dead_letter(sub, msg, describe(error))
        else:
            await msg.nak(delay=self._ack_wait)

    async def _dead_letter(self, sub: Subscription, msg: Any, error: str) -> None:
        """Copy the delivery to the DLQ stream, then terminate it.

        If the copy fails the exception propagates and the message stays un-acked, so the
        server redelivers it and the dead-lettering is tried again.
        """
        record = dead_letter_record(sub.topic, msg, sub.group, error, self._now())
        dedup = f"{sub.group}:{msg.metadata.sequence.stream}"
        await self._js.publish(self._layout.dlq_subject(sub.topic), record, headers={DEDUP_HEADER: dedup})
        await msg.term()
        log.error("bus_message_dead_lettered", topic=sub.topic, group=sub.group,
                  attempts=msg.metadata.num_delivered, error=error)

    # --- background loops -----------------------------------------------------------------

    async def spawn(self, subs: list[Subscription], workers: int, poll: float) -> None:
        """Start ``workers`` background loops per subscription."""
        for sub in subs:
            for _ in range(workers):
                self._workers.add(asyncio.create_task(self._work(sub, poll)))

    async def _work(self, sub: Subscription, poll: float) -> None:
        """Fetch and handle until cancelled; connection trouble means back off and retry."""
        failures = 0
        while True:
            try:
                msgs = await self._fetch(sub, poll)
                if msgs:
                    task = asyncio.create_task(self._process_logged(sub, msgs))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                    await asyncio.shield(task)  # stopping must not abandon a running handler
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker may be restarting: keep the loop alive
                failures += 1
                log.warning("bus_fetch_failed", topic=sub.topic, group=sub.group, error=describe(exc))
                await asyncio.sleep(min(0.1 * 2 ** failures, _MAX_BACKOFF))

    async def _process_logged(self, sub: Subscription, msgs: list[Any]) -> None:
        try:
            await self._process(sub, msgs, self.background_errors)
        except Exception as exc:  # un-settled messages are redelivered after ack_wait
            log.warning("bus_settle_failed", topic=sub.topic, group=sub.group, error=describe(exc))

    async def stop(self, timeout: float) -> None:
        """Cancel the background loops and wait for the handlers they are running."""
        for task in self._workers:
            task.cancel()
        pending = self._workers | self._inflight
        self._workers = set()
        if pending:
            await asyncio.wait(pending, timeout=timeout)
