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

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
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


BusOption = Annotated[Optional[str], typer.Option(
    "--bus", help="Bus URL (default: $TIPOFF_BUS_URL, else memory://): memory:// or nats://HOST:PORT.")]


def settings(store: str | None = None, bus: str | None = None) -> Settings:
    """The effective settings: environment, then command-line overrides."""
    return Settings.from_mapping(os.environ, store_url=store, bus_url=bus)


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
    from tipoff.bootstrap import open_bus
    from tipoff.pipeline.alerting import AlertDispatcher
    from tipoff.pipeline.build_features import build_features

    the_clock, config = clock(), settings(store)
    the_store = open_store(store)
    summary = build_features(the_store, open_bus(config.bus_url, the_clock), the_clock,
                             parse_date(game_date),
                             alerts=AlertDispatcher.from_settings(config, the_store, the_clock))
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
    bus: Annotated[str, typer.Option(
        "--bus", help="memory:// (embedded) or nats://HOST:PORT for the same night on NATS.")
    ] = "memory://",
    as_json: JsonOption = False,
) -> None:
    """Run one whole night embedded: league, model, stage 4, event, batch, report."""
    import tempfile

    from tipoff.pipeline.demo import DEMO_DATE, DemoOptions, run_demo

    folder = workdir or Path(tempfile.mkdtemp(prefix="tipoff-demo-"))
    options = DemoOptions(workdir=folder, store_url=store, bus_url=bus, seed=seed,
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


@app.command("backtest")
def backtest_command(
    start_from: Annotated[str, typer.Option("--from", help="First night to replay.")],
    to: Annotated[str, typer.Option("--to", help="Last night to replay (inclusive).")],
    train_through: Annotated[Optional[str], typer.Option(
        help="Train the model on nights through this date (default: the day before --from).")
    ] = None,
    report: Annotated[Optional[Path], typer.Option(help="Also write the report to this JSON file.")
                      ] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model file to (re)use; trained when absent or trained through another date.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 7,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay past nights (stage 4, then the five systems) and score them against what happened."""
    from tipoff.pipeline.backtest import run_backtest

    with _progress("backtest") as step:
        result = run_backtest(open_store(store), parse_date(start_from), parse_date(to), clock(),
                              train_through=parse_date(train_through) if train_through else None,
                              model_path=model, seed=seed, progress=step)
    if report is not None:
        report.write_text(json.dumps(result, indent=2, default=str))
    if as_json:
        out.print_json(json.dumps(result, default=str))
        return
    _print_backtest(result)


def _print_backtest(result: dict) -> None:
    table = Table("system", "rows", "MAE", "RMSE", "≤3 %", "≤5 %", "picks", "hit rate %",
                  title=f"backtest {result['from']} … {result['to']} "
                        f"(model trained through {result['train_through']})")
    for system, row in result["systems"].items():
        table.add_row(system, str(row["rows"]), _num(row["mae"]), _num(row["rmse"]),
                      _num(row["within_3_pct"]), _num(row["within_5_pct"]),
                      str(row.get("picks", "")), _num(row.get("hit_rate_pct")))
    out.print(table)
    versus = result["ensemble_vs_blend"]
    out.print(f"ensemble MAE {_num(versus['ensemble_mae'])} vs naive blend "
              f"{_num(versus['blend_mae'])}: {_num(versus['improvement'])} points "
              f"({_num(versus['improvement_pct'])}%) better")


def _num(value) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


@bench_app.command("predict")
def bench_predict_command(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Time stage 4 complete → all predictions durable: a full slate, 2× players, 10× and 100×
    rows."""
    from tipoff.bench import bench_predict

    with _quiet_logs():
        results = bench_predict(seed=seed, progress=err)
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("size", "slate", "ready", "predicted", "rows", "ms", "rows/s", "peak RSS MiB",
                  title=f"stage 4 complete → predictions durable ({results['game_date']})")
    for row in results["sizes"]:
        table.add_row(row["label"], str(row["players_on_slate"]),
                      str(row["players_ready"]), str(row["players_predicted"]), f"{row['rows']:,}",
                      f"{row['elapsed_ms']:.0f}", f"{row['rows_per_second']:,}",
                      f"{row['peak_rss_mib']:.0f}")
    out.print(table)


UrlOption = Annotated[Optional[str], typer.Option(
    "--url", help="A running coordinator (e.g. http://127.0.0.1:8080); default: act on the store "
                  "directly (with the in-process bus, predictions run in this process).")]
OptionalDate = Annotated[Optional[str], typer.Option(
    "--date", help="Game date (America/New_York); default: today ET.")]


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(
        help="In-process prediction workers (0 when workers run as separate processes).")] = 1,
    scheduler: Annotated[bool, typer.Option(
        "--scheduler/--no-scheduler", help="Run the 06:00–07:00 PT jobs and the wait poll.")] = True,
    start_at: Annotated[Optional[str], typer.Option(
        help="Rehearsal: start the clock at this ISO-8601 instant (with offset).")] = None,
    speed: Annotated[float, typer.Option(help="Rehearsal clock speed (× real time).")] = 1.0,
    store: StoreOption = None,
    bus: BusOption = None,
) -> None:
    """Run the coordinator HTTP service (with the scheduler and in-process workers)."""
    import uvicorn

    from tipoff.services.http import create_app
    from tipoff.services.runtime import build_services

    services = build_services(settings(store, bus), _service_clock(start_at, speed),
                              workers=workers, with_scheduler=scheduler)
    services.start()
    try:
        uvicorn.run(create_app(services), host=host, port=port, log_level="info", lifespan="off")
    finally:
        services.stop()


