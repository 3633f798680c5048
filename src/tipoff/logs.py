"""Logging set-up for entry points: readable console lines or JSON, plain tracebacks.

Plain tracebacks on purpose: the default pretty renderer prints every frame's local
variables, which is slow on hot error paths and can print secrets held in locals.

``night_context`` binds a night's identifiers (``game_date``, ``batch_id``, trigger
``source``, ``correlation_id``) to every line logged inside it, in this thread or task, so
that ``--log-json`` output can be searched by any of them (``jq 'select(.batch_id == …)'``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

# ``scheme://user:password@`` inside any text: the password is masked in every log line.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+@")


def mask_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)


class MaskedRenderer:
    """Renders a log line with ``renderer``, then masks URL passwords in the whole rendered
    text: console tracebacks are formatted by the renderer itself, after every processor."""

    def __init__(self, renderer: Any) -> None:
        self._renderer = renderer

    def __call__(self, logger: Any, method: str, event: dict[str, Any]) -> Any:
        rendered = self._renderer(logger, method, event)
        return mask_passwords(rendered) if isinstance(rendered, str) else rendered


NIGHT_KEYS = ("game_date", "batch_id", "source", "correlation_id")


@contextmanager
def night_context(**values: Any) -> Iterator[None]:
    """Every line logged in this block carries the given night identifiers (None values are
    left out, and the previous values come back when the block ends)."""
    unknown = set(values) - set(NIGHT_KEYS) - {"run_id"}
    if unknown:
        raise TypeError(f"not a night identifier: {sorted(unknown)}")
    bound = {key: str(value) for key, value in values.items() if value is not None}
    with structlog.contextvars.bound_contextvars(**bound):
        yield


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (a test runner swaps it per test)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(level: int = logging.INFO, *, json: bool = False,
                      colors: bool | None = None, file: Any = None) -> None:
    """Configure structlog for this process (called by entry points, never at import); lines
    go to ``file`` (default stderr).

    Console lines are coloured only on a terminal (``colors=None``): a file or a pipe gets
    plain text, never ANSI escape codes."""
    stream = file or _CurrentStderr()
    if colors is None:
        colors = stream.isatty()
    renderer = (structlog.processors.JSONRenderer() if json else
                structlog.dev.ConsoleRenderer(colors=colors,
                                              exception_formatter=structlog.dev.plain_traceback))
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[*processors, MaskedRenderer(renderer)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
