"""``tipoff bench predict`` on PostgreSQL and NATS: real processes and servers, 450 players.

The benchmark starts one ``tipoff serve --workers 0`` and ``workers`` ``tipoff worker`` processes
over the given store and bus, isolated in a schema and a stream prefix of its own (removed
afterwards unless the URLs name them). The night is synthetic and self-contained: 450 players
on 30 teams, 30 past games each (so the similarity system has history to match), ready stage 4
rows, sportsbook lines, and a small XGBoost model trained on synthetic rows.

- **stage 4 complete → predictions durable**: from publishing ``phase4_complete`` until the
  store shows the batch complete (every row written, every result counted), with 1, 10 and 100
  lines per player (rows ×1, ×10, ×100), one night each.
- **event → batch claimed**: over ``events`` more nights, one at a time on an idle system (the
  next event waits for the previous batch to finish): from publishing the event until the
  batch row is visible in the store. Those nights have 450 players of whom 100 are ready (the
  readiness minimum), so the claim reads a full slate but each batch stays small.

Instants are read from ``time.perf_counter`` in this process only: the processes' clocks are
never compared.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import numpy as np
import pandas as pd

from tipoff.bootstrap import discard_bus_streams, discard_store_schema, model_store, open_bus, open_store
from tipoff.domain import batches as b
from tipoff.domain.dates import pacific_instant
from tipoff.domain.features import DEFAULTS, FEATURE_NAMES
from tipoff.domain.messages import PHASE4_TOPIC
from tipoff.errors import ConfigurationError
from tipoff.bench.predict import stage4_row, write_stage4
from tipoff.pipeline.build_features import event_for
from tipoff.ports import Bus, RunRecord, Store

BENCH_DATE = date(2026, 1, 15)
TEAMS, ROSTER, HISTORY_GAMES = 30, 15, 30
CLAIM_READY = 100  # ready players on the claim-latency nights: the minimum of a full slate
LINES = (1, 10, 100)
DEADLINE = timedelta(minutes=10)


# --- the synthetic night -------------------------------------------------------------------------


def synthetic_players(seed: int) -> list[dict]:
    """450 players on 30 teams; tonight team 2k hosts team 2k+1."""
    rng = np.random.default_rng(seed)
    players = []
    for n in range(TEAMS * ROSTER):
        team = n // ROSTER
        mean = float(rng.uniform(4, 30))
        players.append({"player_lookup": f"bench{n:05d}", "player_name": f"Bench Player {n}",
                        "team": _team(team), "opponent": _team(team ^ 1), "is_home": team % 2 == 0,
                        "game_id": f"BN-{team // 2:02d}", "mean": mean, "std": max(2.0, mean / 4)})
    return players


def _team(n: int) -> str:
    return f"T{n:02d}"


def history_frames(players: list[dict], game_date: date, seed: int) -> dict[str, pd.DataFrame]:
    """Every team's last 30 games (one every other day) as player logs and team stats."""
    rng = np.random.default_rng(seed + 1)
    roster = {}
    for player in players:
        roster.setdefault(player["team"], []).append(player)
    logs, stats = [], []
    for k in range(1, HISTORY_GAMES + 1):
        day = game_date - timedelta(days=2 * k)
        for j, (home, away) in enumerate(_pairings(k)):
            game_id = f"BH{k:02d}-{j:02d}"
            home_won = bool(rng.random() < 0.5)
            for team, opponent, won in ((home, away, home_won), (away, home, not home_won)):
                stats.append({"game_id": game_id, "team": team, "game_date": day,
                              "pace": float(rng.uniform(96, 104)),
                              "off_rating": float(rng.uniform(106, 120)),
                              "def_rating": float(rng.uniform(106, 120)), "won": won})
                logs.extend(_log(game_id, day, p, opponent, team == home, rng)
                            for p in roster[team])
    return {"player_game_logs": pd.DataFrame(logs), "team_game_stats": pd.DataFrame(stats)}


