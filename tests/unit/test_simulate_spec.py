"""The fault spec of ``tipoff simulate``: parsing, composition and seeded draws."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tipoff.errors import InputError
from tipoff.services.season import summary
from tipoff.sim.faults import night_faults, parse_faults

SPEC = ("event_lost=0.1,phase4_late=0.1:20-90m,phase4_missing=0.02,worker_crash=0.05,"
        "write_fail=0.02,slack_down=0.05,duplicate_delivery=0.2")


def test_the_issues_spec_parses_with_its_rates_and_sizes():
    spec = parse_faults(SPEC)
    assert spec.rate("event_lost") == 0.1 and spec.rate("smtp_down") == 0
    assert spec.faults["phase4_late"].minutes == (20, 90)
    assert parse_faults("phase4_partial=0.3:0.25").faults["phase4_partial"].fraction == 0.25
    assert parse_faults("slack_down").rate("slack_down") == 1
    assert parse_faults(SPEC).describe() == SPEC


@pytest.mark.parametrize("text", ["lightning=0.1", "event_lost=2", "event_lost=x",
                                  "phase4_late=0.1:90-20m", "phase4_late=0.1:20m",
                                  "worker_crash=0.1:3"])
def test_a_bad_spec_is_an_input_error(text):
    with pytest.raises(InputError):
        parse_faults(text)


def test_the_same_seed_draws_the_same_nights_and_kinds_do_not_shift_each_other():
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(60)]
    lost = [night_faults(parse_faults("event_lost=0.3"), 1, d).event_lost for d in days]
    again = [night_faults(parse_faults("event_lost=0.3,phase4_late=0.5"), 1, d).event_lost
             for d in days]
    other_seed = [night_faults(parse_faults("event_lost=0.3"), 2, d).event_lost for d in days]
    assert lost == again and lost != other_seed and 5 < sum(lost) < 35


def test_late_minutes_stay_within_the_size_and_a_missing_stage_4_is_not_also_late():
    spec = parse_faults("phase4_late=1:20-90m,phase4_missing=0.5")
    nights = [night_faults(spec, 1, date(2026, 1, 1) + timedelta(days=n)) for n in range(40)]
    assert all(n.late is None for n in nights if n.missing)
    assert all(timedelta(minutes=20) <= n.late <= timedelta(minutes=90)
               for n in nights if not n.missing)


def test_a_miss_without_a_critical_alert_and_a_page_on_a_good_night_are_both_counted():
    page = {"type": "no_batch", "severity": "critical", "channel": "email", "at": "x"}
    nights = [
        {"sla_met": False, "critical_by_0705": True, "alerts": [page], "duplicates": 0},
        {"sla_met": False, "critical_by_0705": False, "alerts": [], "duplicates": 0},
        {"sla_met": True, "critical_by_0705": True, "alerts": [page, {**page, "channel": "slack"}],
         "duplicates": 1},
    ]
    assert summary(nights, 2.0) == {
        "nights": 3, "sla_met": 1, "sla_missed": 2, "missed_without_critical_alert": 1,
        "false_alarms": 1, "duplicates": 1, "seconds": 2.0}


def test_simulate_with_an_unknown_fault_is_one_error_line_before_any_work(tmp_path):
    command = Path(sys.executable).with_name("tipoff")
    result = subprocess.run([str(command), "simulate", "--workdir", str(tmp_path), "--faults",
                             "lightning=0.5"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}, check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:")
    assert "lightning" in lines[0] and not any(tmp_path.iterdir())


def test_the_html_page_is_self_contained_with_both_charts_and_every_night():
    from tipoff.sim.season_html import season_page

    night = {"game_date": "2026-01-14", "sla_met": False, "coverage_pct": 0.0,
             "predicted_by_0700": 0, "started_by": "none", "latency_s": None,
             "faults": ["phase4_missing"], "duplicates": 0,
             "alerts": [{"type": "no_batch", "severity": "critical", "channel": "email",
                         "at": "2026-01-14T15:00:00+00:00"}]}
    good = {**night, "game_date": "2026-01-15", "sla_met": True, "coverage_pct": 100.0,
            "started_by": "pubsub", "latency_s": 0.0, "faults": [], "alerts": []}
    page = season_page({"nights": [night, good], "summary": summary(
        [{**night, "critical_by_0705": True}, {**good, "critical_by_0705": False}], 1.0)},
        title="t <season>", faults="phase4_missing=0.02", seed=1)
    assert page.count("<svg") == 2 and "t &lt;season&gt;" in page
    assert "2026-01-14" in page and "2026-01-15" in page and "no_batch (critical, email)" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
