"""The messages tipoff exchanges (DESIGN.md §5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from tipoff.domain.dates import require_aware
from tipoff.domain.features import PROCESSOR

PHASE4_TOPIC = "nba-phase4-precompute-complete"
PHASE4_EVENT_TYPE: Final = "phase4_complete"
Outcome = Literal["predicted", "skipped", "failed"]  # of one prediction request


class Phase4Completed(BaseModel):
    """Stage 4 finished for a game date (topic ``nba-phase4-precompute-complete``)."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["phase4_complete"] = PHASE4_EVENT_TYPE
    processor: str = PROCESSOR
    game_date: date
    players_processed: int
    players_ready: int
    players_failed: int
    run_id: str
    correlation_id: str
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return require_aware(value)

    def to_data(self) -> dict:
        """JSON-ready dict (dates and instants as ISO-8601)."""
        return self.model_dump(mode="json")


REQUEST_TOPIC = "prediction-request"
RESULT_TOPIC = "prediction-ready"


class Line(BaseModel):
    """One points line to predict against: a sportsbook's, or tipoff's own estimate."""

    model_config = ConfigDict(frozen=True)

    value: float
    source: Literal["sportsbook", "estimate"]
    bookmaker: str | None = None


class PredictionRequest(BaseModel):
    """Predict one player of a batch (topic ``prediction-request``)."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    game_date: date
    player_lookup: str
    game_id: str
    team: str
    opponent: str
    lines: tuple[Line, ...]
    attempt: int = 1

    def message_id(self) -> str:
        """Stable per (batch, player, attempt): a re-publish of the same request de-duplicates."""
        return f"req:{self.batch_id}:{self.player_lookup}:{self.attempt}"


class PredictionResult(BaseModel):
    """The one report a worker sends for every request (topic ``prediction-ready``)."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    game_date: date
    player_lookup: str
    outcome: Outcome
    reason: str = ""
    systems_succeeded: tuple[str, ...] = ()
    systems_failed: tuple[str, ...] = ()
    rows_written: int = 0
    worker_id: str = ""