def _pairings(k: int) -> list[tuple[str, str]]:
    """Round k of a round robin (circle method): 15 games, every team once."""
    others = list(range(1, TEAMS))
    turn = k % len(others)
    lineup = [0, *others[turn:], *others[:turn]]
    return [(_team(lineup[j]), _team(lineup[TEAMS - 1 - j])) for j in range(TEAMS // 2)]


def _log(game_id: str, day: date, player: dict, opponent: str, home: bool, rng) -> dict:
    points = max(0, round(float(rng.normal(player["mean"], player["std"]))))
    fga = points // 2 + 3
    return {"game_id": game_id, "game_date": day, "player_lookup": player["player_lookup"],
            "player_name": player["player_name"], "team": player["team"], "opponent": opponent,
            "is_home": home, "started": True, "minutes": 30.0, "points": points, "fga": fga,
            "fgm": min(fga, points // 2), "fg3a": 3, "fg3m": 1, "fta": 2, "ftm": 1,
            "paint_fga": None, "mid_fga": None, "rebounds": 4, "assists": 3}


def feature_rows(players: list[dict], logs: pd.DataFrame, game_date: date, at: datetime,
                 ready: int | None = None) -> list[dict]:
    """Stage 4 rows for ``game_date``: features from each player's logs; the first ``ready``
    players (all by default) production ready."""
    points = logs.sort_values("game_date", ascending=False).groupby("player_lookup")["points"]
    recent = {lookup: list(series.astype(float)) for lookup, series in points}
    rows = []
    for n, player in enumerate(players):
        games = recent[player["player_lookup"]]
        is_ready = ready is None or n < ready
        values = {**DEFAULTS, "points_avg_last_5": np.mean(games[:5]),
                  "points_avg_last_10": np.mean(games[:10]), "points_avg_season": np.mean(games),
                  "points_std_last_10": np.std(games[:10]), "games_in_last_7_days": 3,
                  "home_away": 1.0 if player["is_home"] else 0.0}
        rows.append(stage4_row(player, game_date, [round(float(values[name]), 3)
                                                   for name in FEATURE_NAMES], at, is_ready))
    return rows


def lines_frame(players: list[dict], game_date: date, per_player: int) -> pd.DataFrame:
    """``per_player`` sportsbook lines for every player (bookmakers bench0…), 0.5 apart."""
    captured = pacific_instant(game_date, 0, 0) - timedelta(hours=3)
    return pd.DataFrame([
        {"game_date": game_date, "player_lookup": p["player_lookup"], "market": "points",
         "bookmaker": f"bench{n}", "line": round(p["mean"]) + 0.5 + n * 0.5, "over_price": -110,
         "under_price": -110, "captured_at": captured}
        for p in players for n in range(per_player)])


def train_bench_model(folder: Path, game_date: date, seed: int) -> str:
    """A small XGBoost model (points ≈ the recent averages) saved where workers load it."""
    from tipoff.domain.systems import XGBOOST, train_model
    from tipoff.domain.systems.model_inputs import MODEL_INPUT_NAMES

    rng = np.random.default_rng(seed)
    names = list(MODEL_INPUT_NAMES)  # the role inputs unknown: the bench's players have no logs
    matrix = np.tile([float(DEFAULTS.get(n, np.nan)) for n in names], (2000, 1))
    averages = rng.uniform(4, 30, len(matrix))
    for name in ("points_avg_last_5", "points_avg_last_10", "points_avg_season"):
        matrix[:, names.index(name)] = averages + rng.normal(0, 1, len(matrix))
    target = averages + rng.normal(0, 3, len(matrix))
    minutes = np.clip(8 + 0.9 * averages + rng.normal(0, 3, len(matrix)), 1, 48)
    artifact = train_model(matrix, target, minutes, trained_through=game_date - timedelta(days=1),
                           seed=seed)
    return model_store(folder).save(artifact, XGBOOST)


# --- processes ---------------------------------------------------------------------------------


class _Process:
    """A ``python -m tipoff`` subprocess with its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.log = name, folder / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen([sys.executable, "-m", "tipoff", *args], env=env,
                                          stdout=out, stderr=subprocess.STDOUT)

    def check(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _start(store_url: str, bus_url: str, folder: Path, workers: int,
           concurrency: int) -> list[_Process]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    env.update(TIPOFF_MODEL_DIR=str(folder), TIPOFF_LOG_LEVEL="WARNING")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    common = ["--store", store_url, "--bus", bus_url]
    start_at = pacific_instant(BENCH_DATE, 0, 30).isoformat()
    processes = [_Process("coordinator", ["serve", "--port", str(port), "--workers", "0",
                                          "--no-scheduler", "--start-at", start_at, *common],
                          env, folder)]
    worker = ["worker", "--concurrency", str(concurrency), *common]
    processes += [_Process(f"worker-{n + 1}", worker, env, folder) for n in range(workers)]
    try:
        _wait(lambda: _healthy(processes[0], port), timedelta(seconds=60), "coordinator /health")
        for process in processes[1:]:
            _wait(lambda p=process: _printed(p, "worker running"), timedelta(seconds=60),
                  process.name)
    except BaseException:
        _stop(processes)
        raise
    return processes


def _healthy(process: _Process, port: int) -> bool:
    process.check()
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _printed(process: _Process, text: str) -> bool:
    process.check()
    return text in process.log.read_text(errors="replace")


def _stop(processes: list[_Process]) -> None:
    for process in reversed(processes):
        process.stop()


def _wait(predicate: Callable[[], object], timeout: timedelta, what: str,
          interval: float = 0.05) -> float:
    """Poll until ``predicate()`` holds; return the seconds it took."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout.total_seconds():
            raise TimeoutError(f"benchmark: {what} not reached within {timeout}")
        time.sleep(interval)
    return time.perf_counter() - started


# --- measurements ------------------------------------------------------------------------------


def _run_night(store: Store, bus: Bus, run: RunRecord) -> tuple[float, float]:
    """Publish a night's ``phase4_complete``; return seconds until claimed and until finished."""
    event = event_for(run)
    started = time.perf_counter()
    bus.publish(PHASE4_TOPIC, event.to_data(), message_id=run.run_id)
    _wait(lambda: store.get_batch(run.game_date) is not None, DEADLINE, "batch claimed",
          interval=0.002)
    claimed = time.perf_counter() - started
    _wait(lambda: store.get_batch(run.game_date).state != b.RUNNING, DEADLINE, "batch finished",
          interval=0.01)
    return claimed, time.perf_counter() - started


def _size(store: Store, bus: Bus, run: RunRecord, lines: int) -> dict:
    claimed, elapsed = _run_night(store, bus, run)
    batch = store.get_batch(run.game_date)
    progress = store.batch_progress(batch.batch_id)
    rows = sum(store.count_predictions(run.game_date).values())
    return {"multiplier": lines, "lines_per_player": lines, "players_ready": batch.players_ready,
            "players_predicted": progress.predicted, "rows": rows,
            "claimed_ms": round(claimed * 1000, 1), "elapsed_ms": round(elapsed * 1000, 1),
            "rows_per_second": round(rows / elapsed), "batch_state": batch.state}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def bench_scaleout(store_url: str, bus_url: str, *, workers: int = 2, concurrency: int = 2,
                   events: int = 100, seed: int = 7, progress=None) -> dict:
    """Run the scale-out benchmark (see the module docstring) and return its figures."""
    if not store_url.startswith(("postgresql:", "postgres:")) or not bus_url.startswith("nats:"):
        raise ConfigurationError("the scale-out benchmark needs --store postgresql://… and "
                                 "--bus nats://…")
    say = progress.print if progress is not None else (lambda *_: None)
    store_url, schema = _isolated(store_url, "schema", f"bench_{uuid.uuid4().hex[:10]}")
    bus_url, prefix = _isolated(bus_url, "prefix", f"BENCH{uuid.uuid4().hex[:10].upper()}")
    clock = system_clock()
    folder = Path(tempfile.mkdtemp(prefix="tipoff-bench-"))
    store, bus = open_store(store_url, clock), None
    try:
        bus = open_bus(bus_url, clock)
        say(f"writing a 450-player night, {LINES[-1]} lines per player at most, and "
            f"{events} claim-latency nights…")
        runs = _prepare(store, folder, events, seed)
        say(f"starting 1 coordinator and {workers} workers…")
        processes = _start(store_url, bus_url, folder, workers, concurrency)
        try:
            sizes = []
            for lines, run in zip(LINES, runs[:len(LINES)], strict=True):
                say(f"night with {lines} line(s) per player…")
                sizes.append(_size(store, bus, run, lines))
            say(f"{events} events, one at a time…")
            claims = [_run_night(store, bus, run)[0] * 1000 for run in runs[len(LINES):]]
        finally:
            _stop(processes)
    finally:
        if bus is not None:
            bus.close()
        store.close()
        _clean(store_url, schema, bus_url, prefix)
        shutil.rmtree(folder, ignore_errors=True)
    return {"game_date": BENCH_DATE.isoformat(), "players": TEAMS * ROSTER, "workers": workers,
            "concurrency": concurrency, "machine": _machine(), "sizes": sizes,
            "claim_latency_ms": {"events": len(claims), "p50": round(statistics.median(claims), 1),
                                 "p95": round(_percentile(claims, 0.95), 1),
                                 "max": round(max(claims), 1)} if claims else {}}


def _prepare(store: Store, folder: Path, events: int, seed: int) -> list[RunRecord]:
    """Write every night the benchmark runs; return their stage 4 runs in running order."""
    at = pacific_instant(BENCH_DATE, 0, 0)
    players = synthetic_players(seed)
    history = history_frames(players, BENCH_DATE, seed)
    store.replace_analytics(history)
    train_bench_model(folder, BENCH_DATE, seed)
    runs = []
    for n, lines in enumerate(LINES):
        day = BENCH_DATE + timedelta(days=n)
        store.replace_analytics({"prop_lines": lines_frame(players, day, lines)})
        rows = feature_rows(players, history["player_game_logs"], day, at)
        runs.append(write_stage4(store, day, rows, at))
    for n in range(events):
        day = BENCH_DATE + timedelta(days=len(LINES) + n)
        rows = feature_rows(players, history["player_game_logs"], day, at, ready=CLAIM_READY)
        runs.append(write_stage4(store, day, rows, at))
    return runs


def _isolated(url: str, option: str, fresh: str) -> tuple[str, str | None]:
    """``url`` with ``option`` set to ``fresh`` unless it names one; return it and what the
    benchmark created (None: the caller's own, left in place)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if option in query:
        return url, None
    query[option] = fresh
    return urlunsplit(parts._replace(query=urlencode(query))), fresh


def _clean(store_url: str, schema: str | None, bus_url: str, prefix: str | None) -> None:
    """Drop the schema and streams the benchmark created."""
    if schema is not None:
        discard_store_schema(store_url, schema)
    if prefix is not None:
        discard_bus_streams(bus_url, prefix)


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}
