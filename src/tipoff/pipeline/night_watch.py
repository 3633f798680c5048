"""The safety net around the event path: durable waits, the batch status and the 07:00 check."""

from __future__ import annotations

from datetime import date, timedelta

import structlog

from tipoff.domain import alerts as a
from tipoff.domain import batches as b
from tipoff.domain.dates import game_date_at
from tipoff.pipeline.coordinator import Coordinator, Decision, Phase4Status, live_window_end
from tipoff.logs import night_context
from tipoff.ports import Clock, WatchStore

log = structlog.get_logger(__name__)


class NightWatch:
    """Resolves waits for stage 4, reports a night's status and raises the alerts it calls for."""

    def __init__(self, coordinator: Coordinator, store: WatchStore, clock: Clock) -> None:
        self._coordinator = coordinator
        self._store = store
        self._clock = clock

    def poll_waits(self) -> list[Decision]:
        """Start every waiting date whose stage 4 became ready; expire those past deadline."""
        decisions, today = [], game_date_at(self._clock.now())
        for wait in self._store.open_waits():
            if wait["game_date"] < today:  # its night is over (the process was down): close it
                self._store.close_wait(wait["game_date"], b.WAIT_EXPIRED, self._clock.now(),
                                       "the night passed before stage 4 was ready")
                continue
            with night_context(game_date=wait["game_date"], source=wait["source"]):
                decisions.extend(self._poll(wait))
        return decisions

    def _poll(self, wait: dict) -> list[Decision]:
        phase4 = self._coordinator.phase4_status(wait["game_date"])
        if phase4.is_ready:
            return [self._coordinator.start(wait["game_date"], wait["source"], phase4=phase4)]
        if self._clock.now() >= wait["deadline"]:
            return self._expire(wait, phase4)
        return []

    def _expire(self, wait: dict, phase4: Phase4Status) -> list[Decision]:
        game_date = wait["game_date"]
        if not self._store.close_wait(game_date, b.WAIT_EXPIRED, self._clock.now(), "deadline"):
            return []  # another coordinator expired it first
        reason = self._coordinator.not_ready_reason(game_date, phase4)
        self._coordinator.alerts.send(a.phase4_not_ready_alert(game_date, reason))
        # Re-read inside start_partial: stage 4 may have moved while the alert was sent.
        return [self._coordinator.start_partial(game_date, wait["source"],
                                                f"stage 4 not ready at the deadline: {reason}")]

    def status(self, game_date: date) -> dict:
        """State, counts, coverage and timings of a night (whether or not a batch exists)."""
        batch = self._store.get_batch(game_date)
        phase4 = self._coordinator.phase4_status(game_date)
        ready = {r["player_lookup"] for r in phase4.ready_rows}
        with_predictions = self._store.players_with_predictions(game_date)
        predicted = len(ready & with_predictions)
        lined = self._coordinator.lined_players(game_date)
        lined_predicted = len(lined & with_predictions)
        progress = self._store.batch_progress(batch.batch_id) if batch else b.Progress(0, 0, 0, 0)
        latency = (batch.completed_at - batch.phase4_completed_at
                   if batch and batch.completed_at and batch.phase4_completed_at else None)
        return {
            "game_date": game_date.isoformat(), "state": self._state(game_date, batch),
            "batch_id": batch.batch_id if batch else None,
            "trigger_source": batch.source if batch else None,
            "players_expected": len(phase4.rows), "players_ready": len(ready),
            "players_requested": progress.requested, "players_predicted": predicted,
            "players_skipped": progress.skipped, "players_failed": progress.failed,
            "players_pending": progress.pending,
            "coverage_pct": b.coverage_pct(predicted, len(ready)),
            # The number bettors feel: of the players the books priced, how many have one.
            "players_lined": len(lined), "players_lined_predicted": lined_predicted,
            "lined_coverage_pct": b.coverage_pct(lined_predicted, len(lined)) if lined else None,
            "phase4_completed_at": _iso(phase4.run.finished_at if phase4.run else None),
            "started_at": _iso(batch.created_at if batch else None),
            "completed_at": _iso(batch.completed_at if batch else None),
            "latency_seconds": None if latency is None else round(latency.total_seconds(), 3),
            "event_path_enabled": self._coordinator.event_path_enabled(),
        }

    def _state(self, game_date: date, batch: b.Batch | None) -> str:
        if batch is not None:
            return batch.state
        wait = self._store.get_wait(game_date)
        if wait is None:
            return "no_batch"
        return b.WAITING if wait["status"] == b.WAIT_OPEN else b.INSUFFICIENT_DATA

    def status_check(self, game_date: date) -> dict:
        """The 07:00 PT check: alert on low coverage, no batch, slow stage 4 → 5, gaps and
        messages left in the dead-letter list."""
        batch = self._store.get_batch(game_date)
        with night_context(game_date=game_date, batch_id=batch and batch.batch_id,
                           source=batch and batch.source,
                           correlation_id=batch and batch.correlation_id):
            return self._status_check(game_date)

    def _status_check(self, game_date: date) -> dict:
        status = self.status(game_date)
        today = game_date_at(self._clock.now())
        if not today <= game_date <= live_window_end(self._clock.now()):
            # Only live nights are checked: a far date must not raise alerts for anyone.
            return {**status, "alerts": {}, "checked": False}
        found = [
            a.coverage_alert(game_date, status["players_predicted"], status["players_ready"],
                             status["batch_id"] is not None,
                             lined=(status["players_lined_predicted"], status["players_lined"])),
            a.partial_gap_alert(game_date, status["players_ready"], status["players_predicted"])
            if status["batch_id"] else None,
        ]
        if status["latency_seconds"] is not None:
            found.append(a.latency_alert(
                game_date, timedelta(seconds=status["latency_seconds"]),
                covered=a.sla_covered(status["players_predicted"], status["players_ready"])))
        letters = self._coordinator.dead_letter_count()
        found.append(a.dead_letters_alert(game_date, "the bus", letters))
        sent = {alert.type: self._coordinator.alerts.send(alert) for alert in found if alert}
        log.info("status_check", game_date=str(game_date), state=status["state"],
                 coverage_pct=status["coverage_pct"],
                 lined_coverage_pct=status["lined_coverage_pct"], alerts=sorted(sent))
        return {**status, "alerts": sent}


def _iso(instant) -> str | None:
    return None if instant is None else instant.isoformat()
