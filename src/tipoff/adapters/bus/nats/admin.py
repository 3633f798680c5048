"""Dead letters and inspection for ``NatsBus``: reading and replaying the DLQ stream, counting
pending messages, deleting a prefix's streams. Every coroutine runs on the bus's event loop."""

from __future__ import annotations

from typing import Any

import nats.js.errors

from tipoff.adapters.bus.nats.codec import Layout, headers, read_dead_letter
from tipoff.ports import DeadLetter


class StreamAdmin:
    """JetStream requests about stored messages rather than deliveries."""

    def __init__(self, js: Any, layout: Layout) -> None:
        self._js, self._layout = js, layout

    async def dead_letters(self, topic: str | None) -> list[tuple[int, DeadLetter, dict[str, Any]]]:
        """Every DLQ entry of ``topic`` (all when None) with its sequence, oldest first."""
        found, seq = [], 1
        while True:
            try:
                raw = await self._js.get_msg(self._layout.dlq_stream, seq=seq,
                                             subject=self._layout.dlq_subject(topic), next=True)
            except nats.js.errors.NotFoundError:
                return found
            letter, record = read_dead_letter(raw.data)
            found.append((raw.seq, letter, record))
            seq = raw.seq + 1

    async def replay(self, topic: str | None) -> int:
        """Publish each entry for its group, then delete it (a repeated replay is de-duplicated)."""
        entries = await self.dead_letters(topic)
        for seq, letter, record in entries:
            message = letter.message
            found = headers(message.topic, message.message_id, record["published_at"],
                            replay=str(seq), group=letter.group)
            await self._js.publish(self._layout.subject(message.topic), record["payload"].encode(),
                                   headers=found)
            await self._js.delete_msg(self._layout.dlq_stream, seq)
        return len(entries)

    async def pending(self, topic: str | None) -> int:
        """Un-acked messages of each consumer, plus stored messages of unconsumed topics."""
        stream = self._layout.stream
        consumers = await self._js.consumers_info(stream)
        consumed = {info.config.filter_subject for info in consumers}
        wanted = None if topic is None else self._layout.subject(topic)
        unsettled = sum((info.num_pending or 0) + (info.num_ack_pending or 0) for info in consumers
                        if wanted in (None, info.config.filter_subject))
        info = await self._js.stream_info(stream, subjects_filter=wanted or f"{stream}.>")
        orphaned = sum(count for subject, count in (info.state.subjects or {}).items()
                       if subject not in consumed)
        return unsettled + orphaned

    async def delete_streams(self) -> None:
        """Delete the prefix's stream and DLQ stream, if they exist."""
        for stream in (self._layout.stream, self._layout.dlq_stream):
            try:
                await self._js.delete_stream(stream)
            except nats.js.errors.NotFoundError:
                pass
