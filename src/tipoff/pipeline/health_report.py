"""The daily health report: what happened to a night, for the person who owns it."""

from __future__ import annotations

from collections import Counter
from datetime import date

from tipoff.domain.features import FEATURE_VERSION, PROCESSOR
from tipoff.domain.reasons import not_ready_all_reasons, not_ready_by_main_reason
from tipoff.pipeline.build_features import issue_counts
from tipoff.pipeline.coordinator import COORDINATOR
from tipoff.pipeline.night_watch import NightWatch
from tipoff.ports import ReportStore


def health_report(store: ReportStore, watch: NightWatch, game_date: date) -> dict:
    """Stage 4 → 5 latency, coverage, data quality, decisions and alerts of one night."""
    rows = store.read_features(game_date, FEATURE_VERSION)
    stage4 = store.runs(processor=PROCESSOR, game_date=game_date)
    decisions = [r for r in store.runs(processor=COORDINATOR, game_date=game_date) if r.source]
    return {
        **watch.status(game_date),
        "data_quality": _quality(rows),
        "stage4_runs": [{"run_id": r.run_id, "status": r.status,
                         "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                         "duration_ms": round(r.duration.total_seconds() * 1000, 1)
                         if r.duration else None} for r in stage4],
        "decisions": [{"at": r.started_at.isoformat(), "source": r.source,
                       "decision": r.decision, "reason": r.reason} for r in decisions],
        # Events and results refused at the boundary, filed under the date they named.
        "rejections": [{"at": r.started_at.isoformat(), "source": r.source, "reason": r.reason}
                       for r in decisions if r.decision == "rejected"],
        "rows_by_system": dict(sorted(store.count_predictions(game_date).items())),
        "alerts": [{"type": a["alert_type"], "channel": a["channel"], "severity": a["severity"],
                    "status": a["status"]} for a in store.alert_log(game_date)],
    }


def _quality(rows: list[dict]) -> dict:
    if not rows:
        return {"players": 0}
    issues = issue_counts(rows)
    sources = Counter(s for r in rows for s in (r["feature_sources"] or ()))
    ready = sum(r["is_production_ready"] for r in rows)
    return {
        "players": len(rows), "ready": ready, "ready_pct": round(100 * ready / len(rows), 1),
        "average_quality": round(sum(r["quality_score"] for r in rows) / len(rows), 1),
        "sources": dict(sources), "issues": dict(issues.most_common()),
        # Each not-ready player once, under its main reason (the words every report uses).
        "not_ready_reasons": not_ready_by_main_reason(rows),
        "not_ready_all_reasons": not_ready_all_reasons(rows),
    }
