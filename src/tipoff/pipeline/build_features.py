"""Stage 4: build the feature store for one game date, record the run, announce it."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from tipoff.domain.features import FEATURE_VERSION, PROCESSOR
from tipoff.domain.messages import PHASE4_EVENT_TYPE, PHASE4_TOPIC, Phase4Completed
from tipoff.domain.stage4.builder import Stage4Inputs, build_feature_rows
from tipoff.domain.stage4.nights import DEFAULT_HISTORY_DAYS
from tipoff.domain.stage4.slates import LOG_COLUMNS
from tipoff.domain.alerts import publish_failed_alert
from tipoff.errors import AdapterError, NotFoundError
from tipoff.logs import night_context
from tipoff.ports import AnalyticsStore, Bus, Clock, RunHistory, RunRecord, Stage4Store

log = structlog.get_logger(__name__)

# Logs further back than this cannot influence any feature (windows are season-bound; the
# early-season roster looks back one year).
HISTORY_WINDOW = timedelta(days=DEFAULT_HISTORY_DAYS)


@dataclass(frozen=True)
class BuildSummary:
    """What one stage 4 build did."""

    game_date: date
    run_id: str
    players: int
    ready: int
    average_quality: float
    duration_ms: float
    published: bool
    message: str = ""
    issues: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "game_date": self.game_date.isoformat(), "run_id": self.run_id,
            "players": self.players, "ready": self.ready,
            "average_quality": self.average_quality, "duration_ms": round(self.duration_ms, 1),
            "published": self.published, "message": self.message, "issues": self.issues,
        }


def input_windows(game_date: date) -> dict[str, tuple[date, date]]:
    """The [start, end) game-date range stage 4 reads of each analytics table for a night;
    the backtest and training slice their in-memory snapshot by the same ranges."""
    start = game_date - HISTORY_WINDOW
    return {"games": (start, game_date + timedelta(days=1)),
            "player_game_logs": (start, game_date),
            "team_game_stats": (start, game_date),
            "injury_reports": (game_date, game_date + timedelta(days=1))}


def load_inputs(store: AnalyticsStore, game_date: date) -> Stage4Inputs:
    """Everything stage 4 may read for ``game_date`` (the builder itself enforces the cut-off)."""
    windows = input_windows(game_date)

    def read(table: str):
        start, end = windows[table]
        columns = LOG_COLUMNS if table == "player_game_logs" else None
        return store.read_analytics(table, start=start, end=end, columns=columns)

    return Stage4Inputs(game_date=game_date, games=read("games"), logs=read("player_game_logs"),
                        team_stats=read("team_game_stats"), injuries=read("injury_reports"))


def build_features(store: Stage4Store, bus: Bus | None, clock: Clock, game_date: date,
                   *, correlation_id: str | None = None, alerts=None) -> BuildSummary:
    """Replace ``game_date``'s feature rows, record the run, then publish ``phase4_complete``.

    A date without games records a skipped run and publishes nothing. A failed publish does not
    fail the build: the scheduled backup covers it; the failure is logged and, with ``alerts``,
    sent as a warning alert.
    """
    run_id = f"phase4-{game_date.isoformat()}-{uuid.uuid4().hex[:12]}"
    with night_context(game_date=game_date, correlation_id=correlation_id or run_id,
                       run_id=run_id):
        return _build(store, bus, clock, game_date, run_id, correlation_id, alerts)


def _build(store: Stage4Store, bus: Bus | None, clock: Clock, game_date: date, run_id: str,
           correlation_id: str | None, alerts) -> BuildSummary:
    started = clock.now()
    rows = build_feature_rows(load_inputs(store, game_date), generated_at=started)
    if not rows:
        return _record_no_games(store, clock, game_date, run_id, started)
    store.replace_features(game_date, FEATURE_VERSION, rows)
    finished = clock.now()
    ready = sum(1 for r in rows if r["is_production_ready"])
    run = RunRecord(
        run_id=run_id, processor=PROCESSOR, status="success", started_at=started,
        finished_at=finished, game_date=game_date, correlation_id=correlation_id or run_id,
        counts={"players_processed": len(rows), "players_ready": ready, "players_failed": 0},
        details={"feature_version": FEATURE_VERSION,
                 "issues": dict(sorted(issue_counts(rows).items()))},
    )
    store.record_run(run)
    published = _announce(bus, run, alerts)
    if not published:
        store.record_run(_with_detail(run, "publish_failed", True))
    return _summary(run, rows, published)


def event_for(run: RunRecord) -> Phase4Completed:
    """The ``phase4_complete`` event announcing a successful stage 4 run."""
    return Phase4Completed.model_validate({
        "event_type": PHASE4_EVENT_TYPE, "game_date": run.game_date, "run_id": run.run_id,
        "correlation_id": run.correlation_id or run.run_id, "timestamp": run.finished_at,
        **run.counts,
    })


def latest_stage4_run(store: RunHistory, game_date: date) -> RunRecord | None:
    """The latest successful stage 4 run for a date, if any."""
    runs = [r for r in store.runs(processor=PROCESSOR, game_date=game_date) if r.status == "success"]
    return runs[-1] if runs else None


def phase4_event(store: RunHistory, game_date: date) -> Phase4Completed:
    """The event of the latest successful stage 4 run for a date (to re-announce it)."""
    run = latest_stage4_run(store, game_date)
    if run is None:
        raise NotFoundError(f"no successful stage 4 run for {game_date}: run "
                            f"`tipoff features build --date {game_date}` first")
    return event_for(run)


def _announce(bus: Bus | None, run: RunRecord, alerts) -> bool:
    if bus is None:
        return False
    try:
        bus.publish(PHASE4_TOPIC, event_for(run).to_data(), message_id=run.run_id)
    except AdapterError as exc:
        log.warning("phase4_publish_failed", game_date=str(run.game_date), run_id=run.run_id,
                    error=str(exc), consequence="the 06:00 PT backup trigger will cover it")
        if alerts is not None:
            assert run.game_date is not None  # a stage 4 run always has its date
            alerts.send(publish_failed_alert(run.game_date, str(exc)))
        return False
    return True


def _record_no_games(store: RunHistory, clock: Clock, game_date: date, run_id: str,
                     started: datetime) -> BuildSummary:
    finished = clock.now()
    message = f"no games scheduled on {game_date.isoformat()}: nothing to build, no event sent"
    store.record_run(RunRecord(
        run_id=run_id, processor=PROCESSOR, status="skipped", started_at=started,
        finished_at=finished, game_date=game_date, reason=message,
    ))
    return BuildSummary(game_date, run_id, 0, 0, 0.0,
                        (finished - started).total_seconds() * 1000, False, message)


def _with_detail(run: RunRecord, key: str, value: object) -> RunRecord:
    return RunRecord(**{**run.__dict__, "details": {**run.details, key: value}})


def issue_counts(rows: list[dict]) -> Counter:
    """Data-quality issues of feature rows by kind (the first word: completeness, quality …)."""
    return Counter(issue.split(" ")[0] if issue else "unknown"
                   for row in rows for issue in row["data_quality_issues"])


def _summary(run: RunRecord, rows: list[dict], published: bool) -> BuildSummary:
    quality = sum(r["quality_score"] for r in rows) / len(rows)
    assert run.game_date is not None and run.duration is not None  # a finished stage 4 run
    return BuildSummary(
        game_date=run.game_date, run_id=run.run_id, players=len(rows),
        ready=run.counts["players_ready"], average_quality=round(quality, 1),
        duration_ms=run.duration.total_seconds() * 1000, published=published,
        issues=dict(run.details["issues"]),
    )
