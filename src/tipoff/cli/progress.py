"""Progress on long work: a Rich bar on a terminal, plain lines every few seconds elsewhere.

Pipelines report progress through a ``(done, total, label)`` callback; ``progress`` turns it
into a display that suits stderr: CI logs and ``| tee`` get one readable line per step and
at most one more every ``PLAIN_INTERVAL_S`` seconds, never escape codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console

PLAIN_INTERVAL_S = 5.0
Step = Callable[[int, int, str], None]


@contextmanager
def progress(title: str, console: Console) -> Iterator[Step]:
    """Yield the callback pipelines accept, drawing on ``console`` (stderr)."""
    if console.is_terminal:
        with _bar(title, console) as step:
            yield step
    else:
        yield PlainProgress(title, console.file).step


@contextmanager
def _bar(title: str, console: Console) -> Iterator[Step]:
    from rich.progress import (
        BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(title, total=None)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{title}: {label}")

        yield step


class PlainProgress:
    """Plain progress lines: the first and the last, each new step of a short list (≤ 10
    steps), and otherwise at most one per ``interval`` seconds."""

    def __init__(self, title: str, stream: TextIO, *, interval: float = PLAIN_INTERVAL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._title = title
        self._stream = stream
        self._interval = interval
        self._monotonic = monotonic
        self._last_step: int | None = None
        self._last_at = float("-inf")

    def step(self, done: int, total: int, label: str) -> None:
        """Report ``done`` of ``total`` (printed or not, as the class says)."""
        now = self._monotonic()
        new_step = done != self._last_step and (total <= 10 or done == total)
        if not new_step and now - self._last_at < self._interval:
            return
        self._last_step, self._last_at = done, now
        pct = f" ({100 * done // total}%)" if total else ""
        self._stream.write(f"{self._title}: {done}/{total}{pct} {label}\n")
        self._stream.flush()
