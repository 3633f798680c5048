"""Pausing Python's cyclic garbage collector around allocation-heavy, acyclic work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside: for work that allocates tens of thousands of small acyclic
    objects (freed by reference counting) in a process that holds a season's frames, where
    each full collection those allocations trigger costs tens of milliseconds. The collector
    is left as it was found, also when the work fails."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
