"""The log channel: every alert as one structured log event. Always configured."""

from __future__ import annotations

import structlog

from tipoff.domain.alerts import Alert, Severity

_LEVELS = {Severity.INFO: "info", Severity.WARNING: "warning", Severity.CRITICAL: "critical"}


class LogAlerter:
    """Writes alerts to structlog at the level of their severity; cannot fail on its own."""

    name = "log"

    def __init__(self, logger_name: str = "tipoff.alerts") -> None:
        self._log = structlog.get_logger(logger_name)

    def send(self, alert: Alert) -> None:
        """Emit one ``alert`` event carrying the whole alert."""
        emit = getattr(self._log, _LEVELS[alert.severity])
        emit("alert", alert_type=alert.type, severity=alert.severity.value,
             game_date=alert.game_date.isoformat(), title=alert.title, body=alert.body,
             details=dict(alert.details))

    def __repr__(self) -> str:
        return "LogAlerter()"
