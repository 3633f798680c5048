"""The command line as a user runs it (in process, via Typer's runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipoff.cli import app

runner = CliRunner()


def test_the_schedule_shows_the_dst_shift_of_march_8():
    result = runner.invoke(app, ["schedule", "--from", "2026-03-07", "--days", "2", "--json"])
    assert result.exit_code == 0, result.output
    backups = [row for row in json.loads(result.output) if row["job"] == "backup_start"]
    assert [(b["local_time"], b["utc_time"]) for b in backups] == [
        ("2026-03-07T06:00:00-08:00", "2026-03-07T14:00:00+00:00"),
        ("2026-03-08T06:00:00-07:00", "2026-03-08T13:00:00+00:00"),
    ]


def test_a_negative_number_of_schedule_days_is_refused_as_bad_input_not_a_crash():
    from tipoff.errors import InputError

    result = runner.invoke(app, ["schedule", "--days", "-1"])
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == "--days must be at least 1, got -1"


def test_the_schedule_shows_the_dst_shift_of_november_1():
    result = runner.invoke(app, ["schedule", "--from", "2026-10-31", "--days", "2", "--json"])
    utc = [row["utc_time"] for row in json.loads(result.output) if row["job"] == "status_check"]
    assert utc == ["2026-10-31T14:00:00+00:00", "2026-11-01T15:00:00+00:00"]


def test_config_show_masks_secrets(monkeypatch):
    monkeypatch.setenv("TIPOFF_SLACK_WEBHOOK_URL", "https://hooks.example/T000/SECRET")
    monkeypatch.setenv("TIPOFF_SMTP_PASSWORD", "hunter2")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0
    assert "SECRET" not in result.output and "hunter2" not in result.output
    assert "TIPOFF_SLACK_WEBHOOK_URL=********" in result.output


def test_building_features_for_a_date_without_games_says_so_and_succeeds(tmp_path):
    store = f"sqlite:///{tmp_path / 's.db'}"
    result = runner.invoke(app, ["features", "build", "--date", "2026-07-04", "--store", store])
    assert result.exit_code == 0
    assert "no games scheduled on 2026-07-04" in result.output


def test_an_invalid_date_is_a_usage_error():
    result = runner.invoke(app, ["features", "build", "--date", "2026-13-40"])
    assert result.exit_code == 2
    assert "invalid game date" in result.output


BAD_BUS_URLS = [
    "nats://127.0.0.1:4222?max_deliver=0",
    "nats://127.0.0.1:4222?ack_wait_s=abc",
    "nats://127.0.0.1:4222?ack_wait_s=nan",
    "nats://127.0.0.1:4222?prefix=a.b",
    "nats://127.0.0.1:4222?colour=blue",
    "redis://x",
]


@pytest.mark.parametrize("bus", BAD_BUS_URLS)
def test_a_bad_bus_url_option_is_one_error_line_and_exit_code_1(tmp_path, bus):
    from tests.unit.cli_helpers import create_empty_store

    store = create_empty_store(tmp_path / "s.db")  # so the error is the bus's, not the store's
    result = _tipoff("status", "--store", store, "--bus", bus)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "no tipoff store" not in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_postgres_schema_name_is_one_error_line(tmp_path):
    result = _tipoff("status", "--store", "postgresql://postgres@127.0.0.1/test?schema=a-b")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "schema" in lines[0]


def _tipoff(*args: str) -> subprocess.CompletedProcess:
    """The installed ``tipoff`` command, as a user runs it (so ``main``'s error handling runs)."""
    command = Path(sys.executable).with_name("tipoff")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(command), *args], capture_output=True, text=True, env=env,
                          timeout=60)
