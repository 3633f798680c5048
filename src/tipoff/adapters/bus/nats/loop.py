"""The asyncio side of ``NatsBus``: an event loop on its own thread, and error translation.

nats-py is asyncio; the Bus port is called from ordinary threads. ``LoopThread`` runs one event
loop on a daemon thread and lets those threads wait for coroutines on it. ``translate`` turns
every nats-py (and socket) exception into a ``TransientError`` or ``PermanentError``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
import structlog

from tipoff.adapters.bus.envelope import describe
from tipoff.errors import AdapterError, PermanentError, TransientError

T = TypeVar("T")
log = structlog.get_logger(__name__)

# Retrying cannot fix these: the request itself is wrong or forbidden.
_PERMANENT = (
    nats.errors.AuthorizationError,
    nats.errors.BadSubjectError,
    nats.errors.BadHeaderError,
    nats.errors.MaxPayloadError,
    nats.errors.InvalidUserCredentialsError,
    nats.errors.SecureConnRequiredError,
    nats.errors.SecureConnWantedError,
)
_TRANSLATABLE = (nats.errors.Error, OSError, asyncio.TimeoutError, concurrent.futures.TimeoutError)


def translate(exc: BaseException, doing: str) -> AdapterError:
    """The tipoff error for a nats-py or socket failure while ``doing`` something."""
    if isinstance(exc, AdapterError):
        return exc
    message = f"NATS {doing} failed: {describe(exc)}"
    if isinstance(exc, nats.js.errors.APIError):
        code = exc.code or 0
        # 408/409 are JetStream's "timed out"/"busy"; other 4xx are bad requests.
        permanent = 400 <= code < 500 and code not in (408, 409)
        return (PermanentError if permanent else TransientError)(message)
    if isinstance(exc, _PERMANENT):
        return PermanentError(message)
    return TransientError(message)


class LoopThread:
    """An asyncio event loop running on a daemon thread, fed from other threads."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], doing: str, timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and return its result; nats errors become AdapterErrors."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("NatsBus methods cannot be called from its own event loop thread")
        if self.loop.is_closed() or not self._thread.is_alive():
            coro.close()
            raise PermanentError(f"NATS {doing} failed: the bus is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except _TRANSLATABLE as exc:
            future.cancel()
            raise translate(exc, doing) from exc

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what still runs on the loop, stop it, wait for its thread and close it."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(_cancel_others(), self.loop).result(timeout)
            except concurrent.futures.TimeoutError:
                log.warning("nats_loop_tasks_not_cancelled", timeout=timeout)  # stopping anyway
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


async def _cancel_others() -> None:
    """Cancel every other task (client readers, fetch loops) so none dies with the loop."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
