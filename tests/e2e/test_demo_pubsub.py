"""`tipoff demo --bus pubsub://PROJECT` on the Pub/Sub emulator: the same night, its timeline.

One run in text mode (what a user reads); its figures are read from that text. It trains the
demo's model first (cold, like a user's first run), so it takes ~30-90 s on a shared machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest

from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)


@pytest.fixture(scope="module")
def demo_text(tmp_path_factory, pubsub_emulator) -> str:  # noqa: F811
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")},
           "PUBSUB_EMULATOR_HOST": pubsub_emulator, "COLUMNS": "200", "NO_COLOR": "1"}
    bus = f"pubsub://tipoff-demo-{uuid.uuid4().hex[:8]}"  # a project of its own on the emulator
    done = subprocess.run(
        [sys.executable, "-m", "tipoff", "demo", "--bus", bus,
         "--workdir", str(tmp_path_factory.mktemp("demo-pubsub"))],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_the_demo_on_the_emulator_predicts_at_least_95_percent_of_ready_players(demo_text) -> None:
    counts = re.search(r"(\d+) production ready.*of the ready: (\d+) predicted.*coverage (\d+\.\d)%", demo_text)
    assert counts, demo_text
    ready, predicted, coverage = int(counts[1]), int(counts[2]), float(counts[3])
    assert ready > 50 and predicted * 100 / ready >= 95 and coverage >= 95


@pytest.mark.slow
def test_the_demo_on_the_emulator_prints_its_timeline(demo_text) -> None:
    timeline = re.search(r"timeline from stage 4 complete: claimed \+([\d,]+) ms, "
                         r"first prediction \+([\d,]+) ms, complete \+([\d,]+) ms", demo_text)
    assert timeline, demo_text
    claimed, first, complete = (int(timeline[n].replace(",", "")) for n in (1, 2, 3))
    assert 0 <= claimed <= first <= complete
    print(f"\nstage 4 done -> last prediction durable on the emulator: {complete} ms")
