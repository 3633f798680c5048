"""The runbook commands as a user meets them: models required, honest answers, plain output."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.unit.cli_helpers import create_empty_store, run_main
from tipoff.bootstrap import model_store, system_clock
from tipoff.domain.dates import game_date_at
from tipoff.domain.systems import XGBOOST

PREDICTING = [
    ["start"], ["retry"], ["trigger"],
    ["backfill", "--from", "2026-01-10", "--to", "2026-01-11"],
    ["worker"], ["serve", "--port", "1"],
]


@pytest.mark.parametrize("command", PREDICTING, ids=lambda c: c[0])
def test_a_command_that_predicts_refuses_to_run_without_a_model_and_names_tipoff_train(
        command, tmp_path, monkeypatch, capsys):
    url = create_empty_store(tmp_path / "s.db")
    ran = run_main(monkeypatch, capsys, *command, "--store", url,
                   "--model-dir", str(tmp_path / "models"))
    assert ran.code == 1, ran
    assert len(ran.err_lines) == 1 and ran.err_lines[0].startswith("error: no usable model")
    assert "`tipoff train --through DATE" in ran.err and "--without-xgboost" in ran.err


def test_the_model_dir_option_points_a_command_at_a_trained_model_and_not_ready_exits_1(tmp_path, monkeypatch, capsys):
    from tests.unit.stage5_fixtures import small_model

    model_store(tmp_path / "models").save(small_model().artifact, XGBOOST)
    url = create_empty_store(tmp_path / "s.db")
    today = game_date_at(system_clock().now())
    ran = run_main(monkeypatch, capsys, "start", "--date", str(today), "--no-wait",
                   "--store", url, "--model-dir", str(tmp_path / "models"))
    assert "no usable model" not in ran.err
    assert ran.out.startswith("not_ready: ") and ran.code == 1  # refused, as HTTP's 409


def test_start_without_a_running_service_says_the_wait_is_only_recorded(tmp_path, monkeypatch,
                                                                           capsys):
    url = create_empty_store(tmp_path / "s.db")
    today = game_date_at(system_clock().now())
    ran = run_main(monkeypatch, capsys, "start", "--date", str(today), "--store", url,
                   "--without-xgboost")
    assert ran.code == 0, ran
    assert ran.out.startswith("waiting_for_phase4: ")
    assert "note: the wait is recorded in the store: a running `tipoff serve`" in ran.out
    ran = run_main(monkeypatch, capsys, "start", "--date", str(today), "--store", url,
                   "--without-xgboost", "--json")
    assert json.loads(ran.out)["note"].startswith("the wait is recorded")


def test_status_and_report_print_no_python_reprs(tmp_path, monkeypatch, capsys):
    url = create_empty_store(tmp_path / "s.db")
    for command in (["status"], ["report"], ["status", "--check"]):
        ran = run_main(monkeypatch, capsys, *command, "--store", url)
        assert ran.code == 0, ran
        for repr_text in ("None", "True", "False", "{", "}", "[]"):
            assert repr_text not in ran.out, (command, repr_text, ran.out)


def test_status_json_keeps_the_machine_values(tmp_path, monkeypatch, capsys):
    url = create_empty_store(tmp_path / "s.db")
    ran = run_main(monkeypatch, capsys, "status", "--store", url, "--json")
    body = json.loads(ran.out)
    assert body["batch_id"] is None and body["event_path_enabled"] is True


def test_the_schedule_lists_what_is_next_from_now(monkeypatch, capsys):
    now = system_clock().now()
    ran = run_main(monkeypatch, capsys, "schedule", "--days", "2", "--json")
    times = [datetime.fromisoformat(row["utc_time"]) for row in json.loads(ran.out)]
    assert len(times) == 8 and all(t > now for t in times) and times == sorted(times)


def test_config_show_names_the_log_variables_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = run_main(monkeypatch, capsys, "config", "show", env={"TIPOFF_LOG_FORMAT": "json"})
    assert ran.code == 0
    assert "TIPOFF_LOG_LEVEL=INFO" in ran.out and "TIPOFF_LOG_FORMAT=json" in ran.out
    assert "no tipoff store at sqlite:///./tipoff.db" in ran.err
    assert list(tmp_path.iterdir()) == []
