"""A local BigQuery for the tests: ``crucible serve --dialect bigquery``, one per session.

Without the ``crucible`` executable (``crucible-emulator[server]``) the tests that need it skip
(and fail under ``TIPOFF_REQUIRE_SERVICES=1``). It runs in its own process group, killed at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_unavailable

PROJECT = "tipoff-test"
_STARTUP_SECONDS = 60.0


def _crucible() -> str | None:
    beside_python = Path(sys.executable).with_name("crucible")
    return str(beside_python) if beside_python.exists() else shutil.which("crucible")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BigQueryEmulator:
    """A running emulator: ``endpoint`` is what ``?endpoint=`` / ``api_endpoint`` takes."""

    def __init__(self, executable: str) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = Path(tempfile.mkdtemp(prefix="bigquery-emulator-")) / "crucible.log"
        command = [executable, "serve", "--dialect", "bigquery", "--port", str(self.port)]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             cwd=self._log.parent, start_new_session=True)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"BigQuery emulator exited: {self._log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"BigQuery emulator not listening after {_STARTUP_SECONDS:.0f} s")

    def url(self, dataset: str) -> str:
        """A ``TIPOFF_WAREHOUSE_URL`` for ``dataset`` on this emulator."""
        return f"bigquery://{PROJECT}/{dataset}?endpoint={self.endpoint}"

    def stop(self) -> None:
        """Kill the emulator's process group and wait for it."""
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()


@pytest.fixture(scope="session")
def bigquery_emulator() -> Iterator[BigQueryEmulator]:
    """The session's BigQuery emulator, started on first use."""
    executable = _crucible()
    if executable is None:
        service_unavailable("crucible (crucible-emulator[server]) is not installed")
    emulator = BigQueryEmulator(executable)  # type: ignore[arg-type]
    try:
        yield emulator
    finally:
        emulator.stop()
