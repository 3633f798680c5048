"""The Google Cloud resources for one deployment, built from one configuration (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHASE4_TOPIC = "nba-phase4-precompute-complete"
REQUEST_TOPIC = "prediction-request"
READY_TOPIC = "prediction-ready"
DEAD_LETTER_TOPIC = "tipoff-dead-letter"
TIME_ZONE = "America/Los_Angeles"
ACK_DEADLINE_S = 60
MIN_BACKOFF_S = 10
MAX_BACKOFF_S = 600
MAX_DELIVERY_ATTEMPTS = 5
SCHEDULER_DEADLINE_S = 60
POLL_DEADLINE_S = 30  # under the 60 s period, so one poll never overlaps the next
# The wait poll (SPEC.md §7): every minute from 06:00 through 07:59 PT covers the 06:00 wait's
# 30-minute deadline, and a later /start or /retry wait, with room to spare.
POLL_SCHEDULE = "* 6-7 * * *"


@dataclass(frozen=True)
class PlanConfig:
    """What a plan is built from: project, region, service URLs and the container image."""

    project: str
    region: str
    coordinator_url: str | None = None
    worker_url: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class Resource:
    """One resource to exist: its kind, name and settings."""

    kind: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "settings": dict(self.settings)}


def _invoker(config: PlanConfig) -> str:
    return f"tipoff-invoker@{config.project}.iam.gserviceaccount.com"


def _runtime(config: PlanConfig) -> str:
    return f"tipoff-runtime@{config.project}.iam.gserviceaccount.com"


def _coordinator(config: PlanConfig) -> str:
    return config.coordinator_url or f"https://tipoff-coordinator-{config.region}.a.run.app"


def _worker(config: PlanConfig) -> str:
    return config.worker_url or f"https://tipoff-worker-{config.region}.a.run.app"


def _subscription(config: PlanConfig, topic: str, push: str | None,
                  audience: str | None) -> Resource:
    dead_letter = None if topic == DEAD_LETTER_TOPIC else DEAD_LETTER_TOPIC
    return Resource("subscription", f"{topic}-sub", {
        "topic": topic, "push_endpoint": push, "ack_deadline_s": ACK_DEADLINE_S,
        "dead_letter_topic": dead_letter,
        "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS if dead_letter else None,
        "min_backoff_s": MIN_BACKOFF_S, "max_backoff_s": MAX_BACKOFF_S,
        "oidc_service_account": _invoker(config) if push else None,
        "oidc_audience": audience if push else None})


def _pubsub(config: PlanConfig) -> list[Resource]:
    coordinator, worker = _coordinator(config), _worker(config)
    pushes = {PHASE4_TOPIC: (f"{coordinator}/trigger", coordinator),
              REQUEST_TOPIC: (f"{worker}/predict", worker),
              READY_TOPIC: (f"{coordinator}/complete", coordinator),
              DEAD_LETTER_TOPIC: (None, None)}
    topics = [Resource("topic", name, {"project": config.project}) for name in pushes]
    subs = [_subscription(config, name, push, aud) for name, (push, aud) in pushes.items()]
    return topics + subs


def _job(config: PlanConfig, name: str, schedule: str, method: str, path: str,
         deadline_s: int = SCHEDULER_DEADLINE_S) -> Resource:
    coordinator = _coordinator(config)
    return Resource("scheduler_job", name, {
        "schedule": schedule, "time_zone": TIME_ZONE, "uri": f"{coordinator}{path}",
        "http_method": method, "headers": {"X-CloudScheduler": "true"},
        "attempt_deadline_s": deadline_s, "oidc_service_account": _invoker(config),
        "oidc_audience": coordinator, "region": config.region})


def _scheduler(config: PlanConfig) -> list[Resource]:
    return [_job(config, "tipoff-start", "0 6 * * *", "POST", "/start"),
            _job(config, "tipoff-retry-0615", "15 6 * * *", "POST", "/retry"),
            _job(config, "tipoff-retry-0630", "30 6 * * *", "POST", "/retry"),
            _job(config, "tipoff-status-0700", "0 7 * * *", "GET", "/status"),
            _job(config, "tipoff-wait-poll", POLL_SCHEDULE, "POST", "/poll", POLL_DEADLINE_S)]


def _run(config: PlanConfig) -> list[Resource]:
    image = config.image or f"{config.region}-docker.pkg.dev/{config.project}/tipoff/tipoff:latest"
    common = {"image": image, "region": config.region, "service_account": _runtime(config),
              "ingress": "all", "allow_unauthenticated": False}
    return [Resource("run_service", "tipoff-coordinator",
                     {**common, "args": ["serve"], "min_instances": 1, "max_instances": 1}),
            Resource("run_service", "tipoff-worker",
                     {**common, "args": ["worker", "--http"], "min_instances": 0,
                      "max_instances": 10})]


def _identity(config: PlanConfig) -> list[Resource]:
    invoker = _invoker(config)
    return [Resource("service_account", invoker, {"display_name": "tipoff invoker"}),
            Resource("service_account", _runtime(config), {"display_name": "tipoff runtime"}),
            *(Resource("iam_binding", f"{service}/roles/run.invoker",
                       {"service": service, "role": "roles/run.invoker",
                        "member": f"serviceAccount:{invoker}"})
              for service in ("tipoff-coordinator", "tipoff-worker"))]


def build_plan(config: PlanConfig) -> list[Resource]:
    """Every resource of one deployment, in the order they can be created."""
    return _identity(config) + _pubsub(config) + _run(config) + _scheduler(config)


def plan_document(config: PlanConfig) -> dict[str, Any]:
    """The ``--json`` form: ``{"resources": [...]}``."""
    return {"resources": [resource.as_dict() for resource in build_plan(config)]}
