"""Benchmarks."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from tipoff.cli.common import (
    JsonOption,
    err,
    out,
    quiet_logs,
)


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures go to BENCHMARKS.md).")


@bench_app.command("features")
def bench_features(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    repeat: Annotated[int, typer.Option(help="Timed repetitions per size.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Time stage 4 for a 450-player slate and a 10× slate."""
    from tipoff.bench.predict import bench_features as run

    results = run(seed=seed, repeat=repeat, progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("slate", "players", "median ms", "best ms", "per player µs")
    for row in results["sizes"]:
        table.add_row(row["label"], str(row["players"]), f"{row['median_ms']:.1f}",
                      f"{row['best_ms']:.1f}", f"{row['per_player_us']:.0f}")
    out.print(table)


@bench_app.command("predict")
def bench_predict_command(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    store: Annotated[Optional[str], typer.Option(
        "--store", help="postgresql://… (with --bus nats://…): the scale-out benchmark with "
                        "real coordinator and worker processes.")] = None,
    bus: Annotated[Optional[str], typer.Option("--bus", help="nats://… for the scale-out run.")
                   ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (scale-out only).")] = 2,
    events: Annotated[int, typer.Option(
        help="Events timed for event → batch claimed (scale-out only).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Time stage 4 complete → all predictions durable: embedded by default (a full slate,
    2× players, 10× and 100× rows), or on PostgreSQL + NATS with --store and --bus."""
    if (store is None) != (bus is None):
        raise typer.BadParameter("the scale-out run needs both --store postgresql://… and "
                                 "--bus nats://…")
    if store is not None:
        _bench_scaleout(store, bus, workers, events, seed, as_json)
        return
    from tipoff.bench.predict import bench_predict

    with quiet_logs():
        results = bench_predict(seed=seed, progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("size", "slate", "ready", "predicted", "rows", "ms", "floor ms", "rows/s",
                  "peak RSS MiB",
                  title=f"stage 4 complete → predictions durable ({results['game_date']})")
    for row in results["sizes"]:
        table.add_row(row["label"], str(row["players_on_slate"]),
                      str(row["players_ready"]), str(row["players_predicted"]), f"{row['rows']:,}",
                      f"{row['elapsed_ms']:.0f}", f"{row['floor_ms']:.1f}",
                      f"{row['rows_per_second']:,}",
                      f"{row['peak_rss_mib']:.0f}")
    out.print(table)


def _bench_scaleout(store: str, bus: str, workers: int, events: int, seed: int,
                    as_json: bool) -> None:
    from tipoff.bench.scaleout import bench_scaleout

    with quiet_logs():
        results = bench_scaleout(store, bus, workers=workers, events=events, seed=seed,
                                 progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("lines/player", "ready", "predicted", "rows", "claimed ms", "durable ms",
                  "rows/s", title=f"stage 4 complete → predictions durable, "
                                  f"{results['workers']} worker processes")
    for row in results["sizes"]:
        table.add_row(str(row["lines_per_player"]), str(row["players_ready"]),
                      str(row["players_predicted"]), f"{row['rows']:,}",
                      f"{row['claimed_ms']:.0f}", f"{row['elapsed_ms']:.0f}",
                      f"{row['rows_per_second']:,}")
    out.print(table)
    claims = results["claim_latency_ms"]
    out.print(f"event → batch claimed over {claims['events']} events: p50 {claims['p50']} ms, "
              f"p95 {claims['p95']} ms, max {claims['max']} ms")


@bench_app.command("trigger")
def bench_trigger_command(
    events: Annotated[int, typer.Option(help="How many stage 4 events (one night each).")] = 100,
    players: Annotated[int, typer.Option(help="Ready players per night.")] = 450,
    as_json: JsonOption = False,
) -> None:
    """Event receipt → batch claimed (median, p95, max), embedded."""
    from tipoff.bench.predict import bench_trigger

    with quiet_logs():
        result = bench_trigger(events=events, players=players, progress=err)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(f"{result['events']} events, {result['players']} players each: event → claimed "
                  f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, "
                  f"max {result['max_ms']} ms")
