"""Batch rules of stage 5: readiness of stage 4, deterministic ids, lines, coverage, end state."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from tipoff.domain.decisions import BatchState, Outcome

READY_SHARE = 0.80
READY_ABSOLUTE = 100
FULL_SLATE = 450

# The batch states and request outcomes are enums (domain/decisions.py); these names stay
# for the many call sites that read ``b.RUNNING`` or ``b.PREDICTED``.
RUNNING: Final = BatchState.RUNNING
COMPLETE: Final = BatchState.COMPLETE
PARTIAL: Final = BatchState.PARTIAL
WAITING: Final = BatchState.WAITING
INSUFFICIENT_DATA: Final = BatchState.INSUFFICIENT_DATA
PREDICTED: Final = Outcome.PREDICTED
SKIPPED: Final = Outcome.SKIPPED
FAILED: Final = Outcome.FAILED
OUTCOMES = tuple(Outcome)  # in the order of ``Progress``'s counts

SPORTSBOOK: Final = "sportsbook"
ESTIMATE: Final = "estimate"

# States of a durable wait for stage 4.
WAIT_OPEN, WAIT_RESOLVED, WAIT_EXPIRED = "waiting", "resolved", "expired"


@dataclass(frozen=True)
class Batch:
    """The one prediction batch of a game date."""

    batch_id: str
    game_date: date
    state: str
    source: str
    created_at: datetime
    players_on_slate: int
    players_ready: int
    completed_at: datetime | None = None
    phase4_run_id: str | None = None
    phase4_completed_at: datetime | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Progress:
    """Where the requests of a batch stand (counted in the store, not in memory)."""

    requested: int
    predicted: int
    skipped: int
    failed: int

    @property
    def pending(self) -> int:
        return self.requested - self.predicted - self.skipped - self.failed

    @property
    def finished(self) -> bool:
        return self.requested > 0 and self.pending == 0


def ready_threshold(players_on_slate: int) -> int:
    """Ready players needed: 80% of the slate, or the absolute 100 of a full 450-player slate
    scaled to this slate's size (a 45-player night needs 10), whichever is smaller."""
    share = math.ceil(READY_SHARE * players_on_slate)
    absolute = math.ceil(READY_ABSOLUTE * min(1.0, players_on_slate / FULL_SLATE))
    return max(1, min(share, absolute))


def phase4_is_ready(players_on_slate: int, players_ready: int) -> bool:
    """Stage 4 is usable when enough of the slate is production ready."""
    return players_on_slate > 0 and players_ready >= ready_threshold(players_on_slate)


def coverage_pct(predicted: int, ready: int) -> float:
    """Predicted players as a percentage of production-ready players."""
    return 0.0 if ready <= 0 else round(100.0 * predicted / ready, 1)


def final_state(progress: Progress) -> BatchState:
    """A finished batch is complete unless some request failed."""
    return COMPLETE if progress.failed == 0 else PARTIAL


def estimate_line(recent_average: float) -> float:
    """The line to use when no book prices the player: the recent average to the nearest .5."""
    return round(recent_average * 2) / 2


def prediction_id(game_date: date, player: str, system_id: str, line: float | None,
                  model_version: str) -> str:
    """Deterministic id, so a redelivered request overwrites its rows instead of adding any."""
    line_text = "none" if line is None else f"{line:.1f}"
    key = f"{game_date.isoformat()}|{player}|{system_id}|{line_text}|{model_version}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
