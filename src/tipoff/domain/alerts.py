"""Alert policy (SPEC.md §7, §8): which conditions of a night deserve an alert, and how bad.

Pure functions: each takes the facts of one check and returns an ``Alert`` or ``None``. The
thresholds compare integers, never floats, so a boundary (exactly 90 %, exactly 10 min) falls
on the documented side. Bodies say what happened and what to run next.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

PARTIAL_GAP = "partial_gap"
LATENCY = "latency"
COVERAGE = "coverage"
NO_PREDICTIONS = "no_predictions"
NO_BATCH = "no_batch"
PHASE4_NOT_READY = "phase4_not_ready"
PHASE4_PUBLISH_FAILED = "phase4_publish_failed"
DEAD_LETTERS = "dead_letters"
PHASE4_EVENT_REJECTED = "phase4_event_rejected"

ALERT_TYPES = (PARTIAL_GAP, LATENCY, COVERAGE, NO_PREDICTIONS, NO_BATCH, PHASE4_NOT_READY,
               PHASE4_PUBLISH_FAILED, DEAD_LETTERS, PHASE4_EVENT_REJECTED)

PARTIAL_GAP_SHARE_PCT = 5
PARTIAL_GAP_MIN_PLAYERS = 20
LATENCY_WARNING = timedelta(minutes=10)
LATENCY_CRITICAL = timedelta(minutes=60)
COVERAGE_WARNING_PCT = 90
COVERAGE_CRITICAL_PCT = 50
SLA_COVERAGE_PCT = 95  # the operator's promise: this share of ready players by 07:00 PT


class Severity(StrEnum):
    """How urgently a human should look."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One alert: sent to every channel, at most once per (game_date, type, channel)."""

    type: str
    severity: Severity
    title: str
    body: str
    game_date: date
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """A one-line summary for e-mail subjects and chat headlines."""
        return f"[tipoff {self.severity.value.upper()}] {self.title}"


