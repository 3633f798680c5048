"""The ports of tipoff: what the pipeline needs from the outside world.

Each method's docstring states the guarantee every adapter must keep; the contract suites in
``tests/contract`` check those guarantees against every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, Self

import pandas as pd

if TYPE_CHECKING:
    from tipoff.domain.batches import Batch, Progress
    from tipoff.domain.alerts import Alert
    from tipoff.domain.systems import ModelArtifact


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


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed ``max_attempts`` deliveries in one group, with its last error."""

    message: Message
    error: str
    failed_at: datetime
    group: str


Handler = Callable[[Message], None]
BatchHandler = Callable[[list[Message]], None]


class Bus(Protocol):
    """A topic-based message bus with at-least-once delivery."""

    def open(self, *, create: bool = True) -> Self:
        """Connect and set up what the bus needs (streams; with ``create=False`` nothing is
        created: a read-only command finds what exists); constructing it does no I/O."""
        ...

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

    def start(self, workers: int = 1) -> None:
        """Deliver in the background (``workers`` loops) until ``stop``."""
        ...

    def stop(self) -> None:
        """Stop the background delivery and wait for the handlers it is running."""
        ...

    def join(self, raise_errors: bool = True) -> int:
        """Deliver on this thread until nothing is due; return how many were delivered, and
        re-raise the first handler exception seen since the last ``join``."""
        ...

    def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Dead-lettered messages, oldest first, optionally of one topic."""
        ...

    def replay_dead_letters(self, topic: str | None = None) -> int:
        """Deliver dead letters again to the group that failed them (attempts restart at 1)."""
        ...

    def pending_count(self, topic: str | None = None) -> int:
        """Deliveries not yet acknowledged (one per message and group)."""
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

    def as_row(self) -> dict[str, Any]:
        """The run as one flat row (the column layout every run-history table shares)."""
        duration = self.duration
        return {
            "run_id": self.run_id, "processor": self.processor, "game_date": self.game_date,
            "source": self.source, "decision": self.decision, "reason": self.reason,
            "status": self.status, "started_at": self.started_at, "finished_at": self.finished_at,
            "duration_ms": None if duration is None else duration.total_seconds() * 1000,
            "counts": dict(self.counts), "correlation_id": self.correlation_id,
            "details": dict(self.details),
        }


# --- the store, by role ------------------------------------------------------------------
#
# Each use case asks for the narrowest role (or an intersection of roles) it needs; ``Store``
# combines them all for the composition root and the contract suite. Every operation is one
# transaction, retried on transient failures inside the adapter, and safe to repeat.


class AnalyticsStore(Protocol):
    """Analytics inputs: games, box scores, lines, injuries."""

    def replace_analytics(self, frames: Mapping[str, pd.DataFrame], *,
                          dates: tuple[date, date] | None = None) -> dict[str, int]:
        """Write analytics tables in one transaction and return rows written per table.

        Without ``dates`` rows are upserted by primary key; with ``dates`` each table's rows in
        that inclusive game-date range are replaced by the given ones (the frames must then hold
        each key once). Either every table is written or none is.
        """
        ...

    def read_analytics(self, table: str, *, start: date | None = None,
                       end: date | None = None, players: Sequence[str] | None = None,
                       columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows of an analytics table whose game_date lies in ``[start, end)`` (and, with
        ``players``, whose player_lookup is one of them).

        Columns follow ``tipoff.domain.analytics.COLUMNS`` (only ``columns``, in that order,
        when given); timestamps are aware UTC; an unknown table or column is a
        ``NotFoundError``.
        """
        ...

    def game_dates(self) -> list[date]:
        """Every date that has at least one scheduled game, ascending."""
        ...


class FeatureStore(Protocol):
    """The stage 4 feature rows, per (game_date, feature_version)."""

    def replace_features(self, game_date: date, feature_version: str,
                         rows: list[dict[str, Any]]) -> int:
        """Atomically replace every feature row of (game_date, feature_version); other dates
        and versions are untouched."""
        ...

    def read_features(self, game_date: date, feature_version: str) -> list[dict[str, Any]]:
        """The feature rows of a date, ordered by player_lookup."""
        ...

    def read_feature_rows(self, game_date: date, players: Iterable[str],
                          feature_version: str) -> dict[str, dict[str, Any]]:
        """Feature rows of some players, by player (absent players left out)."""
        ...


class RunHistory(Protocol):
    """Run history: stage 4 runs and coordinator decisions."""

    def record_run(self, run: RunRecord) -> None:
        """Insert or update (by run_id) one run history row."""
        ...

    def runs(self, *, processor: str | None = None,
             game_date: date | None = None) -> list[RunRecord]:
        """Run history rows, oldest first, optionally filtered."""
        ...


