"""Logging set-up for entry points: readable console lines or JSON, plain tracebacks.

Plain tracebacks on purpose: the default pretty renderer prints every frame's local
variables, which is slow on hot error paths and can print secrets held in locals.
"""

from __future__ import annotations

import logging
import re
import sys
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


def configure_logging(level: int = logging.INFO, *, json: bool = False,
                      colors: bool | None = None) -> None:
    """Configure structlog for this process (called by entry points, never at import).

    Console lines are coloured only on a terminal (``colors=None``): a file or a pipe gets
    plain text, never ANSI escape codes."""
    if colors is None:
        colors = sys.stderr.isatty()
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
