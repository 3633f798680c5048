"""Benchmarks behind ``tipoff bench``: measured on the synthetic league, reported as figures."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from tipoff.bootstrap import (
    embedded_night, log_alerts, memory_bus, model_store, open_bus, open_store, scaled_clock,
    system_clock,
)
from tipoff.domain.features import (
    DEFAULTS, FEATURE_INDEX, FEATURE_NAMES, FEATURE_VERSION, PROCESSOR,
)
from tipoff.pipeline.build_features import build_features
from tipoff.ports import RunRecord, Store


def busiest_date(games: pd.DataFrame) -> date:
    """The date with the most games in the middle third of the season (a full slate)."""
    dates = sorted(games["game_date"].unique())
    middle = games[games["game_date"].isin(dates[len(dates) // 3: 2 * len(dates) // 3])]
    return middle.groupby("game_date").size().idxmax()


def replicate(frames: dict[str, pd.DataFrame], copies: int) -> dict[str, pd.DataFrame]:
    """``copies`` disjoint copies of a league (teams, games and players suffixed)."""
    if copies == 1:
        return frames
    renamed = {name: [] for name in frames}
    for n in range(copies):
        suffix = "" if n == 0 else f"x{n}"
        for name, frame in frames.items():
            renamed[name].append(_suffixed(frame, suffix))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in renamed.items()}


def _suffixed(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
    if not suffix:
        return frame
    copy = frame.copy()
    for column in ("game_id", "team", "opponent", "home_team", "away_team", "player_lookup"):
        if column in copy.columns:
            copy[column] = copy[column].astype(str) + suffix
    if "player_name" in copy.columns:
        copy["player_name"] = copy["player_name"] + f" {suffix}"
    return copy


def _timed(action: Callable[[], object], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def bench_features(seed: int = 7, repeat: int = 5, progress=None) -> dict:
    """Stage 4 end to end (SQLite read → build → atomic replace → run record → publish)."""
    from tipoff.sim.league.season import generate_league

    clock = system_clock()
    league = generate_league("2025-26", seed)
    game_date = busiest_date(league["games"])
    sizes = []
    with tempfile.TemporaryDirectory() as folder:
        for label, copies in (("full slate", 1), ("10x slate", 10)):
            if progress is not None:
                progress.print(f"preparing {label} ({copies}× league)…")
            store = open_store(f"sqlite:///{Path(folder) / f'bench{copies}.db'}", clock)
            store.replace_analytics(replicate(league, copies))
            bus = open_bus("memory://", clock)
            summaries = []
            timings = _timed(lambda: summaries.append(
                build_features(store, bus, clock, game_date)), repeat)
            players = summaries[-1].players
            sizes.append({
                "label": label, "players": players, "median_ms": statistics.median(timings),
                "best_ms": min(timings), "per_player_us": statistics.median(timings) * 1000 / players,
            })
            store.close()
    return {"game_date": game_date.isoformat(), "seed": seed, "repeat": repeat, "sizes": sizes}


def _extra_lines(store: Store, game_date: date, per_player: int) -> int:
    """Price every player of the date at ``per_player`` extra lines (bookmakers bench1…)."""
    rows = [r for r in store.read_features(game_date, FEATURE_VERSION) if r["is_production_ready"]]
    captured = store.read_analytics("games", start=game_date,
                                    end=game_date + timedelta(days=1))["tipoff_utc"].min()
    lines = [{"game_date": game_date, "player_lookup": r["player_lookup"], "market": "points",
              "bookmaker": f"bench{n}", "line": round(r["features"][FEATURE_INDEX["points_avg_last_10"]]) + 0.5 + n,
              "over_price": -110, "under_price": -110,
              "captured_at": captured - timedelta(hours=3)}
             for r in rows for n in range(per_player)]
    store.replace_analytics({"prop_lines": pd.DataFrame(lines)})
    return len(lines)


PREDICT_SIZES = (  # (label, league copies, extra lines per ready player)
    ("1× slate", 1, 0), ("2× players", 2, 0), ("10× rows", 1, 10), ("100× rows", 1, 100))


def bench_predict(seed: int = 7, sizes=PREDICT_SIZES, progress=None) -> dict:
    """Stage 4 complete → every prediction durable, embedded (SQLite + in-process bus).

    "1× slate" is the busiest mid-season night with its sportsbook lines; "2× players" runs two
    disjoint copies of the league (about 400 ready players, the scale of a full 450-player
    night's ready set); "10× rows" and "100× rows" price every ready player at 10 and 100 extra
    lines, multiplying the rows each request writes. Peak RSS is the process's peak so far.
    """
    from tipoff.domain.systems import XGBOOST
    from tipoff.pipeline.train import train
    from tipoff.sim.league.season import generate_league

    league = generate_league("2025-26", seed)
    game_date = busiest_date(league["games"])
    results = []
    with tempfile.TemporaryDirectory() as folder:
        model_dir = Path(folder) / "model"
        for label, copies, extra_lines in sizes:
            if progress is not None:
                progress.print(f"predicting {game_date}: {label} …")
            store, clock = _night_store(Path(folder) / f"{label.split()[0]}.db", game_date)
            store.replace_analytics(replicate(league, copies))
            if not model_store(model_dir).exists(XGBOOST):
                train(store, model_store(model_dir), game_date - timedelta(days=1), clock,
                      seed=seed, max_nights=30)
            results.append({"label": label, **_timed_night(store, clock, game_date, model_dir,
                                                           extra_lines)})
            store.close()
    return {"game_date": game_date.isoformat(), "seed": seed, "sizes": results}


def _night_store(path: Path, game_date: date):
    clock = _night_clock(game_date)
    return open_store(f"sqlite:///{path}", clock), clock


def _night_clock(game_date: date):
    """A live clock starting at 00:30 PT on the game date, as the night would run."""
    from tipoff.domain.dates import pacific_instant

    return scaled_clock(pacific_instant(game_date, 0, 30))


def _timed_night(store: Store, clock, game_date: date, model_dir: Path, extra_lines: int) -> dict:
    """Stage 4, then time from its event to the last durable prediction."""
    import resource

    from tipoff.pipeline.runtime import load_model

    bus = memory_bus(clock)
    embedded_night(store, bus, clock, load_model(model_store(model_dir)))
    build_features(store, bus, clock, game_date)  # the event waits on the bus
    if extra_lines:
        _extra_lines(store, game_date, extra_lines)
    started = time.perf_counter()
    bus.join()
    elapsed_ms = (time.perf_counter() - started) * 1000
    batch = store.get_batch(game_date)
    rows = sum(store.count_predictions(game_date).values())
    return {
        "floor_ms": round(floor_ms(store, game_date, model_dir.parent / f"floor-{uuid.uuid4().hex}.db"), 1),
        "players_on_slate": batch.players_on_slate, "players_ready": batch.players_ready,
        "players_predicted": store.batch_progress(batch.batch_id).predicted, "rows": rows,
        "elapsed_ms": round(elapsed_ms, 1), "rows_per_second": round(rows / (elapsed_ms / 1000)),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "batch_state": batch.state,
    }


def floor_ms(store: Store, game_date: date, path: Path) -> float:
    """The floor a night's stage 5 is measured against: one SQLite transaction writing the
    same prediction rows (a plain table, no JSON codec), plus the five systems' arithmetic
    over the ready players' feature matrix in numpy."""
    import sqlite3

    import numpy as np

    predictions = store.read_predictions(game_date)
    features = [r["features"] for r in store.read_features(game_date, FEATURE_VERSION)
                if r["is_production_ready"]]
    names = [k for k in predictions[0] if k != "components"] + ["components"]
    values = [tuple(str(p[k]) for k in names) for p in predictions]
    connection = sqlite3.connect(path)
    connection.execute(f"CREATE TABLE IF NOT EXISTS p ({', '.join(names)}, "
                       "PRIMARY KEY (prediction_id))")
    started = time.perf_counter()
    with connection:
        connection.executemany(f"INSERT OR REPLACE INTO p VALUES ({', '.join('?' * len(names))})",
                               values)
    _systems_arithmetic(np.array(features, dtype=float))
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed


def _systems_arithmetic(x):
    """Five systems' worth of vector arithmetic: weighted averages, adjustments, clamps,
    confidences and an agreement-weighted ensemble, for every row at once."""
    import numpy as np

    l5, l10, season, std = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
    moving = 0.5 * l5 + 0.3 * l10 + 0.2 * season + 0.1 * x[:, 7] + 0.2 * x[:, 8]
    zones = season * (1 + 0.02 * x[:, 6]) + 0.1 * x[:, 7]
    similar = 0.6 * l5 + 0.4 * season + 0.05 * x[:, 11]
    boosted = 0.7 * l10 + 0.3 * season
    stack = np.clip(np.vstack([moving, zones, similar, boosted]), 0, 60)
    confidence = np.clip(85 - 2 * std[None, :], 0, 100) * np.ones_like(stack)
    ensemble = (stack * confidence).sum(axis=0) / confidence.sum(axis=0)
    return np.round(np.vstack([stack, ensemble]), 1), stack.std(axis=0)


def bench_trigger(events: int = 100, players: int = 450, progress=None) -> dict:
    """Event receipt → batch claimed, over ``events`` nights of ``players`` ready players each
    (embedded: SQLite + in-process bus; the fan-out after the claim is not included)."""
    from tipoff.pipeline.build_features import phase4_event
    from tipoff.pipeline.coordinator import Coordinator

    first = date(2026, 1, 1)
    latencies = []
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'trigger.db'}", system_clock())
        for n in range(events):
            day = first + timedelta(days=n)
            clock = _night_clock(day)
            _synthetic_phase4(store, day, players, clock.now())
            timed = _ClaimTimer(store)
            coordinator = Coordinator(timed, memory_bus(clock), clock,
                                      alerts=log_alerts(store, clock))
            event = phase4_event(store, day)
            timed.received = time.perf_counter()
            coordinator.on_phase4_completed(event)
            latencies.append(timed.claimed_ms)
            if progress is not None and (n + 1) % 20 == 0:
                progress.print(f"{n + 1}/{events} events")
        store.close()
    ordered = sorted(latencies)
    return {"events": events, "players": players,
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2)}


