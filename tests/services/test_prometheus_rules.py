"""The Prometheus rules in deploy/prometheus/ under promtool (Debian package ``prometheus``).

``promtool test rules`` runs the shipped unit tests (January 1970, Pacific standard time). The
daylight-saving side of the Pacific clock cannot be reached cheaply there (promtool evaluates
every rule from 1970 onwards), so the clock rules' expressions are also evaluated at fixed
instants — ``month()`` becomes ``month(vector(T))`` — and compared with Python's zoneinfo on
every DST change of 2024-2032.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import service_unavailable

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "tipoff-rules.yml"
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        service_unavailable("promtool not installed (Debian package prometheus)")
    return path


def run(promtool: str, *args: str, cwd: Path = RULES_DIR) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_promtool_check_rules_accepts_the_rule_file(promtool):
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass(promtool):
    result = run(promtool, "test", "rules", "tipoff-rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_has_a_rule():
    names = {r.get("alert") for g in yaml.safe_load(RULES.read_text())["groups"]
             for r in g["rules"]}
    assert {"TipoffNoBatchBy0610", "TipoffCoverageLow", "TipoffCoverageCritical",
            "TipoffLatencyHigh", "TipoffLatencyCritical", "TipoffDeadLetters",
            "TipoffAlertChannelFailing"} <= names


def clock_expressions() -> tuple[str, str]:
    rules = {r.get("record"): r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"]
             for r in g["rules"]}
    offset = rules["tipoff:pacific_utc_offset_hours"]
    minute = rules["tipoff:pacific_minute_of_day"].replace(
        "tipoff:pacific_utc_offset_hours", f"({offset})")
    return offset, minute


def at_instant(expr: str, instant: datetime) -> str:
    """``expr`` reading ``instant`` instead of the evaluation time."""
    return re.sub(r"\btime\(\)", str(int(instant.timestamp())), expr)


def instants() -> list[datetime]:
    """04:00-23:59 PT around every US DST change of 2024-2032, and two ordinary days a year
    (00:00-02:00 on a change day is the documented blind spot)."""
    days: list[date] = []
    for year in range(2024, 2033):
        for month in (3, 11):
            first = date(year, month, 1)
            sundays = [first + timedelta(days=n) for n in range(14)
                       if (first + timedelta(days=n)).weekday() == 6]
            change = sundays[1] if month == 3 else sundays[0]
            days += [change - timedelta(days=1), change, change + timedelta(days=1)]
        days += [date(year, 1, 15), date(year, 7, 4)]
    return [datetime(d.year, d.month, d.day, h, m, tzinfo=PACIFIC).astimezone(timezone.utc)
            for d in days for h, m in ((4, 0), (6, 10), (7, 0), (23, 59))]


def test_the_pacific_clock_rules_agree_with_zoneinfo_across_daylight_saving_changes(
        promtool, tmp_path):
    offset, minute = clock_expressions()
    cases = []
    for instant in instants():
        local = instant.astimezone(PACIFIC)
        hours = local.utcoffset().total_seconds() / 3600
        cases.append({"expr": at_instant(offset, instant), "eval_time": "0m",
                      "exp_samples": [{"labels": "{}", "value": hours}]})
        cases.append({"expr": at_instant(minute, instant), "eval_time": "0m",
                      "exp_samples": [{"labels": "{}", "value": local.hour * 60 + local.minute}]})
    (tmp_path / "empty.yml").write_text("groups: []\n")
    (tmp_path / "clock.test.yml").write_text(yaml.safe_dump({
        "rule_files": ["empty.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [], "promql_expr_test": cases}]}))
    result = run(promtool, "test", "rules", "clock.test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert len(cases) == 2 * 4 * 9 * 8
