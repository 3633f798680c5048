"""Errors as a user meets them: one ``error:`` line, documented exit codes, nothing created."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
import typer

from tests.conftest import POSTGRES_URL, service_unavailable
from tests.unit.cli_helpers import create_empty_store, kept_logging, run_main
from tipoff.cli import app

READ_ONLY = [
    ["status"], ["status", "--check"], ["report"], ["event-path", "disable"],
    ["trigger", "--without-xgboost"], ["start", "--without-xgboost"],
    ["retry", "--without-xgboost"],
    ["backfill", "--from", "2026-01-10", "--to", "2026-01-11", "--without-xgboost"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c))
def test_a_command_on_a_store_that_does_not_exist_says_so_in_one_line_and_creates_nothing(
        command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = run_main(monkeypatch, capsys, *command, "--store", "sqlite:///./missing/x.db")
    assert ran.code == 1
    assert ran.err_lines == ["error: no tipoff store at sqlite:///./missing/x.db"]
    assert list(tmp_path.iterdir()) == []


def test_a_store_under_a_folder_that_does_not_exist_at_the_root_creates_no_folder(
        monkeypatch, capsys, tmp_path):
    folder = f"/tipoff-missing-{uuid.uuid4().hex[:8]}"
    ran = run_main(monkeypatch, capsys, "report", "--store", f"sqlite:///{folder}/x.db")
    assert (ran.code, len(ran.err_lines)) == (1, 1)
    assert not Path(folder).exists()


def test_the_default_store_is_not_created_by_status(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = run_main(monkeypatch, capsys, "status")
    assert ran.err_lines == ["error: no tipoff store at sqlite:///./tipoff.db"]
    assert not (tmp_path / "tipoff.db").exists()


def test_a_postgres_schema_that_does_not_exist_is_reported_and_not_created(monkeypatch, capsys):
    from sqlalchemy import create_engine, text

    from tipoff.adapters.store.sql.postgres import psycopg_url

    schema = f"t_missing_{uuid.uuid4().hex[:8]}"
    engine = create_engine(psycopg_url(POSTGRES_URL))
    try:
        engine.connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure means no server here
        service_unavailable(f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}")
    ran = run_main(monkeypatch, capsys, "status", "--store", f"{POSTGRES_URL}?schema={schema}")
    with engine.connect() as conn:
        found = conn.execute(text("select count(*) from pg_namespace where nspname = :s"),
                             {"s": schema}).scalar()
    engine.dispose()
    assert (ran.code, found) == (1, 0)
    assert ran.err_lines == [f"error: no tipoff store at {POSTGRES_URL}?schema={schema}"]


def test_an_unreachable_postgres_server_is_one_error_line(monkeypatch, capsys):
    ran = run_main(monkeypatch, capsys, "status", "--store", "postgresql://postgres@127.0.0.1:1/x")
    assert ran.code == 1
    assert len(ran.err_lines) == 1 and ran.err_lines[0].startswith("error: store unavailable")


@pytest.mark.parametrize(("args", "code", "words"), [
    (["schedule", "--days", "-1"], 1, "--days must be at least 1"),
    (["demo", "--date", "2026-13-45"], 2, "invalid game date '2026-13-45'"),
    (["status", "--bogus"], 2, "No such option: --bogus"),
    (["start", "--date", "2020-01-01"], 1, "tipoff backfill --from 2020-01-01 --to 2020-01-01"),
    (["retry", "--date", "2020-01-01"], 1, "tipoff backfill --from 2020-01-01 --to 2020-01-01"),
    (["trigger", "--date", "2020-01-01"], 1, "tipoff backfill --from 2020-01-01 --to 2020-01-01"),
    (["nonsense"], 2, "No such command 'nonsense'"),
    (["backfill", "--from", "x", "--to", "y"], 2, "Invalid value for '--from'"),
    (["event-path", "sideways", "--store", "sqlite:///x.db"], 2, "expected enable or disable"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_every_failure_is_one_error_line_with_the_documented_exit_code(
        args, code, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = run_main(monkeypatch, capsys, *args)
    assert ran.code == code, ran
    assert len(ran.err_lines) == 1 and ran.err_lines[0].startswith("error: "), ran.err
    assert words in ran.err_lines[0]
    assert "Traceback" not in ran.err and "╭" not in ran.err
    assert list(tmp_path.iterdir()) == []  # a bad date leaves no folder behind


def test_tipoff_debug_adds_the_traceback(monkeypatch, capsys):
    ran = run_main(monkeypatch, capsys, "schedule", "--days", "-1", env={"TIPOFF_DEBUG": "1"})
    assert ran.code == 1 and "Traceback" in ran.err
    assert ran.err_lines[-1] == "error: --days must be at least 1, got -1"


def _commands(group, path=()):
    import click

    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize("path", list(_commands(typer.main.get_command(app))),
                         ids=lambda p: " ".join(p))
def test_no_help_shows_a_value_after_a_flag(path, monkeypatch, capsys):
    ran = run_main(monkeypatch, capsys, *path, "--help")
    assert ran.code == 0
    assert "<bool>" not in ran.out and "BOOLEAN" not in ran.out


def test_log_lines_written_to_a_pipe_carry_no_escape_codes(capsys):
    import structlog

    from tipoff.logs import configure_logging

    with kept_logging():
        configure_logging(logging.INFO)  # stderr is captured here: not a terminal
        structlog.get_logger("t").warning("model_unavailable", reason="no model")
    text = capsys.readouterr().err
    assert "model_unavailable" in text and "\x1b[" not in text


def test_read_only_commands_print_no_model_warning(tmp_path, monkeypatch, capsys):
    url = create_empty_store(tmp_path / "s.db")
    for command in (["status"], ["report"], ["event-path", "enable"]):
        ran = run_main(monkeypatch, capsys, *command, "--store", url)
        assert ran.code == 0 and "model_unavailable" not in ran.err, (command, ran.err)