class BatchStore(Protocol):
    """Stage 5 batches, their per-player requests and the workers' results."""

    def claim_batch(self, batch: Batch,
                    details: dict[str, Any] | None = None) -> tuple[Batch, bool]:
        """Atomic insert-if-absent of a date's batch: of any number of racing claimers (threads,
        processes, coordinator replicas) exactly one gets ``True``; all get the stored batch."""
        ...

    def get_batch(self, game_date: date) -> Batch | None:
        """The batch of a game date, if any."""
        ...

    def update_batch(self, batch_id: str, **values: Any) -> None:
        """Change fields of a batch (state, completed_at …)."""
        ...

    def finish_batch(self, batch_id: str, state: str, completed_at: datetime) -> bool:
        """Move a running batch to its final ``state``; of racing finishers exactly one gets
        ``True``, a batch that is no longer running is left as it is."""
        ...

    def add_requests(self, batch_id: str, game_date: date, players: Iterable[str],
                     requested_at: datetime, attempt: int = 1) -> int:
        """Record one pending request per player (re-adding a player makes it pending again
        with the new attempt); return how many were recorded."""
        ...

    def record_results(self, reports: list[dict[str, Any]]) -> dict[str, Progress]:
        """Store worker reports in one transaction; return each batch's progress after it.
        Idempotent: a redelivered report rewrites the same values."""
        ...

    def batch_progress(self, batch_id: str) -> Progress:
        """Requests by outcome, counted in the store (never in process memory)."""
        ...

    def batch_requests(self, batch_id: str) -> list[dict[str, Any]]:
        """Every request of a batch with its outcome and attempt."""
        ...


class PredictionStore(Protocol):
    """Player points predictions, one active row per (game_date, player, system)."""

    def write_predictions(self, game_date: date, rows: list[dict[str, Any]]) -> int:
        """Idempotent upsert by deterministic prediction_id, in one transaction; any other
        active row of the same (player, system) becomes inactive, superseded by the new one,
        also when writers race."""
        ...

    def read_predictions(self, game_date: date, *,
                         active_only: bool = True) -> list[dict[str, Any]]:
        """Prediction rows of a date."""
        ...

    def count_predictions(self, game_date: date) -> dict[str, int]:
        """Active prediction rows per system."""
        ...

    def players_with_predictions(self, game_date: date) -> set[str]:
        """Players with at least one active prediction."""
        ...

    def duplicate_predictions(self, game_date: date) -> int:
        """Active prediction rows beyond one per (player, system, line): 0 when nothing was
        predicted twice."""
        ...


class BreakerStore(Protocol):
    """Circuit-breaker state shared by every worker."""

    def load_breakers(self) -> dict[str, dict[str, Any]]:
        """Circuit-breaker rows, by system id."""
        ...

    def save_breaker(self, row: dict[str, Any]) -> None:
        """Upsert one system's breaker row (keyed by its ``system_id``)."""
        ...


class WaitStore(Protocol):
    """Durable waits for stage 4: they survive restarts of the coordinator."""

    def open_wait(self, game_date: date, source: str, now: datetime,
                  deadline: datetime) -> dict[str, Any]:
        """Insert-if-absent of a wait for stage 4: racing callers share one wait and deadline."""
        ...

    def get_wait(self, game_date: date) -> dict[str, Any] | None:
        """The wait of a date, if one was ever opened."""
        ...

    def open_waits(self) -> list[dict[str, Any]]:
        """Waits still waiting, nearest deadline first."""
        ...

    def close_wait(self, game_date: date, status: str, now: datetime, outcome: str) -> bool:
        """Resolve or expire a waiting wait; only one caller gets ``True``."""
        ...


class SwitchStore(Protocol):
    """Operator switches (e.g. the event path on or off)."""

    def set_switch(self, name: str, value: Any, now: datetime) -> None:
        """Set an operator switch; the last write wins."""
        ...

    def switch(self, name: str, default: Any = None) -> Any:
        """An operator switch's value, or ``default`` when it was never set."""
        ...


class AlertLog(Protocol):
    """The memory of alert deliveries."""

    def claim_alert(self, game_date: date, alert_type: str, channel: str, severity: str,
                    title: str, now: datetime) -> bool:
        """Atomically claim one delivery: ``True`` for exactly one of racing claimers, and
        again after a recorded failure or a stale claim; ``False`` once sent."""
        ...

    def mark_alert(self, game_date: date, alert_type: str, channel: str, status: str,
                   now: datetime, error: str | None = None) -> None:
        """Record ``sent`` or ``failed`` (with the error text) for a claimed delivery."""
        ...

    def alert_log(self, game_date: date | None = None) -> list[dict[str, Any]]:
        """Alert deliveries, oldest first."""
        ...


