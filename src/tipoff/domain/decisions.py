"""The coordinator's vocabulary as types: decisions, batch states, result outcomes.

Values are the strings stored in run history and batches and sent on the wire, so they never
change. Each decision carries its category (what the caller should make of it) and whether it
started work; the "started" set and the HTTP status mapping derive from these, never from
hand-kept string sets.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What a decision means to whoever triggered it."""

    ACCEPTED = "accepted"  # work started or is durably waiting
    SETTLED = "settled"  # nothing (more) to do; the night is in hand
    REFUSED = "refused"  # not done; asking again later may help
    RECORDED = "recorded"  # acknowledged and recorded; asking again never helps


class Decision(StrEnum):
    """One trigger's outcome. ``category`` says what it means; ``started`` whether it sent
    prediction requests; ``on_push`` the category on a Pub/Sub delivery, where anything but an
    acknowledgement is redelivered (so a refusal there is acknowledged instead)."""

    category: Category
    started: bool
    on_push: Category

    def __new__(cls, value: str, category: Category, started: bool = False,
                on_push: Category | None = None) -> Decision:
        member = str.__new__(cls, value)
        member._value_ = value
        member.category = category
        member.started = started
        member.on_push = on_push or category
        return member

    STARTED = "started", Category.ACCEPTED, True
    FILLED_MISSING = "filled_missing", Category.ACCEPTED, True
    FORCED = "forced", Category.ACCEPTED, True
    PARTIAL_AFTER_WAIT = "partial_after_wait", Category.ACCEPTED, True
    WAITING_FOR_PHASE4 = "waiting_for_phase4", Category.ACCEPTED
    ALREADY_RUNNING = "already_running", Category.SETTLED
    ALREADY_COMPLETE = "already_complete", Category.SETTLED
    COMPLETE = "complete", Category.SETTLED
    EVENT_PATH_DISABLED = "event_path_disabled", Category.SETTLED
    NO_READY_PLAYERS = "no_ready_players", Category.SETTLED
    INSUFFICIENT_DATA = "insufficient_data", Category.SETTLED
    # A backfill event is recorded; a not-ready event is covered by the 06:00 backup.
    BACKFILL_IGNORED = "backfill_ignored", Category.REFUSED, False, Category.RECORDED
    NOT_READY = "not_ready", Category.REFUSED, False, Category.SETTLED
    REJECTED = "rejected", Category.RECORDED


STARTED_WORK = frozenset(d for d in Decision if d.started)


class BatchState(StrEnum):
    """Where a game date's batch stands (``RUNNING`` until every request has a result)."""

    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    WAITING = "waiting_for_phase4"
    INSUFFICIENT_DATA = "insufficient_data"

    @property
    def finished(self) -> bool:
        """Whether the batch has ended (complete or partial)."""
        return self in (BatchState.COMPLETE, BatchState.PARTIAL)


class Outcome(StrEnum):
    """What became of one prediction request (every request gets exactly one result)."""

    PREDICTED = "predicted"
    SKIPPED = "skipped"
    FAILED = "failed"
