"""``tipoff demo``: one whole night, embedded, and what it printed."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from tipoff.cli.common import JsonOption, err, out, parse_date, progress_bar
from tipoff.cli.output import NONE, human

commands = typer.Typer()


@commands.command("demo")
def demo(
    workdir: Annotated[Optional[Path], typer.Option(
        help="Working folder, kept (default: a temporary folder, removed at the end).")] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help="Keep the temporary folder (its path is printed).")] = False,
    store: Annotated[Optional[str], typer.Option(
        "--store", help="Store URL (default: a SQLite file in the working folder).")] = None,
    game_date: Annotated[Optional[str], typer.Option(
        "--date", help="Game date of the synthetic season (default 2026-01-14).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    bus: Annotated[str, typer.Option(
        "--bus", help="memory:// (embedded), nats://HOST:PORT or pubsub://PROJECT for the same night "
                    "on NATS or Pub/Sub.")
    ] = "memory://",
    model_dir: Annotated[Optional[Path], typer.Option(
        "--model-dir", help="Use the model in this folder (trained into it when absent) instead "
                            "of the working folder's.")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Train the model again instead of using the user's model cache "
                           "($XDG_CACHE_HOME/tipoff, else ~/.cache/tipoff).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run one whole night embedded: league, model, stage 4, event, batch, report."""
    from tipoff.bootstrap import demo_wiring, model_cache_dir
    from tipoff.pipeline.demo import DEMO_DATE, DemoOptions, run_demo

    day = parse_date(game_date) if game_date else DEMO_DATE  # before any folder exists
    folder = workdir or Path(tempfile.mkdtemp(prefix="tipoff-demo-"))
    temporary = workdir is None and not keep
    try:
        options = DemoOptions(workdir=folder, store_url=store, bus_url=bus, seed=seed,
                              game_date=day)
        wiring = demo_wiring(folder, None if no_cache else model_cache_dir(), model_dir)
        with progress_bar("demo") as step:
            result = run_demo(options, wiring, step)
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    result["workdir"] = None if temporary else str(folder)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        print_demo(result)
    if result["batch_state"] != "complete" or result["coverage_pct"] < 95:
        raise typer.Exit(1)


def print_demo(result: dict) -> None:
    """The demo's report for people: what ran, counts that add up, rows, top edges."""
    out.print(f"[bold]tipoff demo — night of {result['game_date']}[/bold] "
              f"(batch {result['batch_state'] or 'not started'})", highlight=False)
    if not result.get("fresh_run", True):
        out.print(f"[yellow]already ran[/yellow] in this store at {human(result['recorded_at'])}: "
                  "these are the recorded figures, nothing was run now (a new --workdir, or "
                  "none, runs it again)", highlight=False)
    _print_timeline(result["timeline_ms"])
    _print_players(result)
    _print_rows(result)
    _print_edges(result["top_edges"])
    _print_where(result)


def _print_timeline(timeline: dict) -> None:
    steps = [f"{name.replace('_', ' ')} +{value:,.0f} ms" for name, value in timeline.items()
             if name != "stage4_complete" and value is not None]
    out.print("timeline from stage 4 complete: " + (", ".join(steps) or NONE), highlight=False)


def _print_players(result: dict) -> None:
    not_ready = result.get("players_not_ready", result["players_on_slate"] - result["players_ready"])
    out.print(f"players: {result['players_on_slate']} on the slate, {result['players_ready']} "
              f"production ready, {not_ready} not ready; of the ready: "
              f"{result['players_predicted']} predicted, {result['players_skipped']} skipped, "
              f"{result['players_failed']} failed — coverage "
              f"[bold]{human(result['coverage_pct'])}%[/bold]", highlight=False)
    if result["not_ready_reasons"]:
        out.print("not ready, by main reason (all reasons in --json): " + ", ".join(
            f"{escape(reason)} {count}" for reason, count in result["not_ready_reasons"].items()),
            highlight=False)
    if result["skip_reasons"]:
        out.print("skipped: " + ", ".join(f"{escape(str(reason))} {count}" for reason, count
                                          in result["skip_reasons"].items()), highlight=False)


def _print_rows(result: dict) -> None:
    rows = result["rows_by_system"]
    if not rows:
        out.print("prediction rows: none", highlight=False)
        return
    predicted = result["players_predicted"]
    counts = sorted(set(rows.values()))
    if len(counts) == 1:
        out.print(f"prediction rows: {counts[0]:,} per system = {predicted} players × their "
                  f"lines (one row per player and line; {len(rows)} systems, "
                  f"{sum(rows.values()):,} rows in all)", highlight=False)
        return
    systems = Table("system", "rows", title=f"prediction rows per system ({predicted} players × "
                                            "their lines)")
    for system, count in rows.items():
        systems.add_row(system, f"{count:,}")
    out.print(systems)


def _print_edges(edges: list[dict]) -> None:
    if not edges:
        return
    table = Table("player", "line", "source", "ensemble", "edge", "confidence", "pick",
                  title=f"the {len(edges)} players with the largest ensemble edge (best line each)")
    for edge in edges:
        source = edge["bookmaker"] or edge["line_source"]
        more = len(edge.get("other_lines", ()))
        table.add_row(edge["player"], f"{edge['line']:.1f}", source + (f" (+{more})" if more else ""),
                      f"{edge['predicted_points']:.1f}", f"{edge['edge']:+.1f}",
                      f"{edge['confidence']:.0f}", edge["recommendation"])
    out.print(table)


def _print_where(result: dict) -> None:
    model = {"cache": "from the model cache", "trained": "trained now",
             "existing": "already in its folder", "recorded": "as recorded"}
    source = model.get(result.get("model_source", ""), "")
    if result["workdir"] is None:
        out.print(f"model {source}; the temporary folder was removed (--keep or --workdir "
                  "keeps it)", highlight=False)
    else:
        out.print(f"folder: {result['workdir']}   store: {result['store_url']}   model "
                  f"{source}: {result['model_path']}", highlight=False)
