"""Prometheus metrics of one coordinator process, in a registry of its own.

- ``tipoff_triggers_total{source,decision}``: every batch decision the HTTP surface made.
- ``tipoff_batch_latency_seconds``: stage 4 complete → batch complete, observed once per batch
  (per process) the first time a status shows it finished.
- ``tipoff_coverage_pct``: coverage of the last status this process computed.
- ``tipoff_alerts_total{channel,outcome}``: the alert dispatcher's counters, read at scrape time.
- ``tipoff_dead_letters``: messages the bus gave up on, read at scrape time (buses that can
  list them).
- ``tipoff_requests_total{path,status}``: HTTP responses.

Today's night (the game date in America/New_York), refreshed at every scrape; a gauge whose
value is not known yet (no batch, no latency, before 07:00 PT) is left out rather than
reported as 0, so that an alert rule never mistakes "not yet" for "zero":

- ``tipoff_lined_coverage_pct``: predicted / players a sportsbook priced.
- ``tipoff_players_ready``, ``tipoff_players_lined``, ``tipoff_players_predicted``.
- ``tipoff_batch_started``: 1 when today's batch has been claimed, else 0.
- ``tipoff_batch_finished``: 1 when it has finished (complete or partial), else 0.
- ``tipoff_stage4_completed_timestamp_seconds``: when stage 4's latest run for today finished.
- ``tipoff_last_batch_latency_seconds``: stage 4 → batch complete of today's batch.
- ``tipoff_last_batch_completion_timestamp_seconds``: the latest batch completion this process
  has seen (any night).
- ``tipoff_sla_met``: 1 when ≥ 95% of ready players had predictions by 07:00 PT, else 0.

A private ``CollectorRegistry`` keeps several apps (tests, replicas in one process) apart.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

LATENCY_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)
CONTENT_TYPE = CONTENT_TYPE_LATEST
_REMEMBERED_BATCHES = 1000

AlertStats = Callable[[], dict[str, dict[str, int]]]
DeadLetters = Callable[[], list[Any]]


class Metrics:
    """The coordinator's counters, gauges and histogram, rendered in the Prometheus format."""

    def __init__(self, *, alert_stats: AlertStats | None = None,
                 dead_letters: DeadLetters | None = None) -> None:
        self.registry = CollectorRegistry()
        self._triggers = Counter("tipoff_triggers", "Batch decisions by trigger source.",
                                 ["source", "decision"], registry=self.registry)
        self._requests = Counter("tipoff_requests", "HTTP responses by path and status.",
                                 ["path", "status"], registry=self.registry)
        self._latency = Histogram("tipoff_batch_latency_seconds",
                                  "Stage 4 complete to batch complete.",
                                  buckets=LATENCY_BUCKETS, registry=self.registry)
        self._coverage = Gauge("tipoff_coverage_pct", "Coverage of the last status computed.",
                               registry=self.registry)
        self.registry.register(_LiveCollector(alert_stats, dead_letters))
        self._night = _NightCollector()
        self.registry.register(self._night)
        self._lock = threading.Lock()
        self._observed: deque[str] = deque(maxlen=_REMEMBERED_BATCHES)

    @classmethod
    def for_services(cls, services) -> Metrics:
        """Metrics reading the alert counters and dead letters of a ``Services``."""
        return cls(alert_stats=services.alerts.stats,
                   dead_letters=getattr(services.bus, "dead_letters", None))

    def count_trigger(self, source: str, decision: str) -> None:
        """One decision taken for a trigger from ``source``."""
        self._triggers.labels(source=source, decision=decision).inc()

    def count_request(self, path: str, status: int) -> None:
        """One HTTP response."""
        self._requests.labels(path=path, status=str(status)).inc()

    def observe_status(self, status: dict) -> None:
        """Take coverage from a night's status, and its latency once the batch has finished."""
        if status.get("coverage_pct") is not None:
            self._coverage.set(status["coverage_pct"])
        batch_id, latency = status.get("batch_id"), status.get("latency_seconds")
        if batch_id is None or latency is None:
            return
        with self._lock:
            if batch_id in self._observed:
                return
            self._observed.append(batch_id)
        self._latency.observe(latency)

    def observe_night(self, night: dict) -> None:
        """Today's night summary (``TrendReport.night``): its status and the night gauges."""
        self.observe_status(night)
        self._night.update(night)

    def render(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)


