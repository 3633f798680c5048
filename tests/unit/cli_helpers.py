"""Running ``tipoff`` in tests as a user meets it: ``main``'s exit codes and error lines."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tipoff.cli import main


@dataclass(frozen=True)
class Ran:
    """One command's exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_main(monkeypatch, capsys, *args: str, env: dict[str, str] | None = None) -> Ran:
    """``tipoff ARGS`` in this process through ``main`` (stdout and stderr are not terminals)."""
    monkeypatch.setattr(sys, "argv", ["tipoff", *args])
    monkeypatch.setenv("COLUMNS", "200")
    for key in [k for k in os.environ if k.startswith("TIPOFF_")]:
        monkeypatch.delenv(key)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    with kept_logging():  # main configures logging onto this test's captured stderr
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


@contextmanager
def kept_logging():
    """Restore structlog's configuration afterwards: a logger left writing to a test's
    captured (then closed) stderr would fail every later test that logs."""
    import structlog

    before = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**before)


def run_process(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                timeout: float = 300) -> Ran:
    """The installed ``tipoff`` as a subprocess, its output piped (not a terminal)."""
    command = Path(sys.executable).with_name("tipoff")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    environment.update({"COLUMNS": "200", **(env or {})})
    done = subprocess.run([str(command), *args], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=timeout)
    return Ran(done.returncode, done.stdout, done.stderr)


def create_empty_store(path: Path) -> str:
    """An existing, empty tipoff store (SQLite) and its URL."""
    from tipoff.bootstrap import open_store, system_clock

    url = f"sqlite:///{path}"
    open_store(url, system_clock()).close()
    return url
