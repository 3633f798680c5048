"""Create or update the plan's Cloud Run services and their invoker bindings (``run_v2``)."""

from __future__ import annotations

from typing import Any

from tipoff.adapters.gcp.common import Applied, google_errors, rest_options
from tipoff.domain.gcp_plan import Resource

ROLE = "roles/run.admin on the project and roles/iam.serviceAccountUser on the runtime account"
IAM_ROLE = "roles/run.admin on the service"
OPERATION_TIMEOUT_S = 600  # a first revision pulls the image and starts; minutes, not hours


def _desired(settings: dict[str, Any]) -> Any:
    from google.cloud import run_v2
    return run_v2.Service(
        ingress=run_v2.IngressTraffic[f"INGRESS_TRAFFIC_{settings['ingress'].upper()}"],
        template=run_v2.RevisionTemplate(
            service_account=settings["service_account"],
            scaling=run_v2.RevisionScaling(min_instance_count=settings["min_instances"],
                                           max_instance_count=settings["max_instances"]),
            containers=[run_v2.Container(image=settings["image"], args=settings["args"])]))


def _template_differs(current: Any, wanted: Any) -> bool:
    if current.service_account != wanted.service_account or not current.containers:
        return True
    scaling = (current.scaling.min_instance_count, current.scaling.max_instance_count)
    container, want = current.containers[0], wanted.containers[0]
    return (scaling != (wanted.scaling.min_instance_count, wanted.scaling.max_instance_count)
            or container.image != want.image or list(container.args) != list(want.args))


def differing_fields(current: Any, wanted: Any) -> list[str]:
    """The top-level service fields (update-mask paths) where ``current`` is not ``wanted``."""
    paths = ["ingress"] if current.ingress != wanted.ingress else []
    return paths + (["template"] if _template_differs(current.template, wanted.template) else [])


def _merged(current: Any, wanted: Any, paths: list[str]) -> Any:
    """``current`` with our fields set: what we do not manage (env, probes, …) is kept."""
    from google.cloud import run_v2
    merged = run_v2.Service(current)
    if "ingress" in paths:
        merged.ingress = wanted.ingress
    if "template" in paths:
        template = merged.template
        template.service_account = wanted.template.service_account
        template.scaling = wanted.template.scaling
        if not template.containers:
            template.containers.append(run_v2.Container())
        template.containers[0].image = wanted.template.containers[0].image
        template.containers[0].args = list(wanted.template.containers[0].args)
    return merged


def _apply_service(client: Any, parent: str, resource: Resource) -> bool:
    from google.api_core.exceptions import NotFound
    from google.protobuf import field_mask_pb2
    wanted = _desired(resource.settings)
    name = f"{parent}/services/{resource.name}"
    try:
        current = client.get_service(name=name)
    except NotFound:
        client.create_service(parent=parent, service=wanted,
                              service_id=resource.name).result(timeout=OPERATION_TIMEOUT_S)
        return True
    paths = differing_fields(current, wanted)
    if paths:
        client.update_service(service=_merged(current, wanted, paths),
                              update_mask=field_mask_pb2.FieldMask(paths=paths),
                              ).result(timeout=OPERATION_TIMEOUT_S)
    return bool(paths)


def _apply_binding(client: Any, resource: str, role: str, member: str) -> bool:
    policy = client.get_iam_policy(request={"resource": resource})
    binding = next((b for b in policy.bindings if b.role == role and not b.condition.expression),
                   None)
    if binding is not None and member in binding.members:
        return False
    if binding is None:
        binding = policy.bindings.add(role=role)
    binding.members.append(member)
    client.set_iam_policy(request={"resource": resource, "policy": policy})
    return True


def apply_run(project: str, resources: list[Resource], endpoint: str | None) -> Applied:
    """Make the plan's ``run_service``s match, then their ``iam_binding``s (invoker members)."""
    from google.cloud import run_v2
    applied = Applied()
    services = {r.name: r for r in resources if r.kind == "run_service"}
    bindings = [r for r in resources if r.kind == "iam_binding" and "service" in r.settings]
    if not services and not bindings:
        return applied
    with google_errors("building the Cloud Run client", ROLE):
        client = run_v2.ServicesClient(**rest_options(endpoint))
    for resource in services.values():
        parent = f"projects/{project}/locations/{resource.settings['region']}"
        with google_errors(f"applying Cloud Run service {resource.name}", ROLE):
            applied.note(resource.name, _apply_service(client, parent, resource))
    for resource in bindings:
        service = services[resource.settings["service"]]
        path = (f"projects/{project}/locations/{service.settings['region']}"
                f"/services/{service.name}")
        with google_errors(f"applying {resource.settings['role']} on {service.name}", IAM_ROLE):
            applied.note(resource.name, _apply_binding(
                client, path, resource.settings["role"], resource.settings["member"]))
    return applied
