"""A whole night on the Pub/Sub emulator: PostgreSQL, real ``tipoff serve`` and worker processes.

Stage 4's ``phase4_complete`` is published on the emulator's topic and pushed to the
coordinator's ``/trigger`` (a push subscription, as on Cloud Run); requests go out on
``prediction-request`` to pull workers (``tipoff worker --bus pubsub://…``) or, in the second
test, are pushed to ``tipoff worker --http``'s ``/predict``; results come back on
``prediction-ready`` and the batch completes with every ready player predicted once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from google.cloud import pubsub_v1

from tests.e2e.conftest import TipoffProcess, eventually, free_port, open_test_bus, open_test_store
from tests.e2e.test_faults import (
    assert_every_ready_player_predicted_once, seed_night, wait_complete,
)
from tests.pubsub_emulator import PROJECT
from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)
from tipoff.domain.messages import PHASE4_TOPIC, REQUEST_TOPIC

pytestmark = pytest.mark.slow

PLAYERS = 120


@pytest.fixture
def pubsub_url(pubsub_emulator) -> Iterator[str]:  # noqa: F811
    """A bus URL on the emulator with a prefix of this test's own (resources deleted after)."""
    url = f"pubsub://{PROJECT}?prefix=e2e{uuid.uuid4().hex[:8]}-&ack_deadline_s=10"
    yield url
    bus = open_test_bus(url)
    try:
        bus.delete_resources()
    finally:
        bus.close()


def push_to(bus_url: str, topic: str, name: str, endpoint: str) -> str:
    """Create a push subscription of ``topic`` delivering to ``endpoint``; return its path."""
    bus = open_test_bus(bus_url)
    try:
        layout = bus._layout
        bus._ensure_topic(topic)  # the topic and its dead-letter topic
        path = layout.subscription(topic, name)
        pubsub_v1.SubscriberClient().create_subscription(request={
            "name": path, "topic": layout.topic(topic), "ack_deadline_seconds": 10,
            "push_config": {"push_endpoint": endpoint},
            "dead_letter_policy": {"dead_letter_topic": layout.dead_topic(topic),
                                   "max_delivery_attempts": 5}})
        return path
    finally:
        bus.close()


def publish_phase4(bus_url: str, event) -> None:
    bus = open_test_bus(bus_url)
    try:
        bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
    finally:
        bus.close()


def http_worker(launcher, store_url: str, bus_url: str) -> tuple[TipoffProcess, str]:
    port = free_port()
    name = f"http-worker-{len(launcher.processes) + 1}"
    process = TipoffProcess(name, ["worker", "--http", "--port", str(port), "--store", store_url,
                                   "--bus", bus_url], launcher.env(), launcher._folder / f"{name}.log")
    launcher.processes.append(process)
    process.wait_for_output("worker serving")
    return process, f"http://127.0.0.1:{port}/predict"


def test_a_night_on_pubsub_with_pushed_trigger_and_pull_workers_predicts_every_ready_player_once(
        launcher, pg_url, pubsub_url):
    event = seed_night(pg_url, PLAYERS)
    coordinator = launcher.coordinator(pg_url, pubsub_url)
    push_to(pubsub_url, PHASE4_TOPIC, "push", f"{coordinator.url}/trigger")
    workers = [launcher.worker(pg_url, pubsub_url), launcher.worker(pg_url, pubsub_url)]
    publish_phase4(pubsub_url, event)
    store = open_test_store(pg_url)
    try:
        wait_complete(store)
        assert_every_ready_player_predicted_once(store, PLAYERS)
        eventually(lambda: '"POST /trigger HTTP/1.1" 20' in coordinator.output(), timeout=30,
                   what="the push acknowledged by /trigger")
        assert all(p.alive() for p in (coordinator, *workers))
    finally:
        store.close()


def test_requests_pushed_to_http_workers_three_times_complete_the_night_with_no_duplicate_row(
        launcher, pg_url, pubsub_url):
    event = seed_night(pg_url, PLAYERS)
    coordinator = launcher.coordinator(pg_url, pubsub_url)
    push_to(pubsub_url, PHASE4_TOPIC, "push", f"{coordinator.url}/trigger")
    _, endpoint = http_worker(launcher, pg_url, pubsub_url)
    pushed = push_to(pubsub_url, REQUEST_TOPIC, "push-workers", endpoint)
    publish_phase4(pubsub_url, event)
    store = open_test_store(pg_url)
    try:
        wait_complete(store)
        assert_every_ready_player_predicted_once(store, PLAYERS)
        rows = len(store.read_predictions(event.game_date, active_only=False))
        subscriber = pubsub_v1.SubscriberClient()
        for times in (2, 3):  # every request delivered again (the topic retains them)
            subscriber.seek(request={"subscription": pushed,
                                     "time": datetime(2000, 1, 1, tzinfo=UTC)})
            eventually(lambda: _handled(launcher) >= times * PLAYERS, timeout=120, interval=0.5,
                       what=f"every request pushed {times} times")
        assert len(store.read_predictions(event.game_date, active_only=False)) == rows
        assert_every_ready_player_predicted_once(store, PLAYERS)
        assert coordinator.alive()
    finally:
        store.close()


def _handled(launcher) -> int:
    return sum(p.output().count('"POST /predict HTTP/1.1" 204') for p in launcher.processes
               if p.name.startswith("http-worker"))
