"""Off a terminal the commands' tables are not squeezed into 80 columns (a backtest report
redirected to a file keeps its numbers), and COLUMNS still decides when it is set."""

from __future__ import annotations

import os
import subprocess
import sys

from tipoff.cli.common import PIPE_WIDTH

SHOW_WIDTH = "from tipoff.cli.common import out, err; print(out.width, err.width)"


def _widths(env: dict[str, str]) -> list[int]:
    done = subprocess.run([sys.executable, "-c", SHOW_WIDTH], env=env, capture_output=True,
                          text=True, check=True)
    return [int(w) for w in done.stdout.split()]


def test_a_pipe_gets_wide_lines_and_columns_overrides_it():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    assert _widths(env) == [PIPE_WIDTH, PIPE_WIDTH]
    assert _widths({**env, "COLUMNS": "100"}) == [100, 100]