def partial_gap_threshold(expected: int) -> int:
    """The largest tolerated number of missing predictions: max(ceil(5 % of expected), 20)."""
    share = -(-expected * PARTIAL_GAP_SHARE_PCT // 100)  # ceiling division, exact in integers
    return max(share, PARTIAL_GAP_MIN_PLAYERS)


def partial_gap_alert(game_date: date, expected: int, predicted: int) -> Alert | None:
    """Warn when more players are missing a prediction than the threshold allows."""
    missing = max(expected - predicted, 0)
    threshold = partial_gap_threshold(expected)
    if missing <= threshold:
        return None
    return Alert(
        type=PARTIAL_GAP, severity=Severity.WARNING, game_date=game_date,
        title=f"{missing} players without a prediction for {game_date}",
        body=(f"{predicted} of {expected} expected players were predicted for {game_date}; "
              f"{missing} are missing (tolerated: {threshold}).\n"
              f"Next: `tipoff status --date {game_date}` to see why, then "
              f"{_retry(game_date)} to predict the missing ready players."),
        details={"expected": expected, "predicted": predicted, "missing": missing,
                 "threshold": threshold},
    )


def latency_alert(game_date: date, latency: timedelta, *, covered: bool = False) -> Alert | None:
    """Warn above 10 minutes from stage 4 completion to the batch's end; critical above 60,
    unless the night is ``covered`` (the promised share of ready players was predicted by the
    check): then the safety net did its job and the broken event path is a warning, not a page."""
    if latency <= LATENCY_WARNING:
        return None
    critical = latency > LATENCY_CRITICAL and not covered
    severity = Severity.CRITICAL if critical else Severity.WARNING
    minutes = round(latency.total_seconds() / 60, 1)
    return Alert(
        type=LATENCY, severity=severity, game_date=game_date,
        title=f"Stage 4 to 5 hand-off took {minutes} min for {game_date}",
        body=(f"Predictions for {game_date} started {minutes} minutes after stage 4 completed "
              f"(warning above {_minutes(LATENCY_WARNING)}, critical above "
              f"{_minutes(LATENCY_CRITICAL)} unless {SLA_COVERAGE_PCT}% of ready players "
              f"were predicted by the check).\n"
              f"Next: check that the phase4_complete event path is delivering "
              f"(`tipoff status --date {game_date}`); the scheduler backup covers a lost event."),
        details={"latency_seconds": latency.total_seconds(), "covered": covered},
    )


def sla_covered(predicted: int, ready: int) -> bool:
    """Whether the night kept the promise: at least 95 % of ready players predicted."""
    return ready > 0 and predicted * 100 >= ready * SLA_COVERAGE_PCT


def coverage_alert(game_date: date, predicted: int, ready: int, batch_exists: bool,
                   lined: tuple[int, int] | None = None) -> Alert | None:
    """The 07:00 check: no batch or no predictions is critical; low coverage warns or worse.

    ``lined`` (predicted, priced) adds the coverage of the players the books priced to the
    alert; the thresholds apply to ready players.
    """
    if not batch_exists:
        return _no_batch(game_date)
    if predicted <= 0:
        return _no_predictions(game_date, ready)
    if ready <= 0 or predicted * 100 >= ready * COVERAGE_WARNING_PCT:
        return None
    critical = predicted * 100 < ready * COVERAGE_CRITICAL_PCT
    return _with_lined(_low_coverage(game_date, predicted, ready, critical), lined)


def _with_lined(alert: Alert, lined: tuple[int, int] | None) -> Alert:
    if not lined or not lined[1]:
        return alert
    predicted, priced = lined
    pct = round(100 * predicted / priced, 1)
    return replace(alert, body=f"{alert.body}\nPriced by the books: {predicted} of {priced} "
                               f"players have a prediction ({pct}%).",
                   details={**alert.details, "lined_predicted": predicted, "lined": priced,
                            "lined_coverage_pct": pct})


def phase4_not_ready_alert(game_date: date, reason: str) -> Alert:
    """Stage 4 was still not ready when the wait's deadline passed."""
    return Alert(
        type=PHASE4_NOT_READY, severity=Severity.CRITICAL, game_date=game_date,
        title=f"Stage 4 not ready for {game_date} after the wait",
        body=(f"The wait for stage 4 features of {game_date} reached its deadline: {reason}.\n"
              f"Ready players, if any, were predicted. Next: fix and rerun stage 4 "
              f"(`tipoff features build --date {game_date}`), then "
              f"{_start_again(game_date)}."),
        details={"reason": reason},
    )


def publish_failed_alert(game_date: date, error: str) -> Alert:
    """Stage 4 finished but its completion event could not be published."""
    return Alert(
        type=PHASE4_PUBLISH_FAILED, severity=Severity.WARNING, game_date=game_date,
        title=f"Stage 4 completion event for {game_date} not published",
        body=(f"Stage 4 features of {game_date} were written, but publishing phase4_complete "
              f"failed: {error}.\n"
              f"The scheduled backup start will pick the date up; to start now run "
              f"{_start(game_date)}."),
        details={"error": error},
    )


def event_rejected_alert(game_date: date, reason: str) -> Alert:
    """Stage 4's event for a live date could not be used: the event path is broken."""
    return Alert(
        type=PHASE4_EVENT_REJECTED, severity=Severity.WARNING, game_date=game_date,
        title=f"Stage 4's event for {game_date} was rejected",
        body=(f"stage 4's event was rejected: {reason}; the 06:00 backup will cover it.\n"
              f"To start now run {_start(game_date)}; `tipoff report --date "
              f"{game_date}` lists the rejection."),
        details={"reason": reason[:500]},
    )


def dead_letters_alert(game_date: date, topic: str, count: int) -> Alert | None:
    """Messages of a night ended in the dead-letter list."""
    if count <= 0:
        return None
    return Alert(
        type=DEAD_LETTERS, severity=Severity.WARNING, game_date=game_date,
        title=f"{count} dead-lettered messages on {topic} for {game_date}",
        body=(f"{count} messages on {topic} for {game_date} exhausted their delivery attempts.\n"
              f"Next: `tipoff dlq list` shows them with their last error; fix the cause, then "
              f"`tipoff dlq replay`."),
        details={"topic": topic, "count": count},
    )


def _no_batch(game_date: date) -> Alert:
    return Alert(
        type=NO_BATCH, severity=Severity.CRITICAL, game_date=game_date,
        title=f"No prediction batch for {game_date} at the 07:00 check",
        body=(f"Neither the stage 4 event nor the 06:00 backup started predictions for "
              f"{game_date}.\nNext: `tipoff status --date {game_date}`, then "
              f"{_start_again(game_date)}."),
    )


def _no_predictions(game_date: date, ready: int) -> Alert:
    return Alert(
        type=NO_PREDICTIONS, severity=Severity.CRITICAL, game_date=game_date,
        title=f"Zero predictions for {game_date} at the 07:00 check",
        body=(f"A batch exists for {game_date} but no prediction was written "
              f"({ready} players ready).\nNext: check the workers and the bus "
              f"(`tipoff status --date {game_date}`), then {_retry(game_date)}."),
        details={"predicted": 0, "ready": ready},
    )


def _low_coverage(game_date: date, predicted: int, ready: int, critical: bool) -> Alert:
    pct = round(100 * predicted / ready, 1)
    return Alert(
        type=COVERAGE, severity=Severity.CRITICAL if critical else Severity.WARNING,
        game_date=game_date,
        title=f"Prediction coverage {pct}% for {game_date}",
        body=(f"{predicted} of {ready} ready players have a prediction for {game_date} "
              f"(warning below {COVERAGE_WARNING_PCT}%, critical below "
              f"{COVERAGE_CRITICAL_PCT}%).\nNext: {_retry(game_date)} "
              f"predicts the ready players without an active prediction."),
        details={"predicted": predicted, "ready": ready, "coverage_pct": pct},
    )


# Live commands refuse a past date (ET), so each suggestion also names the backfill that
# works once the night is over: an alert is often read the next morning.
def _start_again(game_date: date) -> str:
    return (f"`tipoff start --date {game_date} --force` (after {game_date} ET: "
            f"`tipoff backfill --from {game_date} --to {game_date} --force`)")


def _start(game_date: date) -> str:
    return (f"`tipoff start --date {game_date}` (after {game_date} ET: "
            f"`tipoff backfill --from {game_date} --to {game_date}`)")


def _retry(game_date: date) -> str:
    return (f"`tipoff retry --date {game_date}` (after {game_date} ET: "
            f"`tipoff backfill --from {game_date} --to {game_date}`, which fills the missing "
            "players)")


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"
