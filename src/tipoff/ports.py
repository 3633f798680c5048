"""The ports of tipoff: what the pipeline needs from the outside world.

Each method's docstring states the guarantee every adapter must keep; the contract suites in
``tests/contract`` check those guarantees against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd


class Clock(Protocol):
    """The only source of time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


@dataclass(frozen=True)
class Message:
    """One delivery of a bus message.

    ``attempt`` counts deliveries (1 on first delivery); ``message_id`` is stable across
    redeliveries and is the publisher's de-duplication key.
    """

    topic: str
    message_id: str
    data: dict[str, Any]
    attempt: int = 1
    published_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Message], None]
BatchHandler = Callable[[list[Message]], None]


class Bus(Protocol):
    """A topic-based message bus with at-least-once delivery."""

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Durably enqueue ``data`` on ``topic`` and return its message id.

        Publishing twice with the same ``message_id`` within the de-duplication window
        delivers it once. Raises ``TransientError``/``PermanentError`` on failure.
        """
        ...

    def publish_many(self, topic: str, items: list[tuple[dict[str, Any], str]]) -> list[str]:
        """Publish ``(data, message_id)`` pairs, possibly concurrently; return when every one
        is as durable as ``publish`` makes it. Each pair is de-duplicated by its id."""
        ...

    def subscribe(self, topic: str, handler: Handler, *, group: str = "default") -> None:
        """Deliver every message of ``topic`` to ``handler`` (once per group).

        A message is acknowledged when the handler returns; if it raises, the message is
        redelivered after the visibility timeout, up to the maximum number of attempts,
        after which it is moved to the dead-letter list.
        """
        ...

    def subscribe_batch(self, topic: str, handler: BatchHandler, *, group: str = "default",
                        max_batch: int = 100) -> None:
        """Like ``subscribe``, but hand due messages over in lists of up to ``max_batch``.

        All messages of a list are acknowledged when the handler returns; if it raises, each
        of them is redelivered (attempt + 1) and dead-lettered after the maximum attempts.
        """
        ...

    def ping(self) -> None:
        """Return if the bus is reachable; raise ``AdapterError`` otherwise."""
        ...

    def close(self) -> None:
        """Release connections; pending work is left for redelivery."""
        ...


@dataclass(frozen=True)
class RunRecord:
    """One row of run history: a stage 4 run or one coordinator decision."""

    run_id: str
    processor: str
    status: str
    started_at: datetime
    game_date: date | None = None
    finished_at: datetime | None = None
    source: str | None = None
    decision: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> timedelta | None:
        """Wall time of the run, when it has finished."""
        return None if self.finished_at is None else self.finished_at - self.started_at


class Store(Protocol):
    """The system of record (analytics inputs, features, predictions, run history)."""

    def replace_analytics(self, frames: Mapping[str, pd.DataFrame], *, dates: tuple[date, date] | None = None) -> dict[str, int]:
        """Write analytics tables in one transaction and return rows written per table.

        Without ``dates`` rows are upserted by primary key; with ``dates`` each table's rows in
        that inclusive game-date range are replaced by the given ones (the frames must then hold
        each key once). Either every table is written or none is.
        """
        ...

    def read_analytics(self, table: str, *, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Rows of an analytics table whose game_date lies in ``[start, end)``.

        Columns follow ``tipoff.domain.analytics.COLUMNS``; timestamps are aware UTC.
        """
        ...

    def game_dates(self) -> list[date]:
        """Every date that has at least one scheduled game, ascending."""
        ...

    def replace_features(self, game_date: date, feature_version: str, rows: list[dict[str, Any]]) -> int:
        """Atomically replace every feature row of (game_date, feature_version)."""
        ...

    def read_features(self, game_date: date, feature_version: str) -> list[dict[str, Any]]:
        """The feature rows of a date, ordered by player_lookup."""
        ...

    def record_run(self, run: RunRecord) -> None:
        """Insert or update (by run_id) one run history row."""
        ...

    def runs(self, *, processor: str | None = None, game_date: date | None = None) -> list[RunRecord]:
        """Run history rows, oldest first, optionally filtered."""
        ...

    def ping(self) -> None:
        """Return if the store is reachable; raise ``AdapterError`` otherwise."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
