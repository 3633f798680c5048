"""``tipoff demo``: one whole night, embedded — league, model, stage 4, event, batch, report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from tipoff.domain import batches as b
from tipoff.domain.dates import pacific_instant
from tipoff.domain.features import FEATURE_VERSION
from tipoff.domain.systems import ENSEMBLE, XGBOOST, XGBoostSystem
from tipoff.pipeline.build_features import build_features, latest_stage4_run
from tipoff.pipeline.load_data import generate_league_into
from tipoff.pipeline.runtime import load_model
from tipoff.pipeline.train import Progress, train
from tipoff.ports import Bus, Clock, ModelStore, ReportStore, Store

DEMO_SEASON = "2025-26"
DEMO_DATE = date(2026, 1, 14)
DEMO_SEED = 7
TRAINING_NIGHTS = 45


@dataclass(frozen=True)
class DemoWiring:
    """What the composition root hands the demo: adapters opened on the demo's clock."""

    open_store: Callable[[str, Clock], Store]
    open_bus: Callable[[str, Clock], Bus]
    clock: Callable[[datetime], Clock]  # a clock running in real time from the given instant
    models: ModelStore
    embedded: Callable[[Store, Bus, Clock, XGBoostSystem], object]


@dataclass(frozen=True)
class DemoOptions:
    """Where and what the demo runs."""

    workdir: Path
    store_url: str | None = None
    bus_url: str = "memory://"
    game_date: date = DEMO_DATE
    seed: int = DEMO_SEED
    season: str = DEMO_SEASON


def run_demo(options: DemoOptions, wiring: DemoWiring, step: Progress | None = None) -> dict:
    """Run the night on ``wiring``'s adapters and return its report (see ``report``)."""
    say = step or (lambda n, total, label: None)
    store_url = options.store_url or f"sqlite:///{options.workdir / 'tipoff.db'}"
    # The night is replayed live: the clock starts at 00:30 PT on the game date.
    clock = wiring.clock(pacific_instant(options.game_date, 0, 30))
    with closing(wiring.open_store(store_url, clock)) as store:
        say(1, 4, f"generating the synthetic league {options.season} up to {options.game_date}")
        generate_league_into(store, options.season, options.seed, options.game_date)
        if not wiring.models.exists(XGBOOST):
            say(2, 4, "training the XGBoost model (first run only)")
            train(store, wiring.models, options.game_date - timedelta(days=1), clock,
                  seed=options.seed, max_nights=TRAINING_NIGHTS)
        with closing(wiring.open_bus(options.bus_url, clock)) as bus:
            wiring.embedded(store, bus, clock, load_model(wiring.models))
            say(3, 4, f"stage 4 for {options.game_date}, then the event-driven batch")
            build_features(store, bus, clock, options.game_date)
            bus.join()
            say(4, 4, "done")
            result = report(store, options.game_date)
            result.update(store_url=store_url, bus_url=options.bus_url,
                          model_path=wiring.models.where(XGBOOST), dead_letters=len(bus.dead_letters()))
    return result


def report(store: ReportStore, game_date: date) -> dict:
    """What happened to a night: counts, coverage, timeline, rows per system, top edges."""
    rows = store.read_features(game_date, FEATURE_VERSION)
    batch = store.get_batch(game_date)
    requests = store.batch_requests(batch.batch_id) if batch else []
    outcomes = Counter(r["outcome"] or "pending" for r in requests)
    ready = sum(r["is_production_ready"] for r in rows)
    predictions = store.read_predictions(game_date)
    return {
        "game_date": game_date.isoformat(),
        "batch_id": batch.batch_id if batch else None,
        "batch_state": batch.state if batch else None,
        "players_on_slate": len(rows), "players_ready": ready,
        "players_predicted": outcomes[b.PREDICTED], "players_skipped": outcomes[b.SKIPPED],
        "players_failed": outcomes[b.FAILED],
        "coverage_pct": b.coverage_pct(outcomes[b.PREDICTED], ready),
        "not_ready_reasons": _not_ready_reasons(rows),
        "skip_reasons": dict(Counter(r["reason"] for r in requests if r["outcome"] == b.SKIPPED)),
        "rows_by_system": dict(sorted(store.count_predictions(game_date).items())),
        "timeline_ms": _timeline(store, game_date, batch, predictions),
        "top_edges": _top_edges(predictions, {r["player_lookup"]: r["player_name"] for r in rows}),
    }


def _not_ready_reasons(rows: list[dict]) -> dict[str, int]:
    reasons: Counter[str] = Counter()
    for row in rows:
        for issue in row["data_quality_issues"]:
            reasons[issue.split(" below")[0].rstrip("0123456789/ .") or issue] += 1
    return dict(reasons.most_common())


def _timeline(store: ReportStore, game_date: date, batch: b.Batch | None, predictions: list[dict]) -> dict:
    stage4 = latest_stage4_run(store, game_date)
    if stage4 is None or batch is None:
        return {}
    origin = stage4.finished_at
    assert origin is not None  # the latest successful run has finished
    first = min((p["created_at"] for p in predictions), default=None)
    return {"stage4_complete": 0.0, "claimed": _ms(origin, batch.created_at),
            "first_prediction": _ms(origin, first), "complete": _ms(origin, batch.completed_at)}


def _ms(origin: datetime, instant: datetime | None) -> float | None:
    return None if instant is None else round((instant - origin).total_seconds() * 1000, 1)


def _top_edges(predictions: list[dict], names: dict[str, str], count: int = 10) -> list[dict]:
    ensemble = [p for p in predictions if p["system_id"] == ENSEMBLE and p["line"] is not None]
    ensemble.sort(key=lambda p: (-abs(p["line_margin"]), p["player_lookup"]))
    return [{"player": names.get(p["player_lookup"], p["player_lookup"]), "line": p["line"],
             "line_source": p["line_source"], "bookmaker": p["bookmaker"],
             "predicted_points": p["predicted_points"], "confidence": p["confidence_score"],
             "recommendation": p["recommendation"]} for p in ensemble[:count]]
