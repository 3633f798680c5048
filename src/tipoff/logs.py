"""Logging set-up for entry points: readable console lines or JSON, plain tracebacks.

Plain tracebacks on purpose: the default pretty renderer prints every frame's local
variables, which is slow on hot error paths and can print secrets held in locals.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: int = logging.INFO, *, json: bool = False) -> None:
    """Configure structlog for this process (called by entry points, never at import)."""
    renderer = (structlog.processors.JSONRenderer() if json else
                structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback))
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
