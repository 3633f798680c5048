"""The messages tipoff exchanges (DESIGN.md §5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from tipoff.domain.dates import require_aware
from tipoff.domain.features import PROCESSOR

PHASE4_TOPIC = "nba-phase4-precompute-complete"
PHASE4_EVENT_TYPE = "phase4_complete"


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
