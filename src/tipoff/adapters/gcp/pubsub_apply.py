"""Create or update the Pub/Sub part of a plan (topics, subscriptions), idempotently."""

from __future__ import annotations

from typing import Any

from tipoff.domain.gcp_plan import Resource


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


def _same(existing: Any, body: dict[str, Any]) -> bool:
    from google.cloud import pubsub_v1
    wanted = pubsub_v1.types.Subscription(name=existing.name, **body)
    fields = ("topic", "ack_deadline_seconds", "retry_policy", "push_config", "dead_letter_policy")
    return all(getattr(existing, f) == getattr(wanted, f) for f in fields)


def apply_pubsub(project: str, resources: list[Resource]) -> dict[str, list[str]]:
    """Make topics and subscriptions match; return the names ``changed`` and ``unchanged``."""
    from google.api_core.exceptions import NotFound
    from google.cloud import pubsub_v1
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    result: dict[str, list[str]] = {"changed": [], "unchanged": []}
    for resource in (r for r in resources if r.kind == "topic"):
        path = publisher.topic_path(project, resource.name)
        try:
            publisher.get_topic(topic=path)
            result["unchanged"].append(resource.name)
        except NotFound:
            publisher.create_topic(name=path)
            result["changed"].append(resource.name)
    for resource in (r for r in resources if r.kind == "subscription"):
        path = subscriber.subscription_path(project, resource.name)
        body = _sub_body(project, resource.settings)
        try:
            existing = subscriber.get_subscription(subscription=path)
        except NotFound:
            subscriber.create_subscription(request={"name": path, **body})
            result["changed"].append(resource.name)
            continue
        if _same(existing, body):
            result["unchanged"].append(resource.name)
            continue
        subscriber.delete_subscription(subscription=path)
        subscriber.create_subscription(request={"name": path, **body})
        result["changed"].append(resource.name)
    return result
