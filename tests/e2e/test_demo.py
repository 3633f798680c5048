"""The README's main job, end to end: `tipoff demo --json` on a fresh folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tipoff.domain.systems import SYSTEM_IDS


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    done = subprocess.run(
        [sys.executable, "-m", "tipoff", "demo", "--json", "--workdir", str(folder)],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_the_demo_predicts_at_least_95_percent_of_ready_players(demo_report):
    assert demo_report["players_ready"] > 50
    assert demo_report["coverage_pct"] >= 95
    assert demo_report["players_predicted"] * 100 / demo_report["players_ready"] >= 95


@pytest.mark.slow
def test_the_demo_report_has_every_field_the_readme_promises(demo_report):
    for key in ("game_date", "players_on_slate", "players_ready", "players_predicted",
                "coverage_pct", "rows_by_system", "timeline_ms", "batch_id"):
        assert key in demo_report
    # the five DESIGN systems, minutes/role, and the market-aware one where a book priced
    assert set(demo_report["rows_by_system"]) == {*SYSTEM_IDS, "minutes_role_v1",
                                                   "market_residual_v1"}
    timeline = demo_report["timeline_ms"]
    assert 0 <= timeline["claimed"] <= timeline["first_prediction"] <= timeline["complete"]


@pytest.mark.slow
def test_the_demo_writes_no_prediction_twice(demo_report):
    import sqlite3

    path = Path(demo_report["store_url"].removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        total, distinct = db.execute(
            "select count(*), count(distinct game_date || player_lookup || system_id || "
            "coalesce(line, -1)) from predictions where is_active").fetchone()
    assert total == distinct > 0
