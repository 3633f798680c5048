"""The coordinator: every trigger converges on one batch decision for a game date.

Decisions (recorded in run history with their source): ``started``, ``already_running``,
``already_complete``, ``complete`` (a retry with nothing missing), ``filled_missing``,
``forced``, ``backfill_ignored``, ``not_ready``, ``waiting_for_phase4``, ``no_ready_players``,
``event_path_disabled``, ``partial_after_wait``, ``insufficient_data``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import structlog

from tipoff.domain import batches as b
from tipoff.domain.dates import game_date_at
from tipoff.domain.features import FEATURE_INDEX, FEATURE_VERSION
from tipoff.domain.messages import (
    MAX_LINES, REQUEST_TOPIC, Line, Phase4Completed, PredictionRequest, PredictionResult,
)
from tipoff.domain.alerts import event_rejected_alert
from tipoff.domain.decisions import STARTED_WORK
from tipoff.logs import night_context
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.build_features import latest_stage4_run
from tipoff.ports import Bus, Clock, CoordinatorStore, RunRecord

log = structlog.get_logger(__name__)
COORDINATOR = "prediction_coordinator"
WAIT_FOR_PHASE4 = timedelta(minutes=30)
EVENT_PATH_SWITCH = "event_path_enabled"
STALE_REQUESTS = timedelta(minutes=2)  # pending this long on a re-trigger: sent again
PUBLISH_CHUNK = 500  # requests in flight to the broker at once
# Decisions that sent requests: an open wait for the date is resolved by them.
STARTED = STARTED_WORK  # the decisions that sent prediction requests
LIVE_DAYS_AHEAD = 7  # live paths accept game dates from today (ET) to today + 7 days
MAX_DETAILS = 4096  # bytes of envelope details a rejection keeps
MAX_REASON = 2000


def live_window_end(now) -> date:
    """The last game date a live path (event, start, retry) accepts."""
    return game_date_at(now) + timedelta(days=LIVE_DAYS_AHEAD)


def bounded_details(details: dict) -> dict:
    """``details`` as stored: whole when its JSON fits ``MAX_DETAILS``, else a cut excerpt."""
    text = json.dumps(details, default=str)
    if len(text.encode()) <= MAX_DETAILS:
        return details
    return {"truncated": True, "excerpt": text.encode()[:MAX_DETAILS - 64].decode(errors="ignore")}


@dataclass(frozen=True)
class Decision:
    """What one trigger decided, and why."""

    decision: str
    game_date: date
    reason: str
    batch_id: str | None = None
    state: str | None = None
    requested: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        return self.decision in STARTED

    def to_dict(self) -> dict:
        return {"decision": self.decision, "game_date": self.game_date.isoformat(),
                "reason": self.reason, "batch_id": self.batch_id, "state": self.state,
                "requested": self.requested, **self.counts}


@dataclass(frozen=True)
class Phase4Status:
    """Stage 4's output for a date as the coordinator sees it."""

    run: RunRecord | None
    rows: list[dict]

    @property
    def ready_rows(self) -> list[dict]:
        return [r for r in self.rows if r["is_production_ready"]]

    @property
    def is_ready(self) -> bool:
        return self.run is not None and b.phase4_is_ready(len(self.rows), len(self.ready_rows))


