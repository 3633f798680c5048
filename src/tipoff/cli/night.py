"""The night and its runbook: serve, worker, trigger, start, retry, event path, backfill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from tipoff.cli.common import (
    BusOption,
    JsonOption,
    ModelDirOption,
    OptionalDate,
    StoreOption,
    UrlOption,
    WithoutXgboostOption,
    answer,
    client,
    clock,
    day_or_today,
    direct,
    err,
    out,
    parse_date,
    progress_bar,
    require_model,
    settings,
    settle,
)
from tipoff.cli.output import human, print_fields
from tipoff.config import mask_url_password
from tipoff.errors import ConflictError


commands = typer.Typer()  # top-level commands of this module


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
    model_dir: ModelDirOption = None,
    without_xgboost: WithoutXgboostOption = False,
) -> None:
    """Run the coordinator HTTP service (with the scheduler and in-process workers)."""
    import uvicorn

    from tipoff.services.auth import authenticator, refuse_open_bind
    from tipoff.services.http import create_app
    from tipoff.services.runtime import build_services

    config = settings(store, bus, model_dir)
    if token_file is not None:
        config = config.model_copy(update={"token_file": token_file})
    auth = authenticator(config)
    refusal = refuse_open_bind(host, auth, insecure_no_auth)
    if refusal:
        err.print(refusal, soft_wrap=True)
        raise typer.Exit(2)
    if workers:
        require_model(config, without_xgboost)
    services = build_services(config, _service_clock(start_at, speed), workers=workers,
                              with_scheduler=scheduler, xgboost=not without_xgboost)
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
    model_dir: ModelDirOption = None,
    without_xgboost: WithoutXgboostOption = False,
) -> None:
    """Run prediction workers only (the coordinator runs elsewhere: `tipoff serve --workers 0`).

    SIGTERM / Ctrl-C stop fetching; in-flight messages finish or are redelivered elsewhere.
    With --http the worker pulls nothing: each push to /predict is one request.
    """
    import signal
    import threading

    config = settings(store, bus, model_dir)
    require_model(config, without_xgboost)
    if http:
        _serve_worker_http(config, host, port)
        return

    from tipoff.services.runtime import build_worker_process

    process = build_worker_process(config, clock(), concurrency=concurrency,
                                   xgboost=not without_xgboost)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    process.start()
    err.print(f"worker running: {concurrency} workers on {mask_url_password(config.bus_url)}; "
              "SIGTERM to stop", highlight=False)
    stop.wait()
    process.stop()


def _serve_worker_http(config, host: str, port: int) -> None:
    import uvicorn

    from tipoff.services.worker_http import build_worker_service, create_worker_app

    service = build_worker_service(config, clock())
    try:
        err.print(f"worker serving POST /predict on {host}:{port}, results on "
                  f"{mask_url_password(config.bus_url)}", highlight=False)
        uvicorn.run(create_worker_app(service), host=host, port=port, log_level="info",
                    lifespan="off")
    finally:
        service.close()


@commands.command("trigger")
def trigger(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
            model_dir: ModelDirOption = None, without_xgboost: WithoutXgboostOption = False,
            as_json: JsonOption = False) -> None:
    """Publish stage 4's phase4_complete for a date, as the feature store would."""
    from tipoff.pipeline.build_features import phase4_event

    if not url:  # a coordinator decides with its own clock (a rehearsal's may be in the past)
        refuse_past(day_or_today(game_date, clock()), "an event for it starts nothing")
    with direct(store, predicts=not url, model_dir=model_dir,
                without_xgboost=without_xgboost) as services:
        day = day_or_today(game_date, services.clock)
        event = phase4_event(services.store, day)
        if url:
            answer(*client(url).trigger(event.to_data()), as_json)
            return
        from tipoff.domain.messages import PHASE4_TOPIC

        services.bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
        settle(services)
        _print_night(services.watch.status(day), as_json)


def refuse_past(day, why: str) -> None:
    """Live commands refuse a date before today (ET), naming the command that does it."""
    from tipoff.services.runtime import today_game_date

    today = today_game_date(clock())
    if day < today:
        raise ConflictError(f"{day} is before today ({today} ET): {why}; past dates run through "
                            f"`tipoff backfill --from {day} --to {day}`")


