"""Plain progress lines when stderr is not a terminal: step, count, percent, every few seconds."""

from __future__ import annotations

import io

from tipoff.cli.progress import PlainProgress


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_short_list_of_steps_prints_every_step_with_its_percent():
    stream, ticks = io.StringIO(), Ticks()
    step = PlainProgress("demo", stream, monotonic=ticks).step
    for n, label in enumerate(["league", "model", "night", "done"], start=1):
        step(n, 4, label)
    assert stream.getvalue().splitlines() == [
        "demo: 1/4 (25%) league", "demo: 2/4 (50%) model", "demo: 3/4 (75%) night",
        "demo: 4/4 (100%) done"]


def test_a_long_run_prints_the_first_line_then_one_every_interval_and_the_last():
    stream, ticks = io.StringIO(), Ticks()
    step = PlainProgress("backfill", stream, interval=5.0, monotonic=ticks).step
    for n in range(1, 101):
        ticks.now = n * 0.5  # 50 s in all
        step(n, 100, f"day {n}")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "backfill: 1/100 (1%) day 1" and lines[-1] == "backfill: 100/100 (100%) day 100"
    assert 10 <= len(lines) <= 12


def test_repeated_updates_of_one_step_are_throttled():
    stream, ticks = io.StringIO(), Ticks()
    step = PlainProgress("demo", stream, interval=5.0, monotonic=ticks).step
    for second in range(20):
        ticks.now = float(second)
        step(2, 4, f"training ({second}/20)")
    assert len(stream.getvalue().splitlines()) == 4  # at 0, 5, 10 and 15 s
