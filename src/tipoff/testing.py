"""Test doubles shipped with tipoff, for its own tests and for users' tests.

``FakeClock`` is the controllable ``tipoff.ports.Clock``: time only moves when a test says so.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from tipoff.domain.alerts import Alert
from tipoff.domain.dates import require_aware
from tipoff.errors import TransientError


class FakeClock:
    """A clock that stands still until ``advance`` or ``set`` moves it forward.

    Thread-safe, so background workers may read it while a test moves it.
    """

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current fake instant, timezone-aware UTC."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backwards) and return the new instant."""
        if delta < timedelta(0):
            raise ValueError(f"cannot advance by a negative duration {delta!r}")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant``; refuse naive datetimes and going backwards."""
        target = require_aware(instant)
        with self._lock:
            if target < self._now:
                raise ValueError(f"cannot move the clock back from {self._now.isoformat()} to {target.isoformat()}")
            self._now = target
            return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self.now().isoformat()})"


class RecordingAlerter:
    """An alert channel that keeps what it was asked to send (``fail=True``: it raises)."""

    def __init__(self, name: str = "recording", *, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        """Keep ``alert``, or raise ``TransientError`` when built with ``fail=True``."""
        if self.fail:
            raise TransientError(f"{self.name} is down")
        self.sent.append(alert)

    def types(self) -> list[str]:
        """The alert types received, in order."""
        return [alert.type for alert in self.sent]


class MemoryModelStore:
    """The in-memory twin of the ``ModelStore`` port: artefacts kept as their JSON text, so a
    corrupt one (``put_text``) fails exactly as a corrupt file does."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, artifact, name: str) -> str:
        """Keep ``artifact`` under ``name`` (one assignment: readers see old or new)."""
        text = artifact.to_json()
        with self._lock:
            self._texts[name] = text
        return self.where(name)

    def where(self, name: str) -> str:
        """``memory://NAME``."""
        return f"memory://{name}"

    def load(self, name: str):
        """The artefact under ``name``; missing or corrupt raises ``PredictionUnavailable``."""
        from tipoff.domain.systems import ModelArtifact, PredictionUnavailable

        with self._lock:
            text = self._texts.get(name)
        if text is None:
            raise PredictionUnavailable(f"no model named {name!r}")
        return ModelArtifact.from_json(text)

    def exists(self, name: str) -> bool:
        """Whether something is stored under ``name``."""
        with self._lock:
            return name in self._texts

    def put_text(self, name: str, text: str) -> None:
        """Store raw ``text`` under ``name`` (to test corrupt artefacts)."""
        with self._lock:
            self._texts[name] = text
