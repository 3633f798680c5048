"""The official Pub/Sub emulator for the tests: one per test session, started on first use.

``TIPOFF_TEST_PUBSUB_EMULATOR_HOST`` (``host:port``) points at an emulator that is already
running instead. Without ``gcloud`` the tests that need it skip (and fail under
``TIPOFF_REQUIRE_SERVICES=1``). The emulator runs in its own process group, killed at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_unavailable

PROJECT = "tipoff-test"
_STARTUP_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(host: str) -> bool:
    name, port = host.rsplit(":", 1)
    try:
        socket.create_connection((name, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


class Emulator:
    """A running emulator: ``host`` is what ``PUBSUB_EMULATOR_HOST`` takes."""

    def __init__(self) -> None:
        self.host = f"127.0.0.1:{_free_port()}"
        self._log = Path(tempfile.mkdtemp(prefix="pubsub-emulator-")) / "emulator.log"
        command = ["gcloud", "beta", "emulators", "pubsub", "start", f"--host-port={self.host}",
                   f"--project={PROJECT}", f"--data-dir={self._log.parent}"]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Pub/Sub emulator exited: {self._log.read_text()[-2000:]}")
            if "Server started" in self._log.read_text(errors="replace") and _listening(self.host):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Pub/Sub emulator did not start in {_STARTUP_SECONDS:.0f} s")

    def stop(self) -> None:
        """Kill the emulator's process group (gcloud starts a JVM beneath it)."""
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(10)


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[str]:
    """``host:port`` of a Pub/Sub emulator, also set as ``PUBSUB_EMULATOR_HOST`` for this session."""
    given = os.environ.get("TIPOFF_TEST_PUBSUB_EMULATOR_HOST")
    emulator = None
    if given:
        if not _listening(given):
            service_unavailable(f"Pub/Sub emulator at {given} unreachable")
        host = given
    else:
        if shutil.which("gcloud") is None:
            service_unavailable("gcloud (Pub/Sub emulator) is not installed")
        emulator = Emulator()
        host = emulator.host
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    try:
        yield host
    finally:
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
        if emulator is not None:
            emulator.stop()
