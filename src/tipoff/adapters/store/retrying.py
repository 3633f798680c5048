"""Retry a store's calls on transient failures (server restart, lock, dropped connection).

Every store operation is idempotent (upserts, insert-if-absent claims, conditional updates),
so repeating a call whose outcome was lost is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from tipoff.errors import TransientError

log = structlog.get_logger(__name__)


class RetryingStore:
    """Wraps a store: a ``TransientError`` is retried with capped, jittered exponential backoff."""

    def __init__(self, store, *, attempts: int = 6, base: timedelta = timedelta(milliseconds=100),
                 cap: timedelta = timedelta(seconds=5),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._attempts = attempts
        self._base = base.total_seconds()
        self._cap = cap.total_seconds()
        self._sleep = sleep

    def __repr__(self) -> str:
        return repr(self._store)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._store, name)
        if not callable(target) or name.startswith("_") or name == "transaction":
            return target
        return lambda *args, **kwargs: self._call(name, target, args, kwargs)

    def _call(self, name: str, target: Callable, args: tuple, kwargs: dict) -> Any:
        for attempt in range(1, self._attempts + 1):
            try:
                return target(*args, **kwargs)
            except TransientError as exc:
                if attempt == self._attempts:
                    raise
                delay = self.backoff(attempt)
                log.warning("store_retry", operation=name, attempt=attempt, delay_s=round(delay, 3),
                            error=str(exc))
                self._sleep(delay)
        raise AssertionError("unreachable")

    def backoff(self, attempt: int) -> float:
        """Seconds before retry ``attempt``: full jitter under min(cap, base · 2^(attempt−1))."""
        return random.uniform(0, min(self._cap, self._base * 2 ** (attempt - 1)))