@commands.command("start")
def start(game_date: OptionalDate = None,
          force: Annotated[bool, typer.Option(help="Re-predict even a complete batch.")] = False,
          wait: Annotated[bool, typer.Option(
              "--wait/--no-wait", help="Wait (durably) for stage 4 when it is not ready.")] = True,
          url: UrlOption = None, store: StoreOption = None, model_dir: ModelDirOption = None,
          without_xgboost: WithoutXgboostOption = False, as_json: JsonOption = False) -> None:
    """Backup / manual start of a date's batch."""
    day = day_or_today(game_date, clock())
    if url:
        answer(*client(url).start(day, force=force, wait=wait), as_json)
        return
    refuse_past(day, "a live start ignores it")
    with direct(store, predicts=True, model_dir=model_dir,
                without_xgboost=without_xgboost) as services:
        decision = services.coordinator.start(day, "manual", force=force, wait_for_phase4=wait)
        _answer_decision(services, decision, as_json)


@commands.command("retry")
def retry(game_date: OptionalDate = None, url: UrlOption = None, store: StoreOption = None,
          model_dir: ModelDirOption = None, without_xgboost: WithoutXgboostOption = False,
          as_json: JsonOption = False) -> None:
    """Predict only the ready players that have no prediction yet."""
    day = day_or_today(game_date, clock())
    if url:
        answer(*client(url).retry(day), as_json)
        return
    refuse_past(day, "a live retry ignores it")
    with direct(store, predicts=True, model_dir=model_dir,
                without_xgboost=without_xgboost) as services:
        _answer_decision(services, services.coordinator.retry(day), as_json)


WAIT_NOTE = ("the wait is recorded in the store: a running `tipoff serve` (its wait poll, every "
             "60 s) starts the batch once stage 4 is ready, or alerts at the deadline; this "
             "command does not wait")


def _answer_decision(services, decision, as_json: bool) -> None:
    """Deliver what the decision sent (in-process bus), then print it with the night's status.
    A refusal (stage 4 not ready, without a wait) exits 1, as HTTP answers 409."""
    from tipoff.domain.decisions import Category, Decision

    settle(services)
    body = {**decision.to_dict(), "status": services.watch.status(decision.game_date)}
    if decision.decision == "waiting_for_phase4":
        body["note"] = WAIT_NOTE
    if as_json:
        out.print_json(json.dumps(body, default=str))
    else:
        out.print(f"{decision.decision}: {human(decision.reason)}", highlight=False)
        if "note" in body:
            out.print(f"note: {WAIT_NOTE}", highlight=False)
        _print_night(body["status"], False)
    if Decision(decision.decision).category is Category.REFUSED:
        raise typer.Exit(1)


def _print_night(status: dict, as_json: bool) -> None:
    if as_json:
        answer(200, status, True)
        return
    from tipoff.cli.readonly import STATUS_LABELS

    print_fields(out, status, labels=STATUS_LABELS)


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
    model_dir: ModelDirOption = None,
    without_xgboost: WithoutXgboostOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run stage 4 and the predictions for past dates (events for past dates never do)."""
    from tipoff.pipeline.backfill import backfill as run

    first, last = parse_date(start_from, "--from"), parse_date(to, "--to")  # usage errors first
    with direct(store, predicts=True, model_dir=model_dir, without_xgboost=without_xgboost
                ) as services, progress_bar("backfill") as step:
        results = run(services, first, last, force=force, progress=step,
                      settle=lambda: settle(services))
    if as_json:
        out.print_json(json.dumps(results))
        return
    table = Table("date", "players", "ready", "decision", "coverage %")
    for row in results:
        table.add_row(row["game_date"], str(row["players"]), str(row["ready"]), row["decision"],
                      human(row["coverage_pct"]))
    out.print(table)
    if any(row["decision"] == "already_complete" for row in results):
        out.print("already_complete dates were left as they are: --force predicts them again "
                  "(e.g. after training a model); new rows supersede the old ones", highlight=False)


