"""Clock adapters: the real clock and a scaled clock for rehearsing a past night.

``SystemClock`` is the only place in tipoff that reads the machine's time; everything else
receives a ``tipoff.ports.Clock``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from tipoff.domain.dates import require_aware
from tipoff.ports import Clock


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return "SystemClock()"


class ScaledClock:
    """A clock that starts at ``start`` and runs ``speed`` times as fast as ``base``.

    ``ScaledClock(datetime(2026, 3, 8, 7, tzinfo=UTC), 60, SystemClock())`` replays a night
    with one simulated minute per real second.
    """

    def __init__(self, start: datetime, speed: float, base: Clock) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self._start = require_aware(start)
        self._speed = float(speed)
        self._base = base
        self._origin = require_aware(base.now())

    def now(self) -> datetime:
        """``start`` plus the base clock's elapsed time times ``speed``, timezone-aware UTC."""
        elapsed = require_aware(self._base.now()) - self._origin
        return self._start + elapsed * self._speed

    def __repr__(self) -> str:
        return f"ScaledClock(start={self._start.isoformat()}, speed={self._speed}, base={self._base!r})"
