"""`tipoff gcp apply`: the Pub/Sub part on the Pub/Sub emulator; service accounts, Cloud Run and
Cloud Scheduler through the official client libraries against a local stand-in
(``tests/gcp_standin.py``: Run and Scheduler over REST, IAM over gRPC)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.cloud import run_v2, scheduler_v1
from typer.testing import CliRunner

from tests.gcp_standin import Standin, gcp_standin  # noqa: F401  (the fixture)
from tests.pubsub_emulator import PROJECT
from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)
from tipoff.cli import app
from tipoff.domain.gcp_plan import PlanConfig, Resource, build_plan

REGION = "us-west2"
COORDINATOR, WORKER = "https://coord.example", "https://work.example"
IMAGE = "us-west2-docker.pkg.dev/p/tipoff/tipoff:1.0"


def _args(project: str, standin: Standin | None = None) -> list[str]:
    args = ["gcp", "apply", "--project", project, "--region", REGION, "--json",
            "--coordinator-url", COORDINATOR, "--worker-url", WORKER, "--image", IMAGE]
    return args + (["--endpoint", standin.endpoint, "--iam-endpoint", standin.iam_endpoint]
                   if standin else [])


def _apply(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _plan(project: str, kind: str) -> list[Resource]:
    config = PlanConfig(project, REGION, COORDINATOR, WORKER, IMAGE)
    return [r for r in build_plan(config) if r.kind == kind]


@pytest.fixture
def project() -> str:
    """A project of its own on the session's emulator (topics persist across tests)."""
    return f"tipoff-apply-{uuid.uuid4().hex[:8]}"


def test_a_second_apply_on_the_emulator_changes_nothing(pubsub_emulator) -> None:  # noqa: F811
    args = _args(PROJECT)
    first = _apply(args)
    assert len(first["changed"]) == 8
    second = _apply(args)
    assert second["changed"] == [] and len(second["unchanged"]) == 8
    assert {s["name"] for s in second["skipped"]} >= {"tipoff-coordinator", "tipoff-start"}
    assert all("PUBSUB_EMULATOR_HOST is set" in s["reason"] for s in second["skipped"])


def test_apply_on_an_empty_project_creates_every_resource_with_the_plans_settings(
        pubsub_emulator, gcp_standin, project) -> None:  # noqa: F811
    result = _apply(_args(project, gcp_standin))
    assert result["skipped"] == [] and result["unchanged"] == []
    assert len(result["changed"]) == 8 + 2 + 2 + 2 + 5
    state = gcp_standin.state
    for job in _plan(project, "scheduler_job"):
        stored, want = state.jobs[f"projects/{project}/locations/{REGION}/jobs/{job.name}"], job.settings
        target = stored["httpTarget"]
        assert (stored["schedule"], stored["timeZone"]) == (want["schedule"], "America/Los_Angeles")
        assert stored["attemptDeadline"] == f"{want['attempt_deadline_s']}s"
        assert target["uri"] == want["uri"] and target["headers"] == {"X-CloudScheduler": "true"}
        assert scheduler_v1.HttpMethod(target["httpMethod"]).name == want["http_method"]
        assert target["oidcToken"] == {"serviceAccountEmail": f"tipoff-invoker@{project}.iam.gserviceaccount.com",
                                       "audience": COORDINATOR}
    assert {n.rsplit("/", 1)[1]: j["schedule"] for n, j in state.jobs.items()} == {
        "tipoff-start": "0 6 * * *", "tipoff-retry-0615": "15 6 * * *",
        "tipoff-retry-0630": "30 6 * * *", "tipoff-status-0700": "0 7 * * *",
        "tipoff-wait-poll": "* 6-7 * * *"}
    for service in _plan(project, "run_service"):
        stored = state.services[f"projects/{project}/locations/{REGION}/services/{service.name}"]
        template = stored["template"]
        assert run_v2.IngressTraffic(stored["ingress"]).name == "INGRESS_TRAFFIC_ALL"
        assert template["serviceAccount"] == f"tipoff-runtime@{project}.iam.gserviceaccount.com"
        assert template["containers"] == [{"image": IMAGE, "args": service.settings["args"]}]
        assert template["scaling"].get("maxInstanceCount") == service.settings["max_instances"]
        assert template["scaling"].get("minInstanceCount", 0) == service.settings["min_instances"]
        assert state.policies[stored["name"]]["bindings"] == [
            {"role": "roles/run.invoker",
             "members": [f"serviceAccount:tipoff-invoker@{project}.iam.gserviceaccount.com"]}]
    assert {e: a.display_name for e, a in state.accounts.items()} == {
        f"tipoff-invoker@{project}.iam.gserviceaccount.com": "tipoff invoker",
        f"tipoff-runtime@{project}.iam.gserviceaccount.com": "tipoff runtime"}


def test_a_second_apply_changes_nothing_and_sends_no_write(pubsub_emulator, gcp_standin,
                                                           project) -> None:  # noqa: F811
    first = _apply(_args(project, gcp_standin))
    writes = len(gcp_standin.state.writes())
    second = _apply(_args(project, gcp_standin))
    assert second == {"changed": [], "unchanged": first["changed"], "skipped": []}
    assert len(gcp_standin.state.writes()) == writes
    grpc_calls = [r.path for r in gcp_standin.state.requests[writes:] if r.method == "GRPC"]
    assert "CreateServiceAccount" not in grpc_calls and "PatchServiceAccount" not in grpc_calls


