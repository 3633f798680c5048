"""Create or update the Pub/Sub part of a plan (topics, subscriptions), idempotently."""

from __future__ import annotations

from typing import Any

from tipoff.adapters.gcp.common import Applied, google_errors
from tipoff.domain.gcp_plan import Resource

ROLE = ("roles/pubsub.editor on the project and roles/iam.serviceAccountUser on the invoker "
        "service account (push subscriptions sign OIDC tokens as it)")
# Fields an update can change; a subscription's topic cannot change, it is recreated.
UPDATABLE = ("ack_deadline_seconds", "retry_policy", "push_config", "dead_letter_policy")


def _sub_body(project: str, settings: dict[str, Any]) -> dict[str, Any]:
    from google.protobuf import duration_pb2
    body: dict[str, Any] = {
        "topic": f"projects/{project}/topics/{settings['topic']}",
        "ack_deadline_seconds": settings["ack_deadline_s"],
        "retry_policy": {"minimum_backoff": duration_pb2.Duration(seconds=settings["min_backoff_s"]),
                         "maximum_backoff": duration_pb2.Duration(seconds=settings["max_backoff_s"])}}
    if settings["push_endpoint"]:
        body["push_config"] = {"push_endpoint": settings["push_endpoint"], "oidc_token": {
            "service_account_email": settings["oidc_service_account"],
            "audience": settings["oidc_audience"]}}
    if settings["dead_letter_topic"]:
        body["dead_letter_policy"] = {
            "dead_letter_topic": f"projects/{project}/topics/{settings['dead_letter_topic']}",
            "max_delivery_attempts": settings["max_delivery_attempts"]}
    return body


def _apply_topic(publisher: Any, project: str, resource: Resource) -> bool:
    from google.api_core.exceptions import NotFound
    path = publisher.topic_path(project, resource.name)
    try:
        publisher.get_topic(topic=path)
        return False
    except NotFound:
        publisher.create_topic(name=path)
        return True


def _apply_subscription(subscriber: Any, project: str, resource: Resource) -> bool:
    from google.api_core.exceptions import NotFound
    from google.cloud import pubsub_v1
    from google.protobuf import field_mask_pb2
    path = subscriber.subscription_path(project, resource.name)
    wanted = pubsub_v1.types.Subscription(name=path, **_sub_body(project, resource.settings))
    try:
        current = subscriber.get_subscription(subscription=path)
    except NotFound:
        subscriber.create_subscription(request=wanted)
        return True
    if current.topic != wanted.topic:
        subscriber.delete_subscription(subscription=path)
        subscriber.create_subscription(request=wanted)
        return True
    paths = [f for f in UPDATABLE if getattr(current, f) != getattr(wanted, f)]
    if paths:
        subscriber.update_subscription(request={
            "subscription": wanted, "update_mask": field_mask_pb2.FieldMask(paths=paths)})
    return bool(paths)


def apply_pubsub(project: str, resources: list[Resource]) -> Applied:
    """Make topics and subscriptions match (update only the fields that differ)."""
    from google.cloud import pubsub_v1
    applied = Applied()
    with google_errors("building the Pub/Sub clients", ROLE):
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    for resource in (r for r in resources if r.kind == "topic"):
        with google_errors(f"applying Pub/Sub topic {resource.name}", ROLE):
            applied.note(resource.name, _apply_topic(publisher, project, resource))
    for resource in (r for r in resources if r.kind == "subscription"):
        with google_errors(f"applying Pub/Sub subscription {resource.name}", ROLE):
            applied.note(resource.name, _apply_subscription(subscriber, project, resource))
    return applied
