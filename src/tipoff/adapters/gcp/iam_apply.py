"""Create or update the plan's service accounts (``iam_admin_v1``), idempotently.

The IAM admin library has only a gRPC transport (no REST), so a local stand-in is reached by
plaintext gRPC at ``host:port``.
"""

from __future__ import annotations

from typing import Any

from tipoff.adapters.gcp.common import Applied, google_errors
from tipoff.domain.gcp_plan import Resource

ROLE = "roles/iam.serviceAccountAdmin on the project"


def _client(endpoint: str | None) -> Any:
    from google.cloud import iam_admin_v1
    if endpoint is None:
        return iam_admin_v1.IAMClient()
    import grpc
    from google.cloud.iam_admin_v1.services.iam.transports import IAMGrpcTransport
    host = endpoint.split("://", 1)[-1]
    return iam_admin_v1.IAMClient(transport=IAMGrpcTransport(channel=grpc.insecure_channel(host)))


def _apply_one(client: Any, project: str, resource: Resource) -> bool:
    from google.api_core.exceptions import NotFound
    from google.cloud import iam_admin_v1
    from google.protobuf import field_mask_pb2
    email, display_name = resource.name, resource.settings["display_name"]
    try:
        current = client.get_service_account(name=f"projects/{project}/serviceAccounts/{email}")
    except NotFound:
        client.create_service_account(
            name=f"projects/{project}", account_id=email.split("@", 1)[0],
            service_account=iam_admin_v1.ServiceAccount(display_name=display_name))
        return True
    if current.display_name == display_name:
        return False
    client.patch_service_account(request=iam_admin_v1.PatchServiceAccountRequest(
        service_account=iam_admin_v1.ServiceAccount(name=current.name, display_name=display_name),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"])))
    return True


def apply_service_accounts(project: str, resources: list[Resource],
                           endpoint: str | None) -> Applied:
    """Make every ``service_account`` of the plan exist with its display name."""
    applied = Applied()
    accounts = [r for r in resources if r.kind == "service_account"]
    if not accounts:
        return applied
    with google_errors("building the IAM client", ROLE):
        client = _client(endpoint)
    for resource in accounts:
        with google_errors(f"applying service account {resource.name}", ROLE):
            applied.note(resource.name, _apply_one(client, project, resource))
    return applied
