"""Backfill: stage 4 and predictions for past dates, through the same decision as live nights."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from tipoff.domain.dates import days_between
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.train import Progress


def backfill(services, start: date, end: date, *, force: bool = False,
             progress: Progress | None = None, settle: Callable[[], None] = lambda: None) -> list[dict]:
    """For each date with games: rebuild stage 4 (no event), then start the batch with source
    ``backfill`` and let it finish (``settle``). Returns one summary per date."""
    game_dates = [d for d in days_between(start, end) if d in set(services.store.game_dates())]
    results = []
    for n, day in enumerate(game_dates, start=1):
        summary = build_features(services.store, None, services.clock, day)
        decision = services.coordinator.start(day, "backfill", force=force)
        settle()
        status = services.watch.status(day)
        results.append({"game_date": day.isoformat(), "players": summary.players,
                        "ready": summary.ready, "decision": decision.decision,
                        "coverage_pct": status["coverage_pct"]})
        if progress:
            progress(n, len(game_dates), str(day))
    return results
