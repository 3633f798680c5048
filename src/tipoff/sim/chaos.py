"""Fault injectors: thin wrappers around the ports that fail the way real nights do.

Each wrapper forwards everything to the real adapter and injects only its own fault, drawn from
the night's ``NightFaults`` (set per night with ``tonight``), so the coordinator, workers,
scheduler and alerts above them run unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from tipoff.domain.alerts import Alert
from tipoff.domain.messages import PHASE4_TOPIC, REQUEST_TOPIC
from tipoff.errors import TransientError
from tipoff.ports import Clock, Message
from tipoff.sim.faults import FaultSpec, NightFaults

PARTIAL_ISSUE = "upstream inputs incomplete (simulated partial stage 4)"


class WorkerCrashed(RuntimeError):
    """A worker process died mid-batch (its un-acked requests are redelivered)."""


class _Tonight:
    """Holds the current night's faults (none until ``tonight`` is called)."""

    faults: NightFaults

    def tonight(self, faults: NightFaults) -> None:
        """Inject the faults of the night that starts now."""
        self.faults = faults


def calm_night() -> NightFaults:
    """A night without faults."""
    return NightFaults(FaultSpec(), {})


# The store's writes the night's services make (stage 4's own writes are not among them: a
# stage 4 that fails is what ``phase4_missing`` / ``phase4_late`` model).
STORE_WRITES = frozenset({
    "record_run", "claim_batch", "update_batch", "finish_batch", "add_requests",
    "record_results", "write_predictions", "save_breaker", "open_wait", "close_wait",
    "set_switch", "claim_alert", "mark_alert", "claim_job_run", "finish_job_run",
    "acquire_lease", "release_lease",
})


class ChaosStore(_Tonight):
    """The store, with transient failures of its writes (``write_fail``, drawn per call):
    batch claims, requests, results, predictions, run records, breakers, waits, the alert
    log, the job ledger and the scheduler's lease. The failure comes before the write, as a
    store that stayed locked through the adapter's own retries."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.faults = calm_night()
        self.writing = ""  # the write being attempted (what a fault draw is for)
        self.failed: list[str] = []  # the writes failed so far

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if name not in STORE_WRITES:
            return method

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.writing = name
            if self.faults.strikes("write_fail"):
                self.failed.append(name)
                raise TransientError(f"simulated {name} failure (database is locked)")
            return method(*args, **kwargs)

        return failing


class PartialStage4(_Tonight):
    """The store as stage 4 sees it: on a partial night, only part of the ready rows are
    written ready; the others are held back with a data-quality issue."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.faults = calm_night()
        self.hold_back = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def replace_features(self, game_date: date, feature_version: str, rows: list[dict]) -> Any:
        """Replace the date's rows, demoting the held-back share when ``hold_back`` is set."""
        if self.hold_back and self.faults.partial is not None:
            rows = _demoted(rows, self.faults.partial)
        return self._store.replace_features(game_date, feature_version, rows)


def _demoted(rows: list[dict], share: float) -> list[dict]:
    ready = [n for n, r in enumerate(rows) if r["is_production_ready"]]
    keep = set(ready[:int(len(ready) * share)])
    return [row if n in keep or not row["is_production_ready"] else
            {**row, "is_production_ready": False,
             "data_quality_issues": [*row["data_quality_issues"], PARTIAL_ISSUE]}
            for n, row in enumerate(rows)]


class ChaosBus(_Tonight):
    """The bus, losing or failing stage 4's event, delivering messages twice and crashing
    workers mid-batch."""

    def __init__(self, bus: Any) -> None:
        self._bus = bus
        self.faults = calm_night()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """Publish, unless tonight's stage 4 event fails to publish or gets lost."""
        if topic == PHASE4_TOPIC and self.faults.publish_fail:
            self.faults.note("bus_publish_fail")
            raise TransientError("simulated publish failure: broker unreachable")
        if topic == PHASE4_TOPIC and self.faults.event_lost:
            self.faults.note("event_lost")
            return message_id or "lost"
        return self._bus.publish(topic, data, message_id)

    def subscribe(self, topic: str, handler: Callable[[Message], None], *,
                  group: str = "default") -> None:
        """Subscribe ``handler``; some deliveries reach it twice."""
        def twice(message: Message) -> None:
            handler(message)
            if self.faults.strikes("duplicate_delivery"):
                handler(message)

        self._bus.subscribe(topic, twice, group=group)

    def subscribe_batch(self, topic: str, handler: Callable[[list[Message]], None], *,
                        group: str = "default", max_batch: int = 100) -> None:
        """Subscribe ``handler`` for lists; workers may crash half-way, messages come twice."""
        def chaotic(messages: list[Message]) -> None:
            if topic == REQUEST_TOPIC and self.faults.strikes("worker_crash"):
                handler(messages[:len(messages) // 2])
                raise WorkerCrashed(f"worker died after {len(messages) // 2} of "
                                    f"{len(messages)} requests")
            handler(messages)
            again = [m for m in messages if self.faults.strikes("duplicate_delivery")]
            if again:
                handler(again)

        self._bus.subscribe_batch(topic, chaotic, group=group, max_batch=max_batch)


class SimulatedChannel(_Tonight):
    """An alert channel that keeps what it delivered, with the simulated time, and fails
    all night when its ``down`` fault (``slack_down`` / ``smtp_down``) is drawn."""

    def __init__(self, name: str, down_when: str, clock: Clock) -> None:
        self.name = name
        self._down_when = down_when
        self._clock = clock
        self.faults = calm_night()
        self.delivered: list[tuple[Alert, Any]] = []

    def send(self, alert: Alert) -> None:
        """Keep ``alert`` with the time, or raise ``TransientError`` while down."""
        if getattr(self.faults, self._down_when):
            raise TransientError(f"{self.name} is down (simulated)")
        self.delivered.append((alert, self._clock.now()))
