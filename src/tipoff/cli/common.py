"""What every command shares: consoles, options, settings, progress and output helpers."""

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
from tipoff.errors import ConfigurationError

PIPE_WIDTH = 200  # off a terminal (a file, a pipe) lines may be long: no table squeezed to 80


def _console(*, stderr: bool = False) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


out = _console()
err = _console(stderr=True)


def fail(message: str, code: int, exc: BaseException | None = None) -> int:
    """Print one ``error:`` line on stderr (the traceback too with ``TIPOFF_DEBUG=1``) and
    return ``code``. Driver messages spanning lines are joined into one."""
    if exc is not None and os.environ.get("TIPOFF_DEBUG") == "1":
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    from rich.markup import escape

    text = escape(" ".join(str(message).split()))
    err.print(f"[red]error:[/red] {text}", soft_wrap=True, highlight=False)
    return code

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


ModelDirOption = Annotated[Optional[Path], typer.Option(
    "--model-dir", help="Folder of the trained model (default: $TIPOFF_MODEL_DIR, else ./models).")]

WithoutXgboostOption = Annotated[bool, typer.Option(
    "--without-xgboost", help="Predict without a trained model: xgboost_v1 is skipped and the "
                              "ensemble combines the other three systems.")]


def settings(store: str | None = None, bus: str | None = None,
             model_dir: Path | None = None) -> Settings:
    """The effective settings: environment, then command-line overrides."""
    return Settings.from_mapping(os.environ, store_url=store, bus_url=bus, model_dir=model_dir)


def clock():
    from tipoff.bootstrap import system_clock

    return system_clock()


def open_store(store: str | None, *, create: bool = True):
    """The configured store; ``create=False`` for commands that need an existing one (a
    missing store is then one error line, and nothing is created)."""
    from tipoff.bootstrap import open_store as _open

    return _open(settings(store).store_url, clock(), create=create)


def parse_date(text: str, option: str = "--date") -> date:
    """A game date given on the command line; a bad one is a usage error naming ``option``."""
    from tipoff.domain.dates import parse_game_date

    try:
        return parse_game_date(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from exc


def require_model(config: Settings, without_xgboost: bool) -> None:
    """Refuse to predict without a usable model, unless ``--without-xgboost`` says so."""
    if without_xgboost:
        return
    from tipoff.bootstrap import model_store
    from tipoff.domain.systems import XGBOOST, PredictionUnavailable

    try:
        model_store(config.model_dir).load(XGBOOST)
    except PredictionUnavailable as exc:
        raise ConfigurationError(
            f"no usable model ({exc.reason}): train one with `tipoff train --through DATE "
            f"--model-dir {config.model_dir}`, point --model-dir (or TIPOFF_MODEL_DIR) at one, "
            "or pass --without-xgboost to predict with the other systems") from None


@contextmanager
def direct(store: str | None, bus: str | None = None, *, predicts: bool = False,
           model_dir: Path | None = None, without_xgboost: bool = False):
    """Services over an existing store and the configured bus, without scheduler or
    background threads. Commands that may predict (``predicts``: in this process, with the
    in-process bus) get one worker and need a model (see ``require_model``)."""
    from tipoff.bootstrap import open_store as _open
    from tipoff.services.runtime import build_services

    config = settings(store, bus, model_dir)
    predicts = predicts and config.bus_url.startswith("memory:")  # else workers run elsewhere
    if predicts:
        require_model(config, without_xgboost)
    _open(config.store_url, clock(), create=False).close()  # exists? (else one error line)
    with quiet_logs():
        services = build_services(config, clock(), workers=1 if predicts else 0,
                                  with_scheduler=False, xgboost=not without_xgboost)
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
    """Print a coordinator answer (JSON, or one ``field: value`` line each); 4xx/5xx exit 1."""
    from tipoff.cli.output import print_fields

    if as_json:
        out.print_json(json.dumps(body, default=str))
    else:
        print_fields(out, body)
    if code >= 400:
        raise typer.Exit(1)


@contextmanager
def progress_bar(title: str):
    """Progress of long work on stderr; yields the ``(done, total, label)`` callback
    pipelines accept (a bar on a terminal, plain lines elsewhere)."""
    from tipoff.cli.progress import progress

    with quiet_logs(), progress(title, err) as step:
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
                      json=os.environ.get("TIPOFF_LOG_FORMAT") == "json",
                      colors=sys.stderr.isatty() and "NO_COLOR" not in os.environ)


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
