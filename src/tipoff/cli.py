"""The ``tipoff`` command line: one small function per subcommand."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from tipoff.config import Settings
from tipoff.errors import TipoffError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="tipoff: NBA feature store → player points predictions, every night.")
league_app = typer.Typer(no_args_is_help=True, help="The built-in synthetic league.")
import_app = typer.Typer(no_args_is_help=True, help="Load real data into the store.")
features_app = typer.Typer(no_args_is_help=True, help="Stage 4: the feature store.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures go to BENCHMARKS.md).")
config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
app.add_typer(league_app, name="league")
app.add_typer(import_app, name="import")
app.add_typer(features_app, name="features")
app.add_typer(bench_app, name="bench")
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True)

StoreOption = Annotated[Optional[str], typer.Option(
    "--store", help="Store URL (default: $TIPOFF_STORE_URL, else sqlite:///./tipoff.db).")]
DateOption = Annotated[str, typer.Option("--date", help="Game date (America/New_York), YYYY-MM-DD.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def settings(store: str | None = None) -> Settings:
    """The effective settings: environment, then command-line overrides."""
    return Settings.from_mapping(os.environ, store_url=store)


def clock():
    from tipoff.adapters.clock import SystemClock

    return SystemClock()


def open_store(store: str | None):
    from tipoff.bootstrap import open_store as _open

    return _open(settings(store).store_url, clock())


def parse_date(text: str) -> date:
    from tipoff.domain.dates import parse_game_date

    try:
        return parse_game_date(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@league_app.command("generate")
def league_generate(
    season: Annotated[str, typer.Option(help="Season YYYY-YY.")] = "2025-26",
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same league).")] = 7,
    until: Annotated[Optional[str], typer.Option(help="Only results before this date.")] = None,
    store: StoreOption = None,
) -> None:
    """Generate a deterministic synthetic season into the store."""
    from tipoff.pipeline.load_data import generate_league_into

    with err.status(f"generating season {season} (seed {seed})…"):
        written = generate_league_into(open_store(store), season, seed,
                                       parse_date(until) if until else None)
    _print_counts(f"synthetic league {season}, seed {seed}", written)


@import_app.command("boxscores")
def import_boxscores(
    files: Annotated[list[Path], typer.Argument(help="player_box_*.csv files.")],
    tipoffs: Annotated[Optional[Path], typer.Option(help="game_tipoff_times_et.csv")] = None,
    store: StoreOption = None,
) -> None:
    """Import real box scores; bad rows are reported with their line numbers and skipped."""
    from tipoff.pipeline.load_data import import_boxscores_into

    with err.status("importing box scores…"):
        report = import_boxscores_into(open_store(store), files, tipoffs)
    _print_problems(report.problems)
    _print_counts(f"imported {report.rows_read} rows", report.written)


@import_app.command("lines")
def import_lines(
    file: Annotated[Path, typer.Argument(help="Points lines CSV.")],
    store: StoreOption = None,
) -> None:
    """Import sportsbook points lines (players matched by player_lookup)."""
    from tipoff.pipeline.load_data import import_lines_into

    report = import_lines_into(open_store(store), file)
    _print_problems(report.problems)
    _print_counts(f"imported {report.rows_read} rows", report.written)


@features_app.command("build")
def features_build(game_date: DateOption, as_json: JsonOption = False,
                   store: StoreOption = None) -> None:
    """Build stage 4 for a date, record the run and publish phase4_complete."""
    from tipoff.pipeline.build_features import build_features
    from tipoff.bootstrap import open_bus

    the_clock = clock()
    summary = build_features(open_store(store), open_bus(settings(store).bus_url, the_clock),
                             the_clock, parse_date(game_date))
    if as_json:
        out.print_json(json.dumps(summary.to_dict()))
    elif summary.players == 0:
        out.print(summary.message)
    else:
        out.print(f"stage 4 for {summary.game_date}: {summary.players} players, "
                  f"{summary.ready} production ready, average quality "
                  f"{summary.average_quality}, {summary.duration_ms:.0f} ms, "
                  f"event {'published' if summary.published else 'NOT published'}")


@bench_app.command("features")
def bench_features(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    repeat: Annotated[int, typer.Option(help="Timed repetitions per size.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Time stage 4 for a 450-player slate and a 10× slate."""
    from tipoff.bench import bench_features as run

    results = run(seed=seed, repeat=repeat, progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("slate", "players", "median ms", "best ms", "per player µs")
    for row in results["sizes"]:
        table.add_row(row["label"], str(row["players"]), f"{row['median_ms']:.1f}",
                      f"{row['best_ms']:.1f}", f"{row['per_player_us']:.0f}")
    out.print(table)


@app.command("demo")
def demo(
    workdir: Annotated[Optional[Path], typer.Option(
        help="Working folder (default: a fresh temporary folder).")] = None,
    store: Annotated[Optional[str], typer.Option(
        "--store", help="Store URL (default: a SQLite file in the working folder).")] = None,
    game_date: Annotated[Optional[str], typer.Option(
        "--date", help="Game date of the synthetic season (default 2026-01-14).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Run one whole night embedded: league, model, stage 4, event, batch, report."""
    import tempfile

    from tipoff.pipeline.demo import DEMO_DATE, DemoOptions, run_demo

    folder = workdir or Path(tempfile.mkdtemp(prefix="tipoff-demo-"))
    options = DemoOptions(workdir=folder, store_url=store, seed=seed,
                          game_date=parse_date(game_date) if game_date else DEMO_DATE)
    with _quiet_logs(), err.status("starting…") as status:
        result = run_demo(options, lambda n, total, label: status.update(f"[{n}/{total}] {label}"))
    if as_json:
        out.print_json(json.dumps(result))
    else:
        _print_demo(result)
    if result["batch_state"] != "complete" or result["coverage_pct"] < 95:
        raise typer.Exit(1)


@app.command("train")
def train_command(
    through: Annotated[str, typer.Option(help="Last game date the model may learn from.")],
    model_dir: Annotated[Optional[Path], typer.Option(
        help="Where to save the model (default: $TIPOFF_MODEL_DIR, else ./models).")] = None,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 7,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train the XGBoost model and the ensemble weights on stage 4 rows of past nights."""
    from tipoff.pipeline.runtime import MODEL_FILE
    from tipoff.pipeline.train import train

    folder = model_dir or settings(store).model_dir
    with _progress("training") as step:
        report = train(open_store(store), folder / MODEL_FILE, parse_date(through), clock(),
                       seed=seed, progress=step)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    metrics = report.artifact.metrics
    out.print(f"model {report.artifact.model_version} saved to {report.path}")
    out.print(f"{report.rows:,} rows from {report.nights} nights; validation MAE "
              f"{metrics['validation_mae']:.2f} vs naive blend {metrics['baseline_validation_mae']:.2f}")
    out.print(f"ensemble weights: {report.artifact.ensemble_weights}")


@bench_app.command("predict")
def bench_predict_command(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Time stage 4 complete → all predictions durable, at 1×, 10× and 100× rows."""
    from tipoff.bench import bench_predict

    with _quiet_logs():
        results = bench_predict(seed=seed, progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("size", "slate", "ready", "predicted", "rows", "ms", "rows/s", "peak RSS MiB",
                  title=f"stage 4 complete → predictions durable ({results['game_date']})")
    for row in results["sizes"]:
        table.add_row(f"{row['multiplier']}×", str(row["players_on_slate"]),
                      str(row["players_ready"]), str(row["players_predicted"]), f"{row['rows']:,}",
                      f"{row['elapsed_ms']:.0f}", f"{row['rows_per_second']:,}",
                      f"{row['peak_rss_mib']:.0f}")
    out.print(table)


@config_app.command("show")
def config_show(store: StoreOption = None) -> None:
    """Print the effective configuration, secrets masked."""
    for key, value in settings(store).masked().items():
        out.print(f"{key}={value}")


def _print_demo(result: dict) -> None:
    timeline = result["timeline_ms"]
    out.print(f"[bold]tipoff demo — night of {result['game_date']}[/bold] "
              f"(batch {result['batch_id']}, {result['batch_state']})")
    out.print("timeline from stage 4 complete: " + ", ".join(
        f"{name.replace('_', ' ')} +{value:.0f} ms" for name, value in timeline.items()
        if name != "stage4_complete" and value is not None))
    out.print(f"players on slate {result['players_on_slate']}, production ready "
              f"{result['players_ready']}, predicted {result['players_predicted']}, skipped "
              f"{result['players_skipped']}, failed {result['players_failed']} — coverage "
              f"[bold]{result['coverage_pct']}%[/bold]")
    for reason, count in {**result["not_ready_reasons"], **result["skip_reasons"]}.items():
        out.print(f"  not predicted: {reason} ×{count}")
    systems = Table("system", "rows", title="rows per system")
    for system, count in result["rows_by_system"].items():
        systems.add_row(system, str(count))
    out.print(systems)
    edges = Table("player", "line", "source", "ensemble", "confidence", "pick",
                  title="ten largest edges (ensemble)")
    for edge in result["top_edges"]:
        source = edge["bookmaker"] or edge["line_source"]
        edges.add_row(edge["player"], f"{edge['line']:.1f}", source,
                      f"{edge['predicted_points']:.1f}", f"{edge['confidence']:.0f}",
                      edge["recommendation"])
    out.print(edges)
    out.print(f"store: {result['store_url']}   model: {result['model_path']}")


@contextmanager
def _progress(title: str):
    """A Rich progress bar; yields the ``(done, total, label)`` callback pipelines accept."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with _quiet_logs(), Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(title, total=None)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{title}: {label}")

        yield step


@contextmanager
def _quiet_logs():
    """Only warnings and errors on stderr while a progress display owns the terminal."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    try:
        yield
    finally:
        structlog.reset_defaults()


def _print_counts(title: str, written: dict[str, int]) -> None:
    table = Table("table", "rows", title=title)
    for name, count in written.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


def _print_problems(problems) -> None:
    for problem in problems[:50]:
        err.print(f"[yellow]skipped[/yellow] {problem.file}:{problem.line}: {problem.message}")
    if len(problems) > 50:
        err.print(f"… and {len(problems) - 50} more skipped rows")


def main() -> None:
    """Entry point: a TipoffError becomes a one-line message and exit code 1, not a traceback."""
    try:
        app()
    except TipoffError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from None
