"""Per-system circuit breaker as a pure state machine (SPEC.md §6).

    closed     --5 consecutive failures------------>  open
    open       --30 minutes after opened_at-------->  half_open   (seen by any call)
    half_open  --2 consecutive successes----------->  closed
    half_open  --a failure------------------------->  open        (the 30 minutes restart)

The state lives in the store and is shared by all workers; these functions only compute the next
state from the current one and an injected ``now`` (timezone-aware). Half-open lets calls
through; a straggling result reported while open changes nothing, so a late failure cannot
extend the open period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tipoff.domain.dates import require_aware

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
FAILURES_TO_OPEN = 5
OPEN_FOR = timedelta(minutes=30)
SUCCESSES_TO_CLOSE = 2


@dataclass(frozen=True)
class BreakerState:
    """One system's breaker."""

    system_id: str
    state: str = CLOSED
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.state not in (CLOSED, OPEN, HALF_OPEN):
            raise ValueError(f"unknown breaker state {self.state!r}")
        if self.state != CLOSED and self.opened_at is None:
            raise ValueError(f"a {self.state} breaker needs opened_at")
        if self.opened_at is not None:
            object.__setattr__(self, "opened_at", require_aware(self.opened_at))


def _opened(state: BreakerState, now: datetime) -> BreakerState:
    return replace(state, state=OPEN, consecutive_successes=0, opened_at=now)


def _refreshed(state: BreakerState, now: datetime) -> BreakerState:
    """Open becomes half-open once the open period has elapsed."""
    if state.state == OPEN and state.opened_at is not None and now - state.opened_at >= OPEN_FOR:
        return replace(state, state=HALF_OPEN, consecutive_successes=0)
    return state


def allow(state: BreakerState, now: datetime) -> tuple[bool, BreakerState]:
    """Whether the system may run now, and the possibly advanced state."""
    current = _refreshed(state, require_aware(now))
    return current.state != OPEN, current


def record_success(state: BreakerState, now: datetime) -> BreakerState:
    """The state after a successful prediction."""
    current = _refreshed(state, require_aware(now))
    if current.state == CLOSED:
        return replace(current, consecutive_failures=0, consecutive_successes=0)
    if current.state == OPEN:
        return current
    successes = current.consecutive_successes + 1
    if successes >= SUCCESSES_TO_CLOSE:
        return BreakerState(current.system_id)
    return replace(current, consecutive_successes=successes)


def record_failure(state: BreakerState, now: datetime) -> BreakerState:
    """The state after a failed prediction."""
    moment = require_aware(now)
    current = _refreshed(state, moment)
    if current.state == OPEN:
        return current
    failures = current.consecutive_failures + 1
    counted = replace(current, consecutive_failures=failures, consecutive_successes=0)
    if current.state == HALF_OPEN or failures >= FAILURES_TO_OPEN:
        return _opened(counted, moment)
    return counted
