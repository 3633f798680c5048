"""Create or update the plan's Cloud Scheduler jobs (``scheduler_v1``), idempotently."""

from __future__ import annotations

from typing import Any

from tipoff.adapters.gcp.common import Applied, google_errors, rest_options
from tipoff.domain.gcp_plan import Resource

ROLE = ("roles/cloudscheduler.admin on the project and roles/iam.serviceAccountUser "
        "on the invoker service account")


def _desired(settings: dict[str, Any]) -> Any:
    from google.cloud import scheduler_v1
    from google.protobuf import duration_pb2
    return scheduler_v1.Job(
        schedule=settings["schedule"], time_zone=settings["time_zone"],
        attempt_deadline=duration_pb2.Duration(seconds=settings["attempt_deadline_s"]),
        http_target=scheduler_v1.HttpTarget(
            uri=settings["uri"], http_method=scheduler_v1.HttpMethod[settings["http_method"]],
            headers=settings["headers"],
            oidc_token=scheduler_v1.OidcToken(
                service_account_email=settings["oidc_service_account"],
                audience=settings["oidc_audience"])))


def _target_differs(current: Any, wanted: Any) -> bool:
    # Scheduler adds headers of its own (User-Agent…): ours must be there, others may be.
    headers = dict(current.headers)
    return (current.uri != wanted.uri or current.http_method != wanted.http_method
            or any(headers.get(k) != v for k, v in wanted.headers.items())
            or current.oidc_token != wanted.oidc_token)


def differing_fields(current: Any, wanted: Any) -> list[str]:
    """The top-level job fields (update-mask paths) where ``current`` is not ``wanted``."""
    paths = [name for name in ("schedule", "time_zone", "attempt_deadline")
             if getattr(current, name) != getattr(wanted, name)]
    if _target_differs(current.http_target, wanted.http_target):
        paths.append("http_target")
    return paths


def _apply_one(client: Any, parent: str, resource: Resource) -> bool:
    from google.api_core.exceptions import NotFound
    from google.cloud import scheduler_v1
    from google.protobuf import field_mask_pb2
    wanted = _desired(resource.settings)
    wanted.name = f"{parent}/jobs/{resource.name}"
    try:
        current = client.get_job(name=wanted.name)
    except NotFound:
        client.create_job(parent=parent, job=wanted)
        return True
    paths = differing_fields(current, wanted)
    if not paths:
        return False
    merged = scheduler_v1.Job(current)
    for path in paths:
        setattr(merged, path, getattr(wanted, path))
    client.update_job(job=merged, update_mask=field_mask_pb2.FieldMask(paths=paths))
    return True


def apply_scheduler(project: str, resources: list[Resource], endpoint: str | None) -> Applied:
    """Make every ``scheduler_job`` of the plan exist with its settings (update only what differs)."""
    from google.cloud import scheduler_v1
    applied = Applied()
    jobs = [r for r in resources if r.kind == "scheduler_job"]
    if not jobs:
        return applied
    with google_errors("building the Cloud Scheduler client", ROLE):
        client = scheduler_v1.CloudSchedulerClient(**rest_options(endpoint))
    for resource in jobs:
        parent = f"projects/{project}/locations/{resource.settings['region']}"
        with google_errors(f"applying Cloud Scheduler job {resource.name}", ROLE):
            applied.note(resource.name, _apply_one(client, parent, resource))
    return applied
