"""Sending alerts: every channel independently, at most once per (game_date, type, channel).

The store's alert log is the memory of what was sent: a channel delivers only after winning an
atomic claim, and records the outcome afterwards. A failed delivery leaves a ``failed`` row
that a later ``send`` of the same alert may claim again, so a channel that was down catches
up; a ``sent`` row makes every later send a duplicate. No exception leaves ``send``: one
failing channel is logged with its traceback, counted, and the others still fire.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import structlog

from tipoff.domain.alerts import Alert
from tipoff.errors import ConfigurationError
from tipoff.ports import Alerter, AlertLog, Clock

log = structlog.get_logger(__name__)

SENT = "sent"
DUPLICATE = "duplicate"
FAILED = "failed"
COUNTERS = ("sent", "failed", "duplicates", "store_errors")
_COUNTER_OF = {SENT: "sent", FAILED: "failed", DUPLICATE: "duplicates"}


class AlertDispatcher:
    """Sends each alert to every channel, once per (game_date, type, channel), never raising."""

    def __init__(self, store: AlertLog, clock: Clock, channels: Sequence[Alerter]) -> None:
        names = [c.name for c in channels]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"alert channel names must be unique, got {names}")
        self._store = store
        self._clock = clock
        self._channels = list(channels)
        self._lock = threading.Lock()
        self._counts = {name: dict.fromkeys(COUNTERS, 0) for name in names}

    @property
    def channels(self) -> list[str]:
        """The channel names, in delivery order."""
        return [c.name for c in self._channels]

    def __repr__(self) -> str:
        return f"AlertDispatcher(channels={self._channels!r})"

    def send(self, alert: Alert) -> dict[str, str]:
        """Deliver ``alert`` on every channel; return ``{channel: "sent"|"duplicate"|"failed"}``."""
        return {channel.name: self._dispatch(channel, alert) for channel in self._channels}

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters per channel since start: sent, failed, duplicates, store_errors."""
        with self._lock:
            return {name: dict(counts) for name, counts in self._counts.items()}

    def _dispatch(self, channel: Alerter, alert: Alert) -> str:
        if not self._claim(channel, alert):
            log.debug("alert already sent", channel=channel.name, **_fields(alert))
            return self._count(channel, DUPLICATE)
        error = self._deliver(channel, alert)
        self._record(channel, alert, error)
        return self._count(channel, SENT if error is None else FAILED)

    def _claim(self, channel: Alerter, alert: Alert) -> bool:
        try:
            return self._store.claim_alert(alert.game_date, alert.type, channel.name,
                                           alert.severity.value, alert.title, self._clock.now())
        except Exception:
            # Fail open: an unreachable store is when a human most needs to hear about it;
            # a possible duplicate is the lesser harm.
            log.error("alert claim failed; delivering anyway", channel=channel.name,
                      exc_info=True, **_fields(alert))
            self._count(channel, "store_errors")
            return True

    def _deliver(self, channel: Alerter, alert: Alert) -> str | None:
        try:
            channel.send(alert)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("alert delivery failed", channel=channel.name, error=error,
                      exc_info=True, **_fields(alert))
            return error
        log.info("alert delivered", channel=channel.name, **_fields(alert))
        return None

    def _record(self, channel: Alerter, alert: Alert, error: str | None) -> None:
        status = SENT if error is None else FAILED
        try:
            self._store.mark_alert(alert.game_date, alert.type, channel.name, status,
                                   self._clock.now(), error=error)
        except Exception:
            log.error("alert outcome not recorded", channel=channel.name, status=status,
                      exc_info=True, **_fields(alert))
            self._count(channel, "store_errors")

    def _count(self, channel: Alerter, outcome: str) -> str:
        with self._lock:
            self._counts[channel.name][_COUNTER_OF.get(outcome, outcome)] += 1
        return outcome


def _fields(alert: Alert) -> dict[str, str]:
    return {"alert_type": alert.type, "game_date": alert.game_date.isoformat(),
            "severity": alert.severity.value}
