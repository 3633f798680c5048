"""What every command shares: consoles, options, settings, progress and output helpers."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from tipoff.config import Settings

out = Console()
err = Console(stderr=True)

StoreOption = Annotated[Optional[str], typer.Option(
    "--store", help="Store URL (default: $TIPOFF_STORE_URL, else sqlite:///./tipoff.db).")]

DateOption = Annotated[str, typer.Option("--date", help="Game date (America/New_York), YYYY-MM-DD.")]

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

BusOption = Annotated[Optional[str], typer.Option(
    "--bus", help="Bus URL (default: $TIPOFF_BUS_URL, else memory://): memory://, nats://HOST:PORT or "
                    "pubsub://PROJECT.")]

UrlOption = Annotated[Optional[str], typer.Option(
    "--url", help="A running coordinator (e.g. http://127.0.0.1:8080); default: act on the store "
                  "directly (with the in-process bus, predictions run in this process).")]

OptionalDate = Annotated[Optional[str], typer.Option(
    "--date", help="Game date (America/New_York); default: today ET.")]


def settings(store: str | None = None, bus: str | None = None) -> Settings:
    """The effective settings: environment, then command-line overrides."""
    return Settings.from_mapping(os.environ, store_url=store, bus_url=bus)


def clock():
    from tipoff.bootstrap import system_clock

    return system_clock()


def open_store(store: str | None):
    from tipoff.bootstrap import open_store as _open

    return _open(settings(store).store_url, clock())


def parse_date(text: str) -> date:
    from tipoff.domain.dates import parse_game_date

    try:
        return parse_game_date(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@contextmanager
def direct(store: str | None, bus: str | None = None):
    """Services over the configured store and bus, without scheduler or background threads."""
    from tipoff.services.runtime import build_services

    with quiet_logs():
        services = build_services(settings(store, bus), clock(), workers=1, with_scheduler=False)
        try:
            yield services
        finally:
            services.stop()


def settle(services) -> None:
    """With the in-process bus, deliver everything now (workers run in this process)."""
    services.bus.join()


def day_or_today(text: str | None, the_clock) -> date:
    from tipoff.services.runtime import today_game_date

    return parse_date(text) if text else today_game_date(the_clock)


def client(url: str):
    from tipoff.services.client import CoordinatorClient

    return CoordinatorClient(url, token=settings().bearer_token())  # TIPOFF_API_TOKEN / file


def answer(code: int, body: dict, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(body, default=str))
    else:
        for key, value in body.items():
            out.print(f"{key}: {value}")
    if code >= 400:
        raise typer.Exit(1)


@contextmanager
def progress_bar(title: str):
    """A Rich progress bar; yields the ``(done, total, label)`` callback pipelines accept."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with quiet_logs(), Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(title, total=None)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{title}: {label}")

        yield step


@contextmanager
def quiet_logs():
    """Only warnings and errors on stderr while a progress display owns the terminal."""
    import logging

    configure_logs(logging.WARNING)
    try:
        yield
    finally:
        configure_logs()


def configure_logs(level: int | None = None) -> None:
    """Logging as ``TIPOFF_LOG_LEVEL`` (or ``level``) and ``TIPOFF_LOG_FORMAT`` ask."""
    from tipoff.logs import configure_logging

    configure_logging(log_level() if level is None else level,
                      json=os.environ.get("TIPOFF_LOG_FORMAT") == "json")


def log_level() -> int:
    import logging

    return getattr(logging, os.environ.get("TIPOFF_LOG_LEVEL", "INFO").upper(), logging.INFO)


def print_counts(title: str, written: dict[str, int]) -> None:
    table = Table("table", "rows", title=title)
    for name, count in written.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


def print_problems(problems) -> None:
    for problem in problems[:50]:
        err.print(f"[yellow]skipped[/yellow] {problem.file}:{problem.line}: {problem.message}")
    if len(problems) > 50:
        err.print(f"… and {len(problems) - 50} more skipped rows")


def num(value) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
