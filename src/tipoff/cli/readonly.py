"""Commands that look and change nothing: status, report, schedule, dead letters.

They never create a store: on a store that does not exist they say so in one line (exit 1).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

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
    out,
    parse_date,
    settings,
)
from tipoff.cli.output import NONE, duration, human, print_fields
from tipoff.errors import InputError

commands = typer.Typer()  # top-level commands of this module

STATUS_LABELS = {"players_expected": "players on the slate", "coverage_pct": "coverage %",
                 "latency_seconds": "stage 4 → 5 latency (s)",
                 "phase4_completed_at": "stage 4 completed at"}


@commands.command("status")
def status(game_date: OptionalDate = None,
           check: Annotated[bool, typer.Option(
               help="Also run the 07:00 check: send the alerts the status calls for.")] = False,
           url: UrlOption = None, store: StoreOption = None, bus: BusOption = None,
           as_json: JsonOption = False) -> None:
    """A night's batch: state, counts, coverage, timings."""
    if url and not check:
        code, body = client(url).status(day_or_today(game_date, clock()))
        _print_status(code, body, as_json)
        return
    with direct(store, bus) as services:
        day = day_or_today(game_date, services.clock)
        report = services.watch.status_check(day) if check else services.watch.status(day)
    _print_status(200, report, as_json)


def _print_status(code: int, body: dict, as_json: bool) -> None:
    if as_json or code >= 400:
        answer(code, body, as_json)
        return
    print_fields(out, body, labels=STATUS_LABELS)


@commands.command("report")
def report(game_date: OptionalDate = None, store: StoreOption = None,
           days: Annotated[Optional[int], typer.Option(
               min=1, max=366, help="The trend of the N nights up to the date (default today), "
                                    "one line per night.")] = None,
           url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The daily health report of a night: latency, coverage, data quality, decisions, alerts
    (or, with --days, the trend of N nights; with --url, from a running service)."""
    from tipoff.pipeline.health_report import health_report
    from tipoff.pipeline.trend_report import TrendReport, format_trend

    if url:
        if days is None:
            raise typer.BadParameter("a running service serves the trend report: add --days N "
                                     "(or read the night's report from its --store)",
                                     param_hint="--url")
        code, body = client(url).report(days, day_or_today(game_date, clock()))
        if code >= 400 or as_json:
            answer(code, body, as_json)
            return
        for line in format_trend(body):
            out.print(line, highlight=False, soft_wrap=True)
        return
    with direct(store) as services:
        day = day_or_today(game_date, services.clock)
        if days is not None:
            result = TrendReport(services.store, services.watch, services.clock).report(days, day)
        else:
            result = health_report(services.store, services.watch, day)
    if days is not None and not as_json:
        for line in format_trend(result):
            out.print(line, highlight=False, soft_wrap=True)
        return
    if as_json:
        out.print_json(json.dumps(result, default=str))
        return
    print_report(result)


def print_report(result: dict) -> None:
    """The health report for people: one headline, stage 4, decisions, alerts, rows."""
    quality = result["data_quality"]
    out.print(f"[bold]night of {result['game_date']}[/bold]: {result['state']}, coverage "
              f"{human(result['coverage_pct'])}% ({result['players_predicted']} of "
              f"{result['players_ready']} ready players predicted; lined "
              f"{human(result['lined_coverage_pct'])}%: {result['players_lined_predicted']} of "
              f"{result['players_lined']} priced), stage 4 → 5 latency "
              f"{duration(result['latency_seconds'])}", highlight=False)
    if quality.get("players"):
        reasons = ", ".join(f"{escape(k)} {v}" for k, v in quality["not_ready_reasons"].items())
        out.print(f"stage 4: {quality['players']} players, {quality['ready']} ready "
                  f"({human(quality['ready_pct'])}%), average quality "
                  f"{human(quality['average_quality'])}; not ready by main reason: "
                  f"{reasons or NONE}", highlight=False)
    else:
        out.print("stage 4: no feature rows for this date", highlight=False)
    for decision in result["decisions"]:
        out.print(f"  {human(decision['at'])}  {decision['source']:<17} "
                  f"{decision['decision']}: {escape(decision['reason'] or '')}", highlight=False)
    for alert in result["alerts"]:
        out.print(f"  alert {alert['severity']} {alert['type']} via {alert['channel']}: "
                  f"{alert['status']}", highlight=False)
    rows = result["rows_by_system"]
    out.print("prediction rows by system: " + (human(rows) if rows else "none"), highlight=False)


@commands.command("schedule")
def schedule(
    start_from: Annotated[Optional[str], typer.Option(
        "--from", help="First local day (America/Los_Angeles); default: from now.")] = None,
    days: Annotated[int, typer.Option(help="How many days to list.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """List the next fire times of the daily jobs (06:00, 06:15, 06:30, 07:00 PT)."""
    from tipoff.domain.schedule import pacific_day, schedule_listing

    if days < 1:
        raise InputError(f"--days must be at least 1, got {days}")
    now = clock().now()
    if start_from:
        listing = schedule_listing(parse_date(start_from, "--from"), days)
    else:  # from now: today's fire times already past are not "next"
        listing = [row for row in schedule_listing(pacific_day(now), days + 1)
                   if datetime.fromisoformat(row["utc_time"]) > now][:4 * days]
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

    the_bus = open_bus(settings(bus=bus).bus_url, clock(), create=False)
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
    if not rows:
        out.print("no dead letters" + (" (the in-process bus keeps its own inside the running "
                                       "service)" if settings(bus=bus).bus_url.startswith("memory:")
                                       else ""), highlight=False)
        return
    table = Table("topic", "message id", "group", "attempts", "failed at", "error")
    for row in rows:
        table.add_row(*(human(row[k]) for k in ("topic", "message_id", "group", "attempts",
                                                "failed_at", "error")))
    out.print(table)


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