class JobLedger(Protocol):
    """Scheduled job runs and the scheduler's lease."""

    def claim_job_run(self, job: str, local_day: date, instance_id: str, now: datetime) -> bool:
        """Atomic insert-if-absent: a scheduled job runs once per local day, across restarts
        and instances."""
        ...

    def finish_job_run(self, job: str, local_day: date, status: str, now: datetime,
                       result: dict[str, Any]) -> None:
        """Record how a claimed job run ended."""
        ...

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew a lease; of racing holders one wins; an expired lease can be taken."""
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Give a lease up (only its holder can)."""
        ...


class StoreResource(Protocol):
    """The store as a resource its owner opens, checks and closes."""

    def open(self) -> Self:
        """Connect and migrate the schema; constructing the adapter does no I/O."""
        ...

    def ping(self) -> None:
        """Return if the store is reachable; raise ``AdapterError`` otherwise."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class Stage4Store(AnalyticsStore, FeatureStore, RunHistory, Protocol):
    """What building the features of a night reads and writes."""


class CoordinatorStore(Stage4Store, BatchStore, PredictionStore, WaitStore, SwitchStore, AlertLog,
                       Protocol):
    """What the coordinator's use cases read and write."""


class WorkerStore(AnalyticsStore, FeatureStore, PredictionStore, BreakerStore, Protocol):
    """What a prediction worker reads and writes."""


class WatchStore(BatchStore, PredictionStore, WaitStore, Protocol):
    """What the night watch (waits, status, the 07:00 check) reads and closes."""


class ReportStore(FeatureStore, RunHistory, BatchStore, PredictionStore, AlertLog, Protocol):
    """What the demo and health reports read."""


class Store(CoordinatorStore, BreakerStore, AlertLog, JobLedger, StoreResource, Protocol):
    """The whole system of record: every role, as the SQL store implements it."""


class Alerter(Protocol):
    """One alert channel (log, Slack, e-mail); ``AlertDispatcher`` fans alerts out to several."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise (``TransientError``/``PermanentError``); never log secrets.
        De-duplication is the dispatcher's job: a channel delivers every alert it is given."""
        ...


class ModelStore(Protocol):
    """Where trained model artefacts live, by name (e.g. ``xgboost_v1``)."""

    def save(self, artifact: ModelArtifact, name: str) -> str:
        """Store ``artifact`` under ``name``, replacing any previous one atomically: a reader
        sees the old artefact or the new one, never a half-written one. Returns where it went."""
        ...

    def load(self, name: str) -> ModelArtifact:
        """The artefact stored under ``name``; missing, unreadable or corrupt raises
        ``PredictionUnavailable`` (which fails the xgboost system only, never the others)."""
        ...

    def exists(self, name: str) -> bool:
        """Whether an artefact is stored under ``name`` (it may still be corrupt)."""
        ...

    def where(self, name: str) -> str:
        """Where the artefact ``name`` is or would be stored (a path or URL), for people."""
        ...


class Warehouse(Protocol):
    """An optional analytics warehouse (BigQuery): the inputs stage 4 reads and a copy of its
    outputs. The store stays the system of record; the warehouse never decides anything."""

    def ensure_tables(self) -> list[str]:
        """Create the dataset and tables if absent (idempotent); return the table names."""
        ...

    def read_analytics(self, start: date, end: date) -> dict[str, pd.DataFrame]:
        """Each analytics input table's rows with ``start <= game_date <= end`` (inclusive),
        columns as ``tipoff.domain.analytics.COLUMNS``, timestamps aware UTC."""
        ...

    def publish_features(self, game_date: date, rows: list[dict[str, Any]]) -> int:
        """Upsert a date's feature rows on (game_date, player_lookup, feature_version):
        publishing the same rows again adds no row. Returns the rows sent."""
        ...

    def publish_predictions(self, game_date: date, rows: list[dict[str, Any]]) -> int:
        """Upsert a date's prediction rows on prediction_id (idempotent). Returns the rows sent."""
        ...

    def publish_runs(self, runs: list[RunRecord]) -> int:
        """Upsert run history rows on run_id (idempotent). Returns the rows sent."""
        ...

    def close(self) -> None:
        """Release connections; safe to call twice."""
        ...
