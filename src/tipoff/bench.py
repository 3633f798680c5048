"""Benchmarks behind ``tipoff bench``: measured on the synthetic league, reported as figures."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from tipoff.adapters.clock import SystemClock
from tipoff.bootstrap import open_bus, open_store
from tipoff.pipeline.build_features import build_features


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
    from tipoff.sim.league import generate_league

    clock = SystemClock()
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
