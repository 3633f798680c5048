"""``tipoff simulate``: rehearse a season of nights with injected faults."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from tipoff.cli.common import err as _err
from tipoff.cli.common import out as _out
from tipoff.errors import InputError


def simulate(
    season: Annotated[str, typer.Option(help="Season of the synthetic league, YYYY-YY.")] = "2025-26",
    nights: Annotated[Optional[int], typer.Option(min=1, help="Run at most N game nights.")] = None,
    first: Annotated[Optional[str], typer.Option(
        "--from", help="First game date (default: two weeks into the season, after the "
                       "early-season ramp).")] = None,
    last: Annotated[Optional[str], typer.Option("--to", help="Last game date.")] = None,
    faults: Annotated[str, typer.Option(
        help="Faults, e.g. event_lost=0.1,phase4_late=0.1:20-90m,worker_crash=0.05 "
             "(docs/SIMULATE.md lists every kind).")] = "",
    seed: Annotated[int, typer.Option(help="Seed of the fault draws.")] = 1,
    report: Annotated[Optional[Path], typer.Option(help="Write the JSON report here.")] = None,
    html: Annotated[Optional[Path], typer.Option(help="Write a self-contained HTML page here.")] = None,
    workdir: Annotated[Path, typer.Option(
        help="Where the season's SQLite file and the trained model live (the model is reused).")
    ] = Path(".tipoff-sim"),
    store: Annotated[Optional[str], typer.Option(
        "--store", help="Store URL (default: a fresh SQLite file in --workdir), e.g. "
                        "postgresql://127.0.0.1/test?schema=sim.")] = None,
    bus: Annotated[str, typer.Option("--bus", help=(
        "Bus URL: memory:// (in-process) or nats://HOST:PORT (a fresh stream prefix, "
        "deleted afterwards, and a 5 s ack wait unless the URL sets them)."))] = "memory://",
) -> None:
    """Replay game nights through the real coordinator, scheduler, workers and alerts on a
    simulated clock, with faults; report SLA, alerts and duplicates per night and in total."""
    from tipoff.logs import configure_logging
    from tipoff.services.season import SeasonOptions, run_season
    from tipoff.sim.faults import parse_faults

    options = SeasonOptions(workdir=workdir, season=season, nights=nights, first=_date(first),
                            last=_date(last), faults=parse_faults(faults), seed=seed,
                            store_url=store, bus_url=bus)
    configure_logging(logging.CRITICAL)  # alerts and retries are the report's business here
    if _err.is_terminal:
        result = _with_bar(options, run_season)
    else:
        result = run_season(options, _plain_progress)
    _write(result, report, html, options)
    _summary_table(result["summary"])


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def _with_bar(options, run) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=_err, transient=True) as bar:
        task = bar.add_task("preparing the league and model…", total=None)

        def advance(n: int, total: int, night: dict) -> None:
            bar.update(task, total=total, completed=n,
                       description=f"{night['game_date']} {_night_word(night)}")
        return run(options, advance)


def _plain_progress(n: int, total: int, night: dict) -> None:
    _err.print(f"night {n}/{total} {night['game_date']}: {_night_word(night)} "
               f"coverage {night['coverage_pct']}% by {night['started_by']}"
               + (f", faults {' '.join(night['faults'])}" if night["faults"] else ""),
               highlight=False, soft_wrap=True)


def _night_word(night: dict) -> str:
    return "SLA met" if night["sla_met"] else "SLA MISSED"


def _write(result: dict, report: Path | None, html: Path | None, options) -> None:
    if report is not None:
        report.write_text(json.dumps(result, indent=2) + "\n")
        _err.print(f"report: {report}")
    if html is not None:
        from tipoff.sim.season_html import season_page

        html.write_text(season_page(result, title=f"tipoff simulate {options.season}",
                                    faults=options.faults.describe(), seed=options.seed))
        _err.print(f"html: {html}")


def _summary_table(summary: dict) -> None:
    table = Table("nights", "SLA met", "SLA missed", "missed w/o critical alert",
                  "false alarms", "duplicates", "seconds", title="season summary")
    table.add_row(*(str(summary[k]) for k in (
        "nights", "sla_met", "sla_missed", "missed_without_critical_alert", "false_alarms",
        "duplicates", "seconds")))
    _out.print(table)
