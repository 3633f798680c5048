"""Transient-failure retries of the SQL store's operations (server restart, lock, dropped link).

Every store operation is one transaction and idempotent (upserts, insert-if-absent claims,
conditional updates), so running it again after its outcome was lost is safe. Each public
operation is decorated with ``retried``, which runs it through the store's ``RetryPolicy``.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import structlog

from tipoff.errors import TransientError

log = structlog.get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    """Capped, jittered exponential backoff: ``attempts`` tries in all, then the error."""

    attempts: int = 6
    base: timedelta = timedelta(milliseconds=100)
    cap: timedelta = timedelta(seconds=5)
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def backoff(self, attempt: int) -> float:
        """Seconds before retry ``attempt``: full jitter under min(cap, base · 2^(attempt−1))."""
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    def run(self, operation: str, fn: Callable[[], R]) -> R:
        """``fn()``, repeated after a ``TransientError`` until it succeeds or attempts run out."""
        for attempt in range(1, self.attempts):
            try:
                return fn()
            except TransientError as exc:
                delay = self.backoff(attempt)
                log.warning("store_retry", operation=operation, attempt=attempt,
                            delay_s=round(delay, 3), error=str(exc))
                self.sleep(delay)
        return fn()


class Retrying(Protocol):
    """What ``retried`` needs of the object whose method it wraps."""

    @property
    def retry_policy(self) -> RetryPolicy:
        """How this store retries transient failures."""
        ...


S = TypeVar("S", bound=Retrying)


def retried(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a store operation through its store's ``RetryPolicy`` (logged as ``store_retry``)."""

    @functools.wraps(method)
    def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        operation = method.__name__.lstrip("_")
        return self.retry_policy.run(operation, lambda: method(self, *args, **kwargs))

    return run