class Coordinator:
    """Claims batches, fans out one request per ready player, and tracks results in the store."""

    def __init__(self, store: CoordinatorStore, bus: Bus, clock: Clock, *, alerts: AlertDispatcher,
                 feature_version: str = FEATURE_VERSION, wait_for: timedelta = WAIT_FOR_PHASE4):
        self._store = store
        self._bus = bus
        self._clock = clock
        self._alerts = alerts
        self._feature_version = feature_version
        self._wait_for = wait_for
        self._phase4_rows: tuple[tuple[date, str], list[dict]] | None = None  # by (date, run)

    @property
    def alerts(self):
        """Where this coordinator's alerts go (every configured channel)."""
        return self._alerts

    # --- entry points ---------------------------------------------------------------------

    def on_phase4_completed(self, event: Phase4Completed, source: str = "pubsub") -> Decision:
        """The primary path: stage 4 announced a finished run (unless the path is disabled).

        An event that cannot start a batch (stage 4 reported ``failed``/``no_data``, or a date
        beyond the live window) is recorded as rejected (decision ``rejected``)."""
        with night_context(game_date=event.game_date, source=source,
                           correlation_id=event.correlation_id):
            return self._on_phase4_completed(event, source)

    def _on_phase4_completed(self, event: Phase4Completed, source: str) -> Decision:
        refusal = self.event_refusal(event)
        if refusal is not None:
            self.reject(refusal, source, {"event": event.to_data()}, game_date=event.game_date)
            return Decision("rejected", event.game_date, refusal)
        if not self.event_path_enabled():
            decision = Decision("event_path_disabled", event.game_date,
                                "the event path is disabled; the scheduled backup will start it")
            self._record(decision, source, event.correlation_id)
            return decision
        return self.start(event.game_date, source, correlation_id=event.correlation_id)

    def start(self, game_date: date, source: str, *, force: bool = False,
              wait_for_phase4: bool = False, correlation_id: str | None = None,
              phase4: Phase4Status | None = None) -> Decision:
        """The one decision every trigger converges on; recorded in run history.

        With ``wait_for_phase4`` a date whose stage 4 is not ready gets a durable wait (with a
        deadline) instead of a refusal; ``poll_waits`` or the stage 4 event resolves it.
        ``phase4`` is the date's stage 4 status when the caller has just read it.
        """
        with night_context(game_date=game_date, source=source, correlation_id=correlation_id):
            return self._start(game_date, source, force, wait_for_phase4, correlation_id,
                               phase4)

    def _start(self, game_date: date, source: str, force: bool, wait_for_phase4: bool,
               correlation_id: str | None, phase4: Phase4Status | None) -> Decision:
        decision = self._decide(game_date, source, force, correlation_id, phase4)
        if decision.decision == "not_ready" and wait_for_phase4:
            decision = self._wait(game_date, source, decision.reason)
        if decision.started:
            self._store.close_wait(game_date, b.WAIT_RESOLVED, self._clock.now(), decision.decision)
        self._record(decision, source, correlation_id)
        return decision

    def retry(self, game_date: date) -> Decision:
        """Predict only the ready players that still have no active prediction."""
        batch = self._store.get_batch(game_date)
        if batch is None:
            return self.start(game_date, "retry")
        with night_context(game_date=game_date, source="retry", batch_id=batch.batch_id,
                           correlation_id=batch.correlation_id):
            decision = self._retry(batch)
            self._record(decision, "retry", batch.correlation_id)
        return decision

    def start_partial(self, game_date: date, source: str, reason: str) -> Decision:
        """Predict whatever stage 4 has ready, below the readiness threshold (graceful partial
        after a wait ran out); recorded as ``partial_after_wait``."""
        with night_context(game_date=game_date, source=source):
            phase4 = self.phase4_status(game_date)
            if phase4.run is None or not phase4.ready_rows:
                decision = Decision("insufficient_data", game_date, reason,
                                    state=b.INSUFFICIENT_DATA)
            else:
                started = self._claim_and_fan_out(game_date, source, phase4, None)
                decision = Decision("partial_after_wait" if started.decision == "started"
                                    else started.decision, game_date, reason, started.batch_id,
                                    started.state, started.requested, started.counts)
            self._record(decision, source, None)
        return decision

    def event_refusal(self, event: Phase4Completed) -> str | None:
        """Why a well-formed stage 4 event starts nothing, or None when it may."""
        if event.starts_nothing:
            return f"stage 4 reported status {event.status} for {event.game_date}"
        last = live_window_end(self._clock.now())
        if event.game_date > last:
            return f"{event.game_date} is beyond the live window (up to {last})"
        return None

    def reject(self, reason: str, source: str, details: dict | None = None, *,
               game_date: date | None = None, alert: bool = True) -> None:
        """Record a message that can never be processed (it is acknowledged, not retried),
        with at most ``MAX_DETAILS`` bytes of details; with ``alert``, a rejection dated today
        (ET) or later also raises a warning alert, once per date."""
        now = self._clock.now()
        reason = reason[:MAX_REASON]
        self._store.record_run(RunRecord(
            run_id=f"rejected-{uuid.uuid4().hex}", processor=COORDINATOR, status="rejected",
            started_at=now, finished_at=now, game_date=game_date, source=source,
            decision="rejected", reason=reason, details=bounded_details(details or {})))
        log.warning("message_rejected", source=source, reason=reason,
                    game_date=str(game_date) if game_date else None)
        if alert and game_date is not None and game_date >= game_date_at(now):
            self._alerts.send(event_rejected_alert(game_date, reason))

    def dead_letter_count(self) -> int:
        """Messages in the bus's dead-letter list (0 for a bus that keeps none)."""
        letters = getattr(self._bus, "dead_letters", None)
        return len(letters()) if letters is not None else 0

    def event_path_enabled(self) -> bool:
        """Whether stage 4 events start batches (operators can fall back to scheduler-only)."""
        return bool(self._store.switch(EVENT_PATH_SWITCH, True))

    def set_event_path(self, enabled: bool) -> None:
        """Enable or disable the event path without touching any infrastructure."""
        self._store.set_switch(EVENT_PATH_SWITCH, enabled, self._clock.now())

    def on_results(self, results: list[PredictionResult]) -> None:
        """Store workers' reports in one write; finish every batch left with nothing pending."""
        now = self._clock.now()
        progress = self._store.record_results([{
            "batch_id": r.batch_id, "player_lookup": r.player_lookup, "outcome": r.outcome,
            "reason": r.reason, "systems_succeeded": len(r.systems_succeeded),
            "systems_failed": len(r.systems_failed), "rows_written": r.rows_written,
            "worker_id": r.worker_id, "reported_at": now} for r in results])
        dates = {r.batch_id: r.game_date for r in results}
        for batch_id, state in progress.items():
            if state.finished:
                with night_context(game_date=dates[batch_id], batch_id=batch_id):
                    self._finish(dates[batch_id], batch_id, state)

    # --- decision -------------------------------------------------------------------------

    def _decide(self, game_date: date, source: str, force: bool, correlation_id: str | None,
                phase4: Phase4Status | None) -> Decision:
        today = game_date_at(self._clock.now())
        if game_date < today and source != "backfill":
            return Decision("backfill_ignored", game_date,
                            f"{game_date} is before today ({today} ET): past dates run "
                            f"through `tipoff backfill --from {game_date} --to {game_date}`")
        batch = self._store.get_batch(game_date)
        if batch is not None:
            return self._existing(batch, force)
        phase4 = phase4 or self.phase4_status(game_date)
        if not phase4.is_ready:
            return Decision("not_ready", game_date, self.not_ready_reason(game_date, phase4))
        return self._claim_and_fan_out(game_date, source, phase4, correlation_id)

    def _existing(self, batch: b.Batch, force: bool) -> Decision:
        if batch.state == b.RUNNING and not force:
            return self._still_running(batch)
        if batch.state == b.COMPLETE and not force:
            return Decision("already_complete", batch.game_date, "the batch is complete",
                            batch.batch_id, batch.state)
        if force:
            rows = self.phase4_status(batch.game_date).ready_rows
            requested = self._fan_out(batch, rows)
            return Decision("forced", batch.game_date, f"re-requested all {requested} ready "
                            "players", batch.batch_id, b.RUNNING, requested)
        return self._retry(batch)

    def _retry(self, batch: b.Batch) -> Decision:
        if batch.state == b.RUNNING:
            return self._still_running(batch)
        missing = self._missing(batch.game_date, self.phase4_status(batch.game_date).ready_rows)
        if not missing:
            return Decision("complete", batch.game_date,
                            "every ready player already has predictions", batch.batch_id,
                            batch.state)
        requested = self._fan_out(batch, missing)
        return Decision("filled_missing", batch.game_date,
                        f"requested the {requested} ready players without predictions",
                        batch.batch_id, b.RUNNING, requested)

    def _still_running(self, batch: b.Batch) -> Decision:
        """A running batch; requests pending for long are sent again under their own message
        ids (the bus drops copies it still has), so a fan-out cut short by a crash or a broker
        restart cannot leave the batch running forever."""
        cutoff = self._clock.now() - STALE_REQUESTS
        requests = self._store.batch_requests(batch.batch_id)
        if not requests and batch.created_at <= cutoff:
            # Claimed, but the fan-out failed before any request was stored: send it now.
            requested = self._fan_out(batch, self.phase4_status(batch.game_date).ready_rows,
                                      attempt=1)
            return Decision("filled_missing", batch.game_date,
                            f"the batch had no requests; requested {requested} ready players",
                            batch.batch_id, b.RUNNING, requested)
        stale = [r for r in requests if r["outcome"] is None and r["requested_at"] <= cutoff]
        reason = "the batch is still running"
        if stale:
            rows = {r["player_lookup"]: r for r in self.phase4_status(batch.game_date).rows}
            resend = [r for r in stale if r["player_lookup"] in rows]
            self._publish(batch, [(rows[r["player_lookup"]], r["attempt"]) for r in resend],
                          self._lines(batch.game_date))
            gone = [r for r in stale if r["player_lookup"] not in rows]
            if gone:  # no feature row any more: nothing a worker could do, so report it
                self.on_results([PredictionResult(
                    batch_id=batch.batch_id, game_date=batch.game_date,
                    player_lookup=r["player_lookup"], outcome=b.FAILED,
                    reason="no feature row for this player any more") for r in gone])
            reason += (f"; re-sent {len(resend)} requests pending for over {STALE_REQUESTS}"
                       + (f", {len(gone)} without a feature row marked failed" if gone else ""))
        return Decision("already_running", batch.game_date, reason, batch.batch_id, batch.state)

    def _wait(self, game_date: date, source: str, reason: str) -> Decision:
        now = self._clock.now()
        wait = self._store.open_wait(game_date, source, now, now + self._wait_for)
        return Decision("waiting_for_phase4", game_date,
                        f"{reason}; waiting until {wait['deadline'].isoformat()}",
                        state=b.WAITING)

    def _claim_and_fan_out(self, game_date: date, source: str, phase4: Phase4Status,
                           correlation_id: str | None) -> Decision:
        now = self._clock.now()
        assert phase4.run is not None  # stage 4 is ready, so it has run
        candidate = b.Batch(
            batch_id=f"{game_date.isoformat()}-{uuid.uuid4().hex[:8]}", game_date=game_date,
            state=b.RUNNING, source=source, created_at=now, players_on_slate=len(phase4.rows),
            players_ready=len(phase4.ready_rows), phase4_run_id=phase4.run.run_id,
            # A run stamped ahead of this clock (stage 4 ran on another clock, e.g. during a
            # rehearsal) counts as finished now: latency is never negative.
            phase4_completed_at=min(phase4.run.finished_at, now) if phase4.run.finished_at else None,
            correlation_id=correlation_id)
        batch, claimed = self._store.claim_batch(candidate)
        if not claimed:
            return Decision("already_running", game_date, "another trigger claimed the batch",
                            batch.batch_id, batch.state)
        if not phase4.ready_rows:
            self._store.update_batch(batch.batch_id, state=b.INSUFFICIENT_DATA)
            return Decision("no_ready_players", game_date, "no production-ready players",
                            batch.batch_id, b.INSUFFICIENT_DATA)
        with night_context(batch_id=batch.batch_id):
            requested = self._fan_out(batch, phase4.ready_rows, attempt=1)
        return Decision("started", game_date, f"requested {requested} players", batch.batch_id,
                        b.RUNNING, requested, {"players_on_slate": len(phase4.rows),
                                               "players_ready": len(phase4.ready_rows)})

    # --- fan out and finish -----------------------------------------------------------------

    def _fan_out(self, batch: b.Batch, rows: list[dict], attempt: int | None = None) -> int:
        if attempt is None:
            attempt = 1 + max((r["attempt"] for r in self._store.batch_requests(batch.batch_id)),
                              default=0)
        players = [r["player_lookup"] for r in rows]
        # Requests first, then the state: a late result in between finds them pending and
        # cannot finish the batch before they are answered.
        self._store.add_requests(batch.batch_id, batch.game_date, players, self._clock.now(), attempt)
        if batch.state != b.RUNNING:
            self._store.update_batch(batch.batch_id, state=b.RUNNING, completed_at=None)
        self._publish(batch, [(row, attempt) for row in rows], self._lines(batch.game_date))
        return len(rows)

    def _publish(self, batch: b.Batch, rows: list[tuple[dict, int]], lines: dict) -> None:
        """Send one request per (feature row, attempt), concurrently where the bus can."""
        requests = [PredictionRequest(
            batch_id=batch.batch_id, game_date=batch.game_date,
            player_lookup=row["player_lookup"], game_id=row["game_id"], team=row["team"],
            opponent=row["opponent"], attempt=attempt, source=batch.source[:32],
            correlation_id=(batch.correlation_id or "")[:64] or None,
            lines=lines.get(row["player_lookup"]) or (estimated_line(row),))
            for row, attempt in rows]
        for start in range(0, len(requests), PUBLISH_CHUNK):
            chunk = requests[start:start + PUBLISH_CHUNK]
            self._bus.publish_many(REQUEST_TOPIC, [(r.model_dump(mode="json"), r.message_id())
                                                   for r in chunk])

    def _finish(self, game_date: date, batch_id: str, progress: b.Progress) -> None:
        state, now = b.final_state(progress), self._clock.now()
        if not self._store.finish_batch(batch_id, state, now):
            return  # finished already (by a racing result handler) or no longer running
        batch = self._store.get_batch(game_date)
        assert batch is not None  # it was just finished
        with night_context(source=batch.source, correlation_id=batch.correlation_id):
            self._record_finish(batch, state, now, progress)

    def _record_finish(self, batch: b.Batch, state: str, now, progress: b.Progress) -> None:
        game_date, batch_id = batch.game_date, batch.batch_id
        log.info("batch_finished", game_date=str(game_date), batch_id=batch_id, state=state,
                 predicted=progress.predicted, skipped=progress.skipped, failed=progress.failed)
        self._store.record_run(RunRecord(
            run_id=f"finish-{batch_id}-{uuid.uuid4().hex[:6]}", processor=COORDINATOR,
            status="success", started_at=batch.created_at, finished_at=now, game_date=game_date,
            decision=f"batch_{state}", reason=f"{progress.failed} failed requests",
            counts=_progress_counts(progress), details={"batch_id": batch_id}))

    # --- reads ------------------------------------------------------------------------------

    def phase4_status(self, game_date: date) -> Phase4Status:
        """The latest successful stage 4 run for a date and its feature rows."""
        run = latest_stage4_run(self._store, game_date)
        if run is None:
            return Phase4Status(None, [])
        key = (game_date, run.run_id)
        if self._phase4_rows is None or self._phase4_rows[0] != key:
            # A date's rows change only with a new stage 4 run: the retries, the wait poll and
            # the 07:00 check re-read them only when the latest run is another one.
            self._phase4_rows = (key, self._store.read_features(game_date, self._feature_version))
        return Phase4Status(run, self._phase4_rows[1])

    def _missing(self, game_date: date, ready_rows: list[dict]) -> list[dict]:
        done = self._store.players_with_predictions(game_date)
        return [r for r in ready_rows if r["player_lookup"] not in done]

    def lined_players(self, game_date: date) -> set[str]:
        """The players a sportsbook priced for a date (points market)."""
        if game_date >= date.max:
            return set()  # nothing is priced on the last representable day (and it has no next)
        return set(self._lines(game_date))

    def _lines(self, game_date: date) -> dict[str, tuple[Line, ...]]:
        end = game_date + timedelta(days=1) if game_date < date.max else None
        frame = self._store.read_analytics("prop_lines", start=game_date, end=end)
        return sportsbook_lines(frame)

    def not_ready_reason(self, game_date: date, phase4: Phase4Status) -> str:
        """Why stage 4 is not usable for a date, in words."""
        if phase4.run is None:
            return f"no successful stage 4 run for {game_date}"
        threshold = b.ready_threshold(len(phase4.rows))
        return (f"stage 4 has {len(phase4.ready_rows)} ready of {len(phase4.rows)} players; "
                f"{threshold} needed")

    def _record(self, decision: Decision, source: str, correlation_id: str | None) -> None:
        now = self._clock.now()
        self._store.record_run(RunRecord(
            run_id=f"decision-{uuid.uuid4().hex}", processor=COORDINATOR, status="success",
            started_at=now, finished_at=now, game_date=decision.game_date, source=source,
            decision=decision.decision, reason=decision.reason, correlation_id=correlation_id,
            counts={"requested": decision.requested, **decision.counts},
            details={"batch_id": decision.batch_id}))
        log.info("batch_decision", source=source, **decision.to_dict())