class _ClaimTimer:
    """The store, noting when the batch claim returns."""

    def __init__(self, store: Store) -> None:
        self._store, self.received, self.claimed_ms = store, 0.0, float("nan")

    def __getattr__(self, name):
        return getattr(self._store, name)

    def claim_batch(self, *args, **kwargs):
        result = self._store.claim_batch(*args, **kwargs)
        self.claimed_ms = (time.perf_counter() - self.received) * 1000
        return result


def _synthetic_phase4(store: Store, day: date, players: int, at) -> None:
    """A ready stage 4 result for ``day`` (plausible values; the claim only counts rows)."""
    vector = [DEFAULTS[name] for name in FEATURE_NAMES]
    rows = [stage4_row({"player_lookup": f"player{n:04d}", "player_name": f"Player {n}",
                        "team": "AAA", "opponent": "BBB", "is_home": True,
                        "game_id": f"G{n // 30}"}, day, vector, at)
            for n in range(players)]
    write_stage4(store, day, rows, at)


def stage4_row(player: dict, game_date: date, features: list[float], at: datetime,
               ready: bool = True) -> dict:
    """One plausible stage 4 row for ``player`` (lookup, name, team, opponent, venue, game)."""
    return {
        "player_lookup": player["player_lookup"], "game_date": game_date,
        "feature_version": FEATURE_VERSION, "game_id": player["game_id"],
        "player_name": player["player_name"], "team": player["team"],
        "opponent": player["opponent"], "is_home": player["is_home"], "days_rest": 1,
        "features": features, "feature_sources": ["computed"] * len(features),
        "quality_score": 100.0, "is_production_ready": ready,
        "data_quality_issues": [] if ready else ["completeness 5/10 below 90%"],
        "early_season_flag": False, "injury_status": "available",
        "data_source_summary": {"computed": len(features)}, "expected_games": 10,
        "actual_games": 10, "completeness_pct": 100.0, "feature_generated_at": at,
        "created_at": at, "content_hash": f"bench-{player['player_lookup']}"}


def write_stage4(store: Store, game_date: date, rows: list[dict], at: datetime) -> RunRecord:
    """Replace a date's feature rows and record the successful stage 4 run."""
    store.replace_features(game_date, FEATURE_VERSION, rows)
    ready = sum(r["is_production_ready"] for r in rows)
    run = RunRecord(run_id=f"phase4-bench-{game_date}-{uuid.uuid4().hex[:8]}", processor=PROCESSOR,
                    status="success", started_at=at - timedelta(seconds=1), finished_at=at,
                    game_date=game_date, counts={"players_processed": len(rows),
                                                 "players_ready": ready, "players_failed": 0})
    store.record_run(run)
    return run
