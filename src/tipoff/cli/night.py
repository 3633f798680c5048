"""The night and its runbook: demo, serve, worker, trigger, start, retry, status, backfill…"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from tipoff.errors import InputError
from tipoff.cli.common import (
    BusOption,
    JsonOption,
    OptionalDate,
    StoreOption,
    UrlOption,
    answer,
    client,
    clock,
    day_or_today,
    direct,
    err,
    out,
    parse_date,
    progress_bar,
    quiet_logs,
    settings,
    settle,
)


commands = typer.Typer()  # top-level commands of this module


@commands.command("demo")
def demo(
    workdir: Annotated[Optional[Path], typer.Option(
        help="Working folder (default: a fresh temporary folder).")] = None,
    store: Annotated[Optional[str], typer.Option(
        "--store", help="Store URL (default: a SQLite file in the working folder).")] = None,
    game_date: Annotated[Optional[str], typer.Option(
        "--date", help="Game date of the synthetic season (default 2026-01-14).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic league.")] = 7,
    bus: Annotated[str, typer.Option(
        "--bus", help="memory:// (embedded), nats://HOST:PORT or pubsub://PROJECT for the same night "
                    "on NATS or Pub/Sub.")
    ] = "memory://",
    as_json: JsonOption = False,
) -> None:
    """Run one whole night embedded: league, model, stage 4, event, batch, report."""
    import tempfile

    from tipoff.bootstrap import demo_wiring
    from tipoff.pipeline.demo import DEMO_DATE, DemoOptions, run_demo

    folder = workdir or Path(tempfile.mkdtemp(prefix="tipoff-demo-"))
    options = DemoOptions(workdir=folder, store_url=store, bus_url=bus, seed=seed,
                          game_date=parse_date(game_date) if game_date else DEMO_DATE)
    with quiet_logs(), err.status("starting…") as status:
        result = run_demo(options, demo_wiring(folder), lambda n, total, label: status.update(f"[{n}/{total}] {label}"))
    if as_json:
        out.print_json(json.dumps(result))
    else:
        _print_demo(result)
    if result["batch_state"] != "complete" or result["coverage_pct"] < 95:
        raise typer.Exit(1)


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


@commands.command("serve")
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
    token_file: Annotated[Optional[Path], typer.Option(
        help="File holding the API token (instead of TIPOFF_API_TOKEN).")] = None,
    insecure_no_auth: Annotated[bool, typer.Option(
        "--insecure-no-auth", help="Listen beyond loopback without any credential (unsafe).")]
    = False,
) -> None:
    """Run the coordinator HTTP service (with the scheduler and in-process workers)."""
    import uvicorn

    from tipoff.services.auth import authenticator, refuse_open_bind
    from tipoff.services.http import create_app
    from tipoff.services.runtime import build_services

    config = settings(store, bus)
    if token_file is not None:
        config = config.model_copy(update={"token_file": token_file})
    auth = authenticator(config)
    refusal = refuse_open_bind(host, auth, insecure_no_auth)
    if refusal:
        err.print(refusal, soft_wrap=True)
        raise typer.Exit(2)
    services = build_services(config, _service_clock(start_at, speed),
                              workers=workers, with_scheduler=scheduler)
    services.start()
    try:
        uvicorn.run(create_app(services, auth=auth, metrics_public=config.metrics_public),
                    host=host, port=port, log_level="info", lifespan="off")
    finally:
        services.stop()


def _service_clock(start_at: str | None, speed: float):
    from datetime import datetime

    from tipoff.bootstrap import scaled_clock

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
    return scaled_clock(start, speed)


@commands.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(help="Competing workers in this process.")] = 2,
    store: StoreOption = None,
    bus: BusOption = None,
    http: Annotated[bool, typer.Option("--http", help="Serve POST /predict for Pub/Sub push "
                                       "instead of pulling requests.")] = False,
    host: Annotated[str, typer.Option(help="Interface to bind (with --http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (with --http).")] = 8080,
) -> None:
    """Run prediction workers only (the coordinator runs elsewhere: `tipoff serve --workers 0`).

    SIGTERM / Ctrl-C stop fetching; in-flight messages finish or are redelivered elsewhere.
    With --http the worker pulls nothing: each push to /predict is one request.
    """
    import signal
    import threading

    if http:
        _serve_worker_http(settings(store, bus), host, port)
        return

    from tipoff.services.runtime import build_worker_process

    process = build_worker_process(settings(store, bus), clock(), concurrency=concurrency)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    process.start()
    err.print(f"worker running: {concurrency} workers on {process.bus!r}; SIGTERM to stop")
    stop.wait()
    process.stop()


def _serve_worker_http(config, host: str, port: int) -> None:
    import uvicorn

    from tipoff.services.worker_http import build_worker_service, create_worker_app

    service = build_worker_service(config, clock())
    try:
        err.print(f"worker serving POST /predict on {host}:{port}, results on {service.bus!r}")
        uvicorn.run(create_worker_app(service), host=host, port=port, log_level="info",
                    lifespan="off")
    finally:
        service.close()


@commands.command("trigger")
def trigger(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
            as_json: JsonOption = False) -> None:
    """Publish stage 4's phase4_complete for a date, as the feature store would."""
    from tipoff.pipeline.build_features import phase4_event

    with direct(store) as services:
        day = day_or_today(game_date, services.clock)
        event = phase4_event(services.store, day)
        if url:
            answer(*client(url).trigger(event.to_data()), as_json)
            return
        from tipoff.domain.messages import PHASE4_TOPIC

        services.bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
        settle(services)
        answer(200, services.watch.status(day), as_json)


