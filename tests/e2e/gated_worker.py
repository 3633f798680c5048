"""``tipoff worker`` whose handler waits at a gate before handling anything.

Run as ``python gated_worker.py GATE_FILE worker --store … --bus …``: every fetched batch is held
(un-acknowledged) until GATE_FILE exists. The fault tests use it to kill a worker while it
certainly holds requests. Test-only: it patches the worker class in this process; production
code has no such hook.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from tipoff.pipeline import worker


def _gated(handle, gate: Path):
    closed = threading.Event()  # never set: its wait() is an interruptible pause

    def handle_after_gate(self, messages):
        while not gate.exists():
            closed.wait(0.01)
        return handle(self, messages)

    return handle_after_gate


def main() -> None:
    gate, args = Path(sys.argv[1]), sys.argv[2:]
    worker.Worker.handle_batch = _gated(worker.Worker.handle_batch, gate)
    from tipoff.cli import main as tipoff

    sys.argv = ["tipoff", *args]
    tipoff()


if __name__ == "__main__":
    main()