def _drift_schedule(state, project):
    state.jobs[f"projects/{project}/locations/{REGION}/jobs/tipoff-retry-0630"]["schedule"] = "45 6 * * *"


def _drift_header(state, project):
    state.jobs[f"projects/{project}/locations/{REGION}/jobs/tipoff-start"]["httpTarget"]["headers"] = {}


def _drift_image(state, project):
    template = state.services[f"projects/{project}/locations/{REGION}/services/tipoff-worker"]["template"]
    template["containers"][0]["image"] = "elsewhere/tipoff:old"
    template["containers"][0]["env"] = [{"name": "TIPOFF_AUTH", "value": "oidc"}]


def _drift_binding(state, project):
    state.policies[f"projects/{project}/locations/{REGION}/services/tipoff-coordinator"]["bindings"] = []


def _drift_account(state, project):
    state.accounts[f"tipoff-runtime@{project}.iam.gserviceaccount.com"].display_name = "renamed"


DRIFTS = [  # (change made behind apply's back, the resource apply must update, its update mask)
    (_drift_schedule, "tipoff-retry-0630", ["schedule"]),
    (_drift_header, "tipoff-start", ["httpTarget"]),
    (_drift_image, "tipoff-worker", ["template"]),
    (_drift_binding, "tipoff-coordinator/roles/run.invoker", []),
    (_drift_account, "tipoff-runtime@{project}.iam.gserviceaccount.com", []),
]


@pytest.mark.parametrize(("drift", "name", "mask"), DRIFTS,
                         ids=["job schedule", "job header", "run image", "invoker binding",
                              "account display name"])
def test_a_setting_changed_behind_applys_back_is_the_only_thing_updated(
        pubsub_emulator, gcp_standin, project, drift, name, mask) -> None:  # noqa: F811
    _apply(_args(project, gcp_standin))
    drift(gcp_standin.state, project)
    before = len(gcp_standin.state.requests)
    result = _apply(_args(project, gcp_standin))
    assert result["changed"] == [name.format(project=project)]
    writes = [r for r in gcp_standin.state.requests[before:]
              if r.method in ("POST", "PATCH") and not r.path.endswith(":getIamPolicy")
              or r.path in ("CreateServiceAccount", "PatchServiceAccount")]
    assert len(writes) == 1
    assert writes[0].update_mask == mask
    assert _apply(_args(project, gcp_standin))["changed"] == []


def test_a_worker_image_drift_keeps_what_apply_does_not_manage(pubsub_emulator, gcp_standin,
                                                               project) -> None:  # noqa: F811
    _apply(_args(project, gcp_standin))
    _drift_image(gcp_standin.state, project)
    _apply(_args(project, gcp_standin))
    stored = gcp_standin.state.services[f"projects/{project}/locations/{REGION}/services/tipoff-worker"]
    assert stored["template"]["containers"] == [{"image": IMAGE, "args": ["worker", "--http"],
                                                 "env": [{"name": "TIPOFF_AUTH", "value": "oidc"}]}]
    assert stored["generation"] == "2"


@pytest.mark.parametrize(("denied", "role"), [
    ("/jobs", "roles/cloudscheduler.admin"),
    ("/services", "roles/run.admin"),
    ("CreateServiceAccount", "roles/iam.serviceAccountAdmin"),
])
def test_a_permission_denied_is_one_error_line_naming_the_missing_role(
        pubsub_emulator, gcp_standin, project, denied, role) -> None:  # noqa: F811
    gcp_standin.deny(denied)
    command = Path(sys.executable).with_name("tipoff")
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    result = subprocess.run([str(command), *_args(project, gcp_standin)], capture_output=True,
                            text=True, env=env, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: permission denied") and role in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_subscription_changed_behind_applys_back_is_updated_in_place(
        pubsub_emulator, project) -> None:  # noqa: F811
    from google.cloud import pubsub_v1
    from google.protobuf import field_mask_pb2
    _apply(_args(project))
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, "prediction-request-sub")
    subscriber.update_subscription(request={
        "subscription": {"name": path, "ack_deadline_seconds": 17},
        "update_mask": field_mask_pb2.FieldMask(paths=["ack_deadline_seconds"])})
    result = _apply(_args(project))
    assert result["changed"] == ["prediction-request-sub"]
    assert subscriber.get_subscription(subscription=path).ack_deadline_seconds == 60
    assert _apply(_args(project))["changed"] == []


def test_apply_without_google_credentials_is_one_error_line_saying_how_to_log_in(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PUBSUB_EMULATOR_HOST"}
    env.update(GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "missing.json"), COLUMNS="80",
               NO_COLOR="1")
    result = subprocess.run([str(Path(sys.executable).with_name("tipoff")), *_args("p")],
                            capture_output=True, text=True, env=env, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: no Google credentials") and "application-default" in lines[0]