@commands.command("start")
def start(game_date: OptionalDate = None,
          force: Annotated[bool, typer.Option(help="Re-predict even a complete batch.")] = False,
          wait: Annotated[bool, typer.Option(
              "--wait/--no-wait", help="Wait (durably) for stage 4 when it is not ready.")] = True,
          url: UrlOption = None, store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Backup / manual start of a date's batch."""
    if url:
        answer(*client(url).start(day_or_today(game_date, clock()), force=force, wait=wait),
               as_json)
        return
    with direct(store) as services:
        day = day_or_today(game_date, services.clock)
        decision = services.coordinator.start(day, "manual", force=force, wait_for_phase4=wait)
        _answer_decision(services, decision, as_json)


@commands.command("retry")
def retry(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
          as_json: JsonOption = False) -> None:
    """Predict only the ready players that have no prediction yet."""
    if url:
        answer(*client(url).retry(day_or_today(game_date, clock())), as_json)
        return
    with direct(store) as services:
        day = day_or_today(game_date, services.clock)
        _answer_decision(services, services.coordinator.retry(day), as_json)


def _answer_decision(services, decision, as_json: bool) -> None:
    """Deliver what the decision sent (in-process bus), then print it with the night's status."""
    settle(services)
    answer(200, {**decision.to_dict(), "status": services.watch.status(decision.game_date)},
           as_json)


@commands.command("status")
def status(game_date: OptionalDate = None,
           check: Annotated[bool, typer.Option(
               help="Also run the 07:00 check: send the alerts the status calls for.")] = False,
           url: UrlOption = None, store: StoreOption = None, bus: BusOption = None,
           as_json: JsonOption = False) -> None:
    """A night's batch: state, counts, coverage, timings."""
    if url and not check:
        answer(*client(url).status(day_or_today(game_date, clock())), as_json)
        return
    with direct(store, bus) as services:
        day = day_or_today(game_date, services.clock)
        report = services.watch.status_check(day) if check else services.watch.status(day)
        answer(200, report, as_json)


@commands.command("report")
def report(game_date: OptionalDate = None, store: StoreOption = None,
           days: Annotated[Optional[int], typer.Option(
               min=1, max=366, help="The trend of the N nights up to the date (default today), "
                                    "one line per night.")] = None,
           as_json: JsonOption = False) -> None:
    """The daily health report of a night (or, with --days, the trend of N nights)."""
    from tipoff.pipeline.health_report import health_report
    from tipoff.pipeline.trend_report import TrendReport, format_trend

    with direct(store) as services:
        day = day_or_today(game_date, services.clock)
        if days is not None:
            result = TrendReport(services.store, services.watch, services.clock).report(days, day)
        else:
            result = health_report(services.store, services.watch, day)
    if days is not None and not as_json:
        for line in format_trend(result):
            typer.echo(line)
        return
    if as_json:
        out.print_json(json.dumps(result, default=str))
        return
    _print_report(result)


def _print_report(result: dict) -> None:
    quality = result["data_quality"]
    out.print(f"[bold]night of {result['game_date']}[/bold]: {result['state']}, coverage "
              f"{result['coverage_pct']}% ({result['players_predicted']} of "
              f"{result['players_ready']} ready), stage 4 → 5 latency "
              f"{result['latency_seconds']} s")
    if quality.get("players"):
        out.print(f"stage 4: {quality['players']} players, {quality['ready_pct']}% ready, "
                  f"average quality {quality['average_quality']}; issues {quality['issues']}")
    for decision in result["decisions"]:
        out.print(f"  {decision['at']}  {decision['source']:<17} {decision['decision']}: "
                  f"{decision['reason']}")
    for alert in result["alerts"]:
        out.print(f"  alert {alert['severity']} {alert['type']} via {alert['channel']}: "
                  f"{alert['status']}")
    out.print(f"rows by system: {result['rows_by_system']}")


@commands.command("event-path")
def event_path(action: Annotated[str, typer.Argument(help="enable | disable")],
               store: StoreOption = None) -> None:
    """Fall back to scheduler-only (disable) or restore the event path (enable)."""
    if action not in ("enable", "disable"):
        raise typer.BadParameter("expected enable or disable")
    with direct(store) as services:
        services.coordinator.set_event_path(action == "enable")
        state = "enabled" if services.coordinator.event_path_enabled() else "disabled"
    out.print(f"event path {state}: stage 4 events "
              + ("start batches" if state == "enabled" else
                 "are acknowledged and recorded; the 06:00 PT backup starts the batch"))


@commands.command("backfill")
def backfill(
    start_from: Annotated[str, typer.Option("--from", help="First game date.")],
    to: Annotated[str, typer.Option("--to", help="Last game date (inclusive).")],
    force: Annotated[bool, typer.Option(help="Re-predict dates that already have a batch.")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run stage 4 and the predictions for past dates (events for past dates never do)."""
    from tipoff.pipeline.backfill import backfill as run

    with direct(store) as services, progress_bar("backfill") as step:
        results = run(services, parse_date(start_from), parse_date(to), force=force, progress=step,
                      settle=lambda: settle(services))
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("date", "players", "ready", "decision", "coverage %")
    for row in results:
        table.add_row(row["game_date"], str(row["players"]), str(row["ready"]), row["decision"],
                      str(row["coverage_pct"]))
    out.print(table)


@commands.command("schedule")
def schedule(
    start_from: Annotated[Optional[str], typer.Option(
        "--from", help="First local day (America/Los_Angeles); default today.")] = None,
    days: Annotated[int, typer.Option(help="How many days to list.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """List the next fire times of the daily jobs (06:00, 06:15, 06:30, 07:00 PT)."""
    from tipoff.domain.schedule import pacific_day, schedule_listing

    if days < 1:
        raise InputError(f"--days must be at least 1, got {days}")
    first = parse_date(start_from) if start_from else pacific_day(clock().now())
    listing = schedule_listing(first, days)
    if as_json:
        out.print_json(json.dumps(listing))
        return
    table = Table("job", "America/Los_Angeles", "UTC")
    for row in listing:
        table.add_row(row["job"], row["local_time"], row["utc_time"])
    out.print(table)


dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters of the message bus.")


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
