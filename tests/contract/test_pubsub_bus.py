"""What only ``PubSubBus`` has to prove, on the emulator: its URL, its resource names and
attributes, idempotent set-up, late subscribers, and errors translated at the boundary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from google.cloud import pubsub_v1

from tests.pubsub_emulator import PROJECT
from tipoff.adapters.bus.pubsub.bus import PubSubBus
from tipoff.bootstrap import _pubsub_target, open_bus
from tipoff.errors import ConfigurationError, PermanentError
from tipoff.testing import FakeClock

START = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)


def test_pubsub_url_options_become_bus_arguments():
    assert _pubsub_target("pubsub://my-proj?prefix=e2e-&ack_deadline_s=20&max_delivery=7") == (
        "my-proj", {"prefix": "e2e-", "ack_deadline": timedelta(seconds=20), "max_attempts": 7})


@pytest.mark.parametrize("url", ["pubsub://p?acks=1", "pubsub://", "pubsub://p/extra",
                                 "pubsub://p?ack_deadline_s=5", "pubsub://p?max_delivery=zero"])
def test_a_bad_pubsub_url_is_a_configuration_error(url):
    with pytest.raises(ConfigurationError):
        _pubsub_target(url)


@pytest.fixture
def bus_pair(pubsub_emulator, request):
    prefix = f"u{abs(hash(request.node.name)) % 10**10}-"
    buses = [PubSubBus(PROJECT, FakeClock(START), prefix=prefix).open() for _ in range(2)]
    yield buses
    buses[0].delete_resources()
    for bus in buses:
        bus.close()


def test_open_bus_builds_a_pubsub_bus_on_the_emulator(pubsub_emulator):
    bus = open_bus(f"pubsub://{PROJECT}?prefix=ob-", FakeClock(START))
    try:
        assert isinstance(bus, PubSubBus)
        assert bus.ping() is None
    finally:
        bus.close()


def test_set_up_is_idempotent_and_names_follow_prefix_topic_and_group(bus_pair):
    first, second = bus_pair
    for bus in bus_pair:
        bus.subscribe("prediction-request", lambda message: None, group="workers")
    subscriber = pubsub_v1.SubscriberClient()
    names = {s.name.rsplit("/", 1)[-1] for s in subscriber.list_subscriptions(
        request={"project": f"projects/{PROJECT}"})}
    prefix = first._layout.prefix
    assert f"{prefix}prediction-request--workers" in names
    assert f"{prefix}prediction-request--dead--inspect" in names


def test_publishes_carry_game_date_batch_and_correlation_ids_as_attributes(bus_pair):
    publisher, consumer = bus_pair
    seen = []
    consumer.subscribe("results", seen.append, group="coordinator")
    message_id = publisher.publish("results", {"game_date": "2026-03-08", "batch_id": "b1",
                                               "correlation_id": "c1", "points": 21.5})
    consumer.drain()
    [message] = seen
    assert message.attributes["message_id"] == message_id
    assert (message.attributes["game_date"], message.attributes["batch_id"],
            message.attributes["correlation_id"]) == ("2026-03-08", "b1", "c1")


def test_two_processes_competing_in_one_group_each_see_a_share_and_none_twice(bus_pair):
    first, second = bus_pair
    got: list[str] = []
    for bus in bus_pair:
        bus.subscribe("work", lambda message: got.append(message.message_id), group="workers")
    ids = first.publish_many("work", [({"n": n}, f"id-{n}") for n in range(12)])
    first.drain()
    second.drain()
    assert sorted(got) == sorted(ids)


def test_a_topic_name_pubsub_cannot_hold_is_refused_before_any_request(bus_pair):
    with pytest.raises(ValueError):
        bus_pair[0].publish("a--b", {"n": 1})


def test_a_bus_that_is_not_open_raises_a_permanent_error():
    with pytest.raises(PermanentError):
        PubSubBus(PROJECT, FakeClock(START)).publish("work", {"n": 1})


def test_an_unreachable_service_is_a_transient_error(monkeypatch):
    from tests.e2e.conftest import free_port
    from tipoff.errors import TransientError

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    bus = PubSubBus(PROJECT, FakeClock(START), request_timeout=timedelta(seconds=1))
    with pytest.raises(TransientError):
        bus.open()
    bus.close()
