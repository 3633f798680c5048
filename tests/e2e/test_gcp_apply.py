"""`tipoff gcp apply` on the Pub/Sub emulator: a second apply changes nothing."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tipoff.cli import app
from tests.pubsub_emulator import PROJECT
from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)


def test_a_second_apply_on_the_emulator_changes_nothing(pubsub_emulator) -> None:  # noqa: F811
    args = ["gcp", "apply", "--project", PROJECT, "--region", "us-west2", "--json",
            "--coordinator-url", "https://coord.example", "--worker-url", "https://work.example"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.output)["changed"]) == 8
    second = json.loads(CliRunner().invoke(app, args).output)
    assert second["changed"] == [] and len(second["unchanged"]) == 8
    assert {s["name"] for s in second["skipped"]} >= {"tipoff-coordinator", "tipoff-start"}