def sportsbook_lines(frame: pd.DataFrame) -> dict[str, tuple[Line, ...]]:
    """Each player's distinct latest line per bookmaker (points market), at most
    ``MAX_LINES`` of them (the lowest), so every request stays within its bounds."""
    if frame.empty:
        return {}
    points = frame[frame["market"] == "points"].sort_values("captured_at")
    latest = points.groupby(["player_lookup", "bookmaker"], as_index=False).last()
    lines: dict[str, list[Line]] = {}
    for row in latest.drop_duplicates(["player_lookup", "line"]).itertuples():
        lines.setdefault(row.player_lookup, []).append(
            Line(value=float(row.line), source=b.SPORTSBOOK, bookmaker=row.bookmaker))
    return {player: tuple(sorted(ls, key=lambda l: l.value)[:MAX_LINES])
            for player, ls in lines.items()}


def estimated_line(row: dict) -> Line:
    """The line of a player no book priced: the recent average to the nearest .5."""
    recent = row["features"][FEATURE_INDEX["points_avg_last_10"]]
    return Line(value=b.estimate_line(recent), source=b.ESTIMATE)


def _progress_counts(progress: b.Progress) -> dict[str, int]:
    return {"requested": progress.requested, "predicted": progress.predicted,
            "skipped": progress.skipped, "failed": progress.failed}
