"""The trend report and the dashboard agree with ``tipoff status`` over a simulated week."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tipoff.cli import app
from tipoff.config import Settings
from tipoff.logs import configure_logging
from tipoff.pipeline.trend_report import format_trend, latency_class
from tipoff.services.http import create_app
from tipoff.services.runtime import build_services
from tests.services.simulated_week import (
    LAST_NIGHT, LATE_CLAIM, LOST_EVENT, NIGHTS, NO_STAGE4, serve_week,
)
from tests.services.test_http_api import Api

STATUS_KEYS_NOT_COMPARED = {"event_path_enabled"}


def tipoff(*args: str, env: dict[str, str] | None = None):
    """Run a command in process; the commands configure logging to the runner's stderr, which
    closes afterwards, so logging is put back on the real stderr."""
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        configure_logging()


@pytest.fixture(scope="module")
def cli_report(week) -> dict:
    result = tipoff("report", "--days", str(NIGHTS), "--date", str(LAST_NIGHT),
                    "--store", week.url, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def api(week, tmp_path_factory):
    settings = Settings(store_url=week.url, bus_url="memory://",
                        model_dir=tmp_path_factory.mktemp("models"))
    services = build_services(settings, week.clock, workers=0, with_scheduler=False)
    yield Api(create_app(services))
    services.stop()


def cli_status(week, night) -> dict:
    result = tipoff("status", "--date", str(night), "--store", week.url, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_night_of_the_report_has_the_numbers_tipoff_status_prints(week, cli_report):
    assert [n["game_date"] for n in cli_report["nights"]] == [str(d) for d in week.dates()]
    for night in cli_report["nights"]:
        status = cli_status(week, night["game_date"])
        for key, value in status.items():
            if key not in STATUS_KEYS_NOT_COMPARED:
                assert night[key] == value, (night["game_date"], key)


def test_the_http_report_and_the_cli_report_agree(api, cli_report):
    answer = api.get(f"/report?days={NIGHTS}&to={LAST_NIGHT}")
    assert answer.status_code == 200
    assert answer.json()["nights"] == cli_report["nights"]
    assert answer.json()["trend"] == cli_report["trend"]


def test_the_dashboard_shows_tonight_as_tipoff_status_does(week, api):
    overview = api.get("/dashboard/api/overview?days=7").json()
    tonight, status = overview["tonight"], cli_status(week, LAST_NIGHT)
    assert overview["game_date"] == str(LAST_NIGHT)
    assert {k: tonight[k] for k in status} == {**status, "event_path_enabled":
                                              tonight["event_path_enabled"]}
    assert [n["coverage_pct"] for n in overview["nights"]] == [
        cli_status(week, d)["coverage_pct"] for d in week.dates()]


def test_the_week_shows_each_nights_trigger_latency_class_and_promise(cli_report):
    nights = cli_report["nights"]
    normal = [n for i, n in enumerate(nights) if i not in (LATE_CLAIM, LOST_EVENT, NO_STAGE4)]
    assert {(n["trigger_source"], n["latency_class"], n["sla_met"]) for n in normal} == {
        ("pubsub", "excellent", True)}
    assert (nights[LATE_CLAIM]["latency_class"], nights[LATE_CLAIM]["sla_met"]) == (
        "warning", True)
    assert 12 * 60 <= nights[LATE_CLAIM]["latency_seconds"] < 13 * 60
    lost = nights[LOST_EVENT]
    assert (lost["trigger_source"], lost["latency_class"]) == ("scheduler_backup", "critical")
    assert lost["stage5_started_at"] > lost["stage4_finished_at"]
    missing = nights[NO_STAGE4]
    assert (missing["state"], missing["sla_met"], missing["stage4_finished_at"]) == (
        "no_batch", False, None)
    assert missing["alerts_sent"] >= 1  # the 07:00 check: zero predictions is critical
    assert all(n["players_lined"] > 0 and n["average_quality"] > 0 for n in normal)
    assert cli_report["trend"]["sla"] == {"met": NIGHTS - 1, "missed": 1, "pending": 0,
                                          "no_games": 0}
    assert cli_report["trend"]["latency_seconds"]["nights"] == NIGHTS - 1


def test_the_plain_report_prints_one_line_per_night_and_the_trend(week):
    result = tipoff("report", "--days", "3", "--date", str(LAST_NIGHT), "--store", week.url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("night") and len(lines) == 1 + 3 + 4
    assert lines[3].startswith(str(LAST_NIGHT)) and "excellent" in lines[3]
    assert lines[4].startswith("latency: mean")


def test_report_from_a_running_service_equals_the_report_from_its_store(week, cli_report,
                                                                       tmp_path):
    token = "trend-report-token-0123456789"
    with serve_week(week, token, tmp_path / "models") as live:
        common = ("report", "--days", str(NIGHTS), "--date", str(LAST_NIGHT), "--url", live.url)
        remote = tipoff(*common, "--json", env={"TIPOFF_API_TOKEN": token})
        plain = tipoff(*common, env={"TIPOFF_API_TOKEN": token})
        refused = tipoff(*common, env={"TIPOFF_API_TOKEN": "not-the-token-0123456789"})
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == cli_report
    local = tipoff("report", "--days", str(NIGHTS), "--date", str(LAST_NIGHT), "--store", week.url)
    assert plain.exit_code == 0 and plain.stdout == local.stdout
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    single = tipoff("report", "--url", live.url, env={"COLUMNS": "300"})
    assert single.exit_code == 2 and "add --days N" in single.output


def test_report_days_out_of_range_is_one_error_not_a_traceback(week, api):
    result = tipoff("report", "--days", "0", "--store", week.url)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert api.get("/report?days=0").status_code == 422
    assert api.get("/report?days=3&to=yesterday").status_code == 422


@pytest.mark.parametrize("seconds, expected", [(None, None), (0, "excellent"),
                                               (299.9, "excellent"), (300, "warning"),
                                               (1799, "warning"), (1800, "critical")])
def test_latency_classes_follow_the_five_and_thirty_minute_bounds(seconds, expected):
    assert latency_class(seconds) == expected


def test_format_trend_says_no_nights_when_nothing_ran():
    empty = {"nights": [], "trend": {
        "latency_seconds": {"nights": 0}, "coverage_pct": {"nights": 0},
        "lined_coverage_pct": {"nights": 0},
        "sla": {"met": 0, "missed": 0, "pending": 0, "no_games": 0}}}
    assert format_trend(empty)[1:] == ["latency: no nights", "coverage of ready: no nights",
                                       "coverage of lined: no nights",
                                       "07:00 PT promise: met 0, missed 0, pending 0, "
                                       "no games 0"]