class _LiveCollector:
    """Values owned by other components, read when Prometheus scrapes."""

    def __init__(self, alert_stats: AlertStats | None, dead_letters: DeadLetters | None) -> None:
        self._alert_stats = alert_stats
        self._dead_letters = dead_letters

    def describe(self) -> Iterator[Metric]:
        yield from self._families({}, 0)

    def collect(self) -> Iterator[Metric]:
        stats = self._alert_stats() if self._alert_stats else {}
        dead = len(self._dead_letters()) if self._dead_letters else 0
        yield from self._families(stats, dead)

    def _families(self, stats: dict[str, dict[str, int]], dead: int) -> Iterator[Metric]:
        alerts = CounterMetricFamily("tipoff_alerts", "Alerts by channel and outcome.",
                                     labels=["channel", "outcome"])
        for channel, counts in sorted(stats.items()):
            for outcome, value in sorted(counts.items()):
                alerts.add_metric([channel, outcome], value)
        yield alerts
        if self._dead_letters is not None:
            yield GaugeMetricFamily("tipoff_dead_letters", "Messages the bus dead-lettered.",
                                    value=dead)


class _NightCollector:
    """Gauges of today's night, from the last summary observed (absent until known)."""

    def __init__(self) -> None:
        self._night: dict = {}
        self._last_completion: float | None = None
        self._lock = threading.Lock()

    def update(self, night: dict) -> None:
        with self._lock:
            self._night = dict(night)
            completed = _timestamp(night.get("completed_at"))
            if completed is not None and (self._last_completion is None
                                          or completed > self._last_completion):
                self._last_completion = completed

    def describe(self) -> Iterator[Metric]:
        return iter(())  # the families vary with what is known; collected at scrape time

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            night, last_completion = dict(self._night), self._last_completion
        batch = night.get("batch_id") is not None
        values = {
            "tipoff_lined_coverage_pct": (night.get("lined_coverage_pct")
                                          if night.get("players_lined") else None,
                                          "Predicted / players a sportsbook priced, today."),
            "tipoff_players_ready": (night.get("players_ready"), "Ready players, today."),
            "tipoff_players_lined": (night.get("players_lined"), "Priced players, today."),
            "tipoff_players_predicted": (night.get("players_predicted"),
                                         "Ready players with predictions, today."),
            "tipoff_batch_started": (int(batch) if night else None,
                                     "1 when today's batch has been claimed."),
            "tipoff_batch_finished": (int(night.get("completed_at") is not None)
                                      if night else None,
                                      "1 when today's batch has finished."),
            "tipoff_stage4_completed_timestamp_seconds": (
                _timestamp(night.get("phase4_completed_at")),
                "When stage 4's latest successful run for today finished (Unix time)."),
            "tipoff_last_batch_latency_seconds": (night.get("latency_seconds"),
                                                  "Stage 4 to batch complete, today."),
            "tipoff_last_batch_completion_timestamp_seconds": (
                last_completion, "The latest batch completion seen (Unix time)."),
            "tipoff_sla_met": (None if night.get("sla_met") is None else int(night["sla_met"]),
                               "1 when >= 95% of ready players had predictions by 07:00 PT."),
        }
        for name, (value, help_text) in values.items():
            if value is not None:
                yield GaugeMetricFamily(name, help_text, value=float(value))


def _timestamp(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text).timestamp()


class RequestMetrics:
    """ASGI middleware counting every response by path and status; paths outside ``paths``
    count as ``other`` so that scanners cannot grow the label set."""

    def __init__(self, app, metrics: Metrics, paths: tuple[str, ...]) -> None:
        self._app = app
        self._metrics = metrics
        self._paths = frozenset(paths)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        status = 500  # unless a response starts: an exception escaping is a 500

        async def capture(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, capture)
        finally:
            path = scope["path"] if scope["path"] in self._paths else "other"
            self._metrics.count_request(path, status)