@app.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(help="Competing workers in this process.")] = 2,
    store: StoreOption = None,
    bus: BusOption = None,
) -> None:
    """Run prediction workers only (the coordinator runs elsewhere: `tipoff serve --workers 0`).

    SIGTERM / Ctrl-C stop fetching; in-flight messages finish or are redelivered elsewhere.
    """
    import signal
    import threading

    from tipoff.services.runtime import build_worker_process

    process = build_worker_process(settings(store, bus), clock(), concurrency=concurrency)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    process.start()
    err.print(f"worker running: {concurrency} workers on {process.bus!r}; SIGTERM to stop")
    stop.wait()
    process.stop()


@app.command("backfill")
def backfill(
    start_from: Annotated[str, typer.Option("--from", help="First game date.")],
    to: Annotated[str, typer.Option("--to", help="Last game date (inclusive).")],
    force: Annotated[bool, typer.Option(help="Re-predict dates that already have a batch.")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run stage 4 and the predictions for past dates (events for past dates never do)."""
    from tipoff.pipeline.backfill import backfill as run

    with _direct(store) as services, _progress("backfill") as step:
        results = run(services, parse_date(start_from), parse_date(to), force=force, progress=step,
                      settle=lambda: _settle(services))
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("date", "players", "ready", "decision", "coverage %")
    for row in results:
        table.add_row(row["game_date"], str(row["players"]), str(row["ready"]), row["decision"],
                      str(row["coverage_pct"]))
    out.print(table)


def _service_clock(start_at: str | None, speed: float):
    from datetime import datetime

    from tipoff.adapters.clock import ScaledClock

    if start_at is None:
        if speed != 1.0:
            raise typer.BadParameter("--speed needs --start-at")
        return clock()
    try:
        start = datetime.fromisoformat(start_at)
    except ValueError as exc:
        raise typer.BadParameter(f"invalid --start-at {start_at!r}: {exc}") from exc
    if start.tzinfo is None:
        raise typer.BadParameter("--start-at needs a UTC offset, e.g. 2026-01-15T00:30:00-08:00")
    return ScaledClock(start, speed, clock())


@app.command("trigger")
def trigger(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
            as_json: JsonOption = False) -> None:
    """Publish stage 4's phase4_complete for a date, as the feature store would."""
    from tipoff.pipeline.build_features import phase4_event

    with _direct(store) as services:
        day = _day(game_date, services.clock)
        event = phase4_event(services.store, day)
        if url:
            _answer(*_client(url).trigger(event.to_data()), as_json)
            return
        from tipoff.domain.messages import PHASE4_TOPIC

        services.bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
        _settle(services)
        _answer(200, services.watch.status(day), as_json)


@app.command("start")
def start(game_date: OptionalDate = None,
          force: Annotated[bool, typer.Option(help="Re-predict even a complete batch.")] = False,
          wait: Annotated[bool, typer.Option(
              "--wait/--no-wait", help="Wait (durably) for stage 4 when it is not ready.")] = True,
          url: UrlOption = None, store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Backup / manual start of a date's batch."""
    with _direct(store) as services:
        day = _day(game_date, services.clock)
        if url:
            _answer(*_client(url).start(day, force=force, wait=wait), as_json)
            return
        decision = services.coordinator.start(day, "manual", force=force, wait_for_phase4=wait)
        _settle(services)
        _answer(200, {**decision.to_dict(), "status": services.watch.status(day)}, as_json)


@app.command("retry")
def retry(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
          as_json: JsonOption = False) -> None:
    """Predict only the ready players that have no prediction yet."""
    with _direct(store) as services:
        day = _day(game_date, services.clock)
        if url:
            _answer(*_client(url).retry(day), as_json)
            return
        decision = services.coordinator.retry(day)
        _settle(services)
        _answer(200, {**decision.to_dict(), "status": services.watch.status(day)}, as_json)


@app.command("status")
def status(game_date: OptionalDate = None,
           check: Annotated[bool, typer.Option(
               help="Also run the 07:00 check: send the alerts the status calls for.")] = False,
           url: UrlOption = None, store: StoreOption = None, as_json: JsonOption = False) -> None:
    """A night's batch: state, counts, coverage, timings."""
    with _direct(store) as services:
        day = _day(game_date, services.clock)
        if url and not check:
            _answer(*_client(url).status(day), as_json)
            return
        report = services.watch.status_check(day) if check else services.watch.status(day)
        _answer(200, report, as_json)


@app.command("event-path")
def event_path(action: Annotated[str, typer.Argument(help="enable | disable")],
               store: StoreOption = None) -> None:
    """Fall back to scheduler-only (disable) or restore the event path (enable)."""
    if action not in ("enable", "disable"):
        raise typer.BadParameter("expected enable or disable")
    with _direct(store) as services:
        services.coordinator.set_event_path(action == "enable")
        state = "enabled" if services.coordinator.event_path_enabled() else "disabled"
    out.print(f"event path {state}: stage 4 events "
              + ("start batches" if state == "enabled" else
                 "are acknowledged and recorded; the 06:00 PT backup starts the batch"))


dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters of the message bus.")
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(topic: Annotated[Optional[str], typer.Option(help="Only this topic.")] = None,
             bus: BusOption = None, as_json: JsonOption = False) -> None:
    """Messages that failed every delivery attempt, with their last error."""
    from tipoff.bootstrap import open_bus

    the_bus = open_bus(settings(bus=bus).bus_url, clock())
    try:
        letters = the_bus.dead_letters(topic)
    finally:
        the_bus.close()
    rows = [{"topic": d.message.topic, "message_id": d.message.message_id, "group": d.group,
             "attempts": d.message.attempt, "failed_at": d.failed_at.isoformat(),
             "error": d.error} for d in letters]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("topic", "message id", "group", "attempts", "failed at", "error")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("topic", "message_id", "group", "attempts",
                                              "failed_at", "error")))
    out.print(table if rows else "no dead letters")


@dlq_app.command("replay")
def dlq_replay(topic: Annotated[Optional[str], typer.Option(help="Only this topic.")] = None,
               bus: BusOption = None) -> None:
    """Re-deliver dead letters to the group that failed them."""
    from tipoff.bootstrap import open_bus

    the_bus = open_bus(settings(bus=bus).bus_url, clock())
    try:
        count = the_bus.replay_dead_letters(topic)
    finally:
        the_bus.close()
    out.print(f"replayed {count} dead letters")


@app.command("schedule")
def schedule(
    start_from: Annotated[Optional[str], typer.Option(
        "--from", help="First local day (America/Los_Angeles); default today.")] = None,
    days: Annotated[int, typer.Option(help="How many days to list.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """List the next fire times of the daily jobs (06:00, 06:15, 06:30, 07:00 PT)."""
    from tipoff.domain.schedule import pacific_day, schedule_listing

    first = parse_date(start_from) if start_from else pacific_day(clock().now())
    listing = schedule_listing(first, days)
    if as_json:
        out.print_json(json.dumps(listing))
        return
    table = Table("job", "America/Los_Angeles", "UTC")
    for row in listing:
        table.add_row(row["job"], row["local_time"], row["utc_time"])
    out.print(table)


@contextmanager
def _direct(store: str | None):
    """Services over the configured store, without scheduler or background threads."""
    from tipoff.services.runtime import build_services

    with _quiet_logs():
        services = build_services(settings(store), clock(), workers=1, with_scheduler=False)
        try:
            yield services
        finally:
            services.stop()


def _settle(services) -> None:
    """With the in-process bus, deliver everything now (workers run in this process)."""
    if hasattr(services.bus, "join"):
        services.bus.join()


def _day(text: str | None, the_clock) -> date:
    from tipoff.services.runtime import today_game_date

    return parse_date(text) if text else today_game_date(the_clock)


def _client(url: str):
    from tipoff.services.client import CoordinatorClient

    return CoordinatorClient(url)


def _answer(code: int, body: dict, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(body, default=str))
    else:
        for key, value in body.items():
            out.print(f"{key}: {value}")
    if code >= 400:
        raise typer.Exit(1)


@bench_app.command("trigger")
def bench_trigger_command(
    events: Annotated[int, typer.Option(help="How many stage 4 events (one night each).")] = 100,
    players: Annotated[int, typer.Option(help="Ready players per night.")] = 450,
    as_json: JsonOption = False,
) -> None:
    """Event receipt → batch claimed (median, p95, max), embedded."""
    from tipoff.bench import bench_trigger

    with _quiet_logs():
        result = bench_trigger(events=events, players=players, progress=err)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(f"{result['events']} events, {result['players']} players each: event → claimed "
                  f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, "
                  f"max {result['max_ms']} ms")


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

    from tipoff.logs import configure_logging

    configure_logging(logging.WARNING)
    try:
        yield
    finally:
        configure_logging(_log_level())


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


def _log_level() -> int:
    import logging

    return getattr(logging, os.environ.get("TIPOFF_LOG_LEVEL", "INFO").upper(), logging.INFO)


def main() -> None:
    """Entry point: a TipoffError becomes a one-line message and exit code 1, not a traceback."""
    from tipoff.logs import configure_logging

    configure_logging(_log_level(), json=os.environ.get("TIPOFF_LOG_FORMAT") == "json")
    try:
        app()
    except TipoffError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from None
