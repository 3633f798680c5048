"""The messages tipoff exchanges (SPEC.md §5), bounded where they enter.

Every text has a maximum length and may not contain NUL; every count has a range. A value the
store could not hold is refused here, once, instead of failing a write later.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator,
    model_validator,
)

from tipoff.domain.dates import require_aware
from tipoff.domain.decisions import Outcome  # of one prediction request
from tipoff.domain.features import PROCESSOR

PHASE4_TOPIC = "nba-phase4-precompute-complete"
PHASE4_EVENT_TYPE: Final = "phase4_complete"
NOT_STARTING = frozenset({"failed", "no_data"})  # stage 4 statuses that start no batch
MAX_COUNT = 1_000_000
MAX_ROWS = 1_000_000_000  # fits the store's 32-bit integer columns


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


# Strings of at most so many characters, without NUL (aliases, so type checkers see ``str``).
_NO_NUL = AfterValidator(_no_nul)
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Id = Annotated[str, Field(max_length=64), _NO_NUL]
Name = Annotated[str, Field(max_length=128), _NO_NUL]
Code = Annotated[str, Field(max_length=32), _NO_NUL]  # game ids, bookmakers
Team = Annotated[str, Field(max_length=8), _NO_NUL]
Reason = Annotated[str, Field(max_length=2000), _NO_NUL]
STAGE4_IDENTITY = ("event_type", "processor", "processor_name")


class Phase4Completed(BaseModel):
    """Stage 4 finished for a game date (topic ``nba-phase4-precompute-complete``).

    A tolerant reader: only the game date (``game_date`` or ``analysis_date``) and a stage 4
    identity (``event_type``, ``processor`` or ``processor_name``) are required; the upstream
    platform's unified envelope (``processor_name``, ``phase``, ``status``, ``execution_id``,
    ``metadata``) is read too. Unknown fields are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    event_type: Literal["phase4_complete"] = PHASE4_EVENT_TYPE
    processor: Name = PROCESSOR
    processor_name: Name | None = None
    phase: Literal["phase_4_precompute"] | None = None
    game_date: date = Field(validation_alias=AliasChoices("game_date", "analysis_date"))
    status: Literal["success", "partial", "no_data", "failed"] = "success"
    players_processed: Count | None = None
    players_ready: Count | None = None
    players_failed: Count | None = None
    run_id: Id | None = Field(None, validation_alias=AliasChoices("run_id", "execution_id"))
    correlation_id: Id | None = None
    timestamp: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _stage4_identity(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if not any(data.get(k) for k in STAGE4_IDENTITY):
            raise ValueError("no stage 4 identity: event_type, processor or processor_name "
                             "is required")
        metadata = data.get("metadata")
        if isinstance(metadata, dict):  # the unified envelope keeps its counts here
            data = {**{k: v for k, v in metadata.items() if k.startswith("players_")}, **data}
        return data

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else require_aware(value)

    @property
    def starts_nothing(self) -> bool:
        """Stage 4 reported a failure or no data: recorded, no batch is started."""
        return self.status in NOT_STARTING

    def to_data(self) -> dict:
        """JSON-ready dict (dates and instants as ISO-8601)."""
        return self.model_dump(mode="json")


REQUEST_TOPIC = "prediction-request"
RESULT_TOPIC = "prediction-ready"


class Line(BaseModel):
    """One points line to predict against: a sportsbook's, or tipoff's own estimate."""

    model_config = ConfigDict(frozen=True)

    value: float = Field(ge=0, le=200, allow_inf_nan=False)
    source: Literal["sportsbook", "estimate"]
    bookmaker: Code | None = None


# Distinct lines one request may carry (books price a player at a handful; the benchmark at 101).
MAX_LINES = 200


class PredictionRequest(BaseModel):
    """Predict one player of a batch (topic ``prediction-request``)."""

    model_config = ConfigDict(frozen=True)

    batch_id: Id
    game_date: date
    player_lookup: Id
    game_id: Code
    team: Team
    opponent: Team
    lines: tuple[Line, ...] = Field(max_length=MAX_LINES)
    attempt: int = Field(1, ge=1, le=1000)
    # Carried for the worker's log lines only (optional: older publishers omit them).
    source: Code | None = None
    correlation_id: Id | None = None

    def message_id(self) -> str:
        """Stable per (batch, player, attempt): a re-publish of the same request de-duplicates."""
        return f"req:{self.batch_id}:{self.player_lookup}:{self.attempt}"


class PredictionResult(BaseModel):
    """The one report a worker sends for every request (topic ``prediction-ready``)."""

    model_config = ConfigDict(frozen=True)

    batch_id: Id
    game_date: date
    player_lookup: Id
    outcome: Outcome
    reason: Reason = ""
    systems_succeeded: tuple[Id, ...] = Field(default=(), max_length=20)
    systems_failed: tuple[Id, ...] = Field(default=(), max_length=20)
    rows_written: int = Field(default=0, ge=0, le=MAX_ROWS)
    worker_id: Id = ""


def readable_date(payload: Any) -> date | None:
    """The game date a payload names (``game_date`` or ``analysis_date``), if readable."""
    if not isinstance(payload, dict):
        return None
    for key in ("game_date", "analysis_date"):
        value = payload.get(key)
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                continue
    return None


def validation_summary(exc: ValidationError) -> str:
    """``field: problem; …`` for every error of a pydantic (or FastAPI) validation."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                     for err in exc.errors())
