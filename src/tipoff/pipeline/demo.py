"""``tipoff demo``: one whole night, embedded — league, model, stage 4, event, batch, report."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from tipoff.domain import batches as b
from tipoff.domain.analytics import season_start_year
from tipoff.domain.dates import pacific_instant
from tipoff.domain.features import FEATURE_VERSION
from tipoff.domain.reasons import not_ready_all_reasons, not_ready_by_main_reason
from tipoff.domain.systems import ENSEMBLE, XGBOOST, PredictionUnavailable, XGBoostSystem
from tipoff.errors import InputError
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
    # The user's model cache: a ModelStore per cache key (None: never read or write a cache).
    cache: Callable[[str], ModelStore] | None = None
    code_version: str = ""  # changes whenever the code that trains the model changes


@dataclass(frozen=True)
class DemoOptions:
    """Where and what the demo runs."""

    workdir: Path
    store_url: str | None = None
    bus_url: str = "memory://"
    game_date: date = DEMO_DATE
    seed: int = DEMO_SEED
    season: str = DEMO_SEASON


def check_demo_date(options: DemoOptions) -> None:
    """Refuse a date the synthetic season has no night for, naming the season's span."""
    from tipoff.sim.league.schedule import game_nights

    nights = game_nights(season_start_year(options.season))
    day = options.game_date
    if day < nights[0] or day > nights[-1]:
        raise InputError(f"{day} is outside the synthetic {options.season} season ({nights[0]} "
                         f"to {nights[-1]}): pick a date in it, e.g. {DEMO_DATE}")
    if day not in nights:
        raise InputError(f"{day} has no games in the synthetic {options.season} season "
                         f"(a dark day): pick another date, e.g. {DEMO_DATE}")


def model_cache_key(options: DemoOptions, code_version: str) -> str:
    """Everything that changes the demo's trained model, hashed: season, seed, training
    window, feature version and the code version."""
    parts = (options.season, options.seed, options.game_date - timedelta(days=1), TRAINING_NIGHTS,
             FEATURE_VERSION, code_version)
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def run_demo(options: DemoOptions, wiring: DemoWiring, step: Progress | None = None) -> dict:
    """Run the night on ``wiring``'s adapters and return its report (see ``report``).

    A night that already ran in this store is not run again: its recorded figures are
    returned with ``fresh_run`` false."""
    say = step or (lambda n, total, label: None)
    check_demo_date(options)
    store_url = options.store_url or f"sqlite:///{options.workdir / 'tipoff.db'}"
    # The night is replayed live: the clock starts at 00:30 PT on the game date.
    clock = wiring.clock(pacific_instant(options.game_date, 0, 30))
    with closing(wiring.open_store(store_url, clock)) as store:
        earlier = store.get_batch(options.game_date)
        if earlier is not None:
            say(4, 4, f"the night of {options.game_date} already ran in this store")
            result = report(store, options.game_date)
            result.update(fresh_run=False, recorded_at=earlier.created_at.isoformat(),
                          store_url=store_url, bus_url=options.bus_url, model_source="recorded",
                          model_path=wiring.models.where(XGBOOST), dead_letters=0)
            return result
        say(1, 4, f"generating the synthetic league {options.season} up to {options.game_date}")
        generate_league_into(store, options.season, options.seed, options.game_date)
        source = _ensure_model(store, options, wiring, clock, say)
        with closing(wiring.open_bus(options.bus_url, clock)) as bus:
            wiring.embedded(store, bus, clock, load_model(wiring.models))
            say(3, 4, f"stage 4 for {options.game_date}, then the event-driven batch")
            build_features(store, bus, clock, options.game_date)
            bus.join()
            say(4, 4, "done")
            result = report(store, options.game_date)
            result.update(fresh_run=True, store_url=store_url, bus_url=options.bus_url,
                          model_source=source, model_path=wiring.models.where(XGBOOST),
                          dead_letters=len(bus.dead_letters()))
    return result


def _ensure_model(store: Store, options: DemoOptions, wiring: DemoWiring, clock: Clock,
                  say: Progress) -> str:
    """The demo's model in ``wiring.models``: already there, copied from the user's cache, or
    trained (then cached). Returns where it came from: workdir, cache or trained."""
    if wiring.models.exists(XGBOOST):
        return "existing"
    cache = wiring.cache(model_cache_key(options, wiring.code_version)) if wiring.cache else None
    if cache is not None and cache.exists(XGBOOST):
        try:
            wiring.models.save(cache.load(XGBOOST), XGBOOST)
            return "cache"
        except PredictionUnavailable:
            pass  # a corrupt cache entry is retrained and replaced below
    say(2, 4, "training the XGBoost model (cached for the next run)" if cache is not None
        else "training the XGBoost model")
    try:
        train(store, wiring.models, options.game_date - timedelta(days=1), clock,
              seed=options.seed, max_nights=TRAINING_NIGHTS,
              progress=lambda n, total, label: say(2, 4, f"training: {label} ({n}/{total})"))
    except InputError as exc:
        raise InputError(f"{options.game_date} is too early in the synthetic {options.season} "
                         f"season to train the demo's model: {exc}") from None
    if cache is not None:
        cache.save(wiring.models.load(XGBOOST), XGBOOST)
    return "trained"


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
        "players_not_ready": len(rows) - ready,
        # Each not-ready player once, under its main reason; every reason in the next field.
        "not_ready_reasons": not_ready_by_main_reason(rows),
        "not_ready_all_reasons": not_ready_all_reasons(rows),
        "skip_reasons": dict(Counter(r["reason"] for r in requests if r["outcome"] == b.SKIPPED)),
        "rows_by_system": dict(sorted(store.count_predictions(game_date).items())),
        "players_with_lines": len({p["player_lookup"] for p in predictions
                                   if p["line_source"] == "sportsbook"}),
        "timeline_ms": _timeline(store, game_date, batch, predictions),
        "top_edges": _top_edges(predictions, {r["player_lookup"]: r["player_name"] for r in rows}),
    }


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
    """The ``count`` players with the largest ensemble edge, one row each (their best line;
    the other lines of the player under ``other_lines``)."""
    ensemble = [p for p in predictions if p["system_id"] == ENSEMBLE and p["line"] is not None]
    ensemble.sort(key=lambda p: (-abs(p["line_margin"]), p["player_lookup"], p["bookmaker"] or ""))
    by_player: dict[str, list[dict]] = {}
    for p in ensemble:
        by_player.setdefault(p["player_lookup"], []).append(p)
    best = list(by_player.values())[:count]  # dicts keep insertion order: largest edge first
    return [{**_edge(lines[0]), "player": names.get(lines[0]["player_lookup"], lines[0]["player_lookup"]),
             "other_lines": [_edge(p) for p in lines[1:]]} for lines in best]


def _edge(p: dict) -> dict:
    return {"line": p["line"], "line_source": p["line_source"], "bookmaker": p["bookmaker"],
            "predicted_points": p["predicted_points"], "edge": round(p["line_margin"], 1),
            "confidence": p["confidence_score"], "recommendation": p["recommendation"]}
