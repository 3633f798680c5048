"""`tipoff demo --bus pubsub://PROJECT` on the Pub/Sub emulator: the same night, its timeline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)


@pytest.fixture(scope="module")
def demo_on_the_emulator(tmp_path_factory, pubsub_emulator) -> tuple[dict, str]:  # noqa: F811
    """One JSON run (the figures) and one text run (what a user reads), on a project each."""
    folder = tmp_path_factory.mktemp("demo-pubsub")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")},
           "PUBSUB_EMULATOR_HOST": pubsub_emulator, "COLUMNS": "120", "NO_COLOR": "1"}

    def demo(*extra: str) -> str:
        bus = f"pubsub://tipoff-demo-{uuid.uuid4().hex[:8]}"
        done = subprocess.run(
            [sys.executable, "-m", "tipoff", "demo", "--bus", bus, "--workdir", str(folder),
             *extra], capture_output=True, text=True, env=env, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    report = json.loads(demo("--json"))
    return report, demo()  # the second run reuses the trained model


@pytest.mark.slow
def test_the_demo_on_the_emulator_predicts_at_least_95_percent_of_ready_players(
        demo_on_the_emulator) -> None:
    report, _ = demo_on_the_emulator
    assert report["players_ready"] > 50 and report["coverage_pct"] >= 95
    timeline = report["timeline_ms"]
    assert 0 <= timeline["claimed"] <= timeline["first_prediction"] <= timeline["complete"]
    print(f"\nstage 4 done -> last prediction durable on the emulator: {timeline['complete']} ms "
          f"({report['players_predicted']} players)")


@pytest.mark.slow
def test_the_demo_on_the_emulator_prints_its_timeline(demo_on_the_emulator) -> None:
    _, text = demo_on_the_emulator
    assert "timeline from stage 4 complete: claimed +" in text
    assert "first prediction +" in text and "complete +" in text
    coverage = re.search(r"coverage (\d+\.\d)%", text)
    assert coverage and float(coverage.group(1)) >= 95, text
