"""The Bus contract: every adapter delivers at least once, redelivers, dead-letters and de-duplicates.

The first parts run against every adapter (``bus_factory``); then come what only ``MemoryBus``
offers (pumping, ``join``, inspection counts) and what only ``NatsBus`` has to prove (errors
when the server is away, idempotent setup, foreign and abandoned messages).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import nats
import pytest

from tests.contract.conftest import NATS_URL
from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.bus.nats.bus import NatsBus
from tipoff.errors import PermanentError, TransientError
from tipoff.ports import Message
from tipoff.testing import FakeClock

TIMEOUT = timedelta(seconds=30)


class Inbox:
    """A handler that records every message and fails while ``failing`` is true."""

    def __init__(self, failing: bool = False) -> None:
        self.messages: list[Message] = []
        self.failing = failing

    def __call__(self, message: Message) -> None:
        self.messages.append(message)
        if self.failing:
            raise ValueError(f"boom on attempt {message.attempt}")

    @property
    def ids(self) -> list[str]:
        return [message.message_id for message in self.messages]

    @property
    def attempts(self) -> list[int]:
        return [message.attempt for message in self.messages]


# --- the contract, for every adapter ---------------------------------------------------------


def test_a_published_message_is_delivered_once_and_not_again_after_ack(bus_env):
    topic, inbox = bus_env.topic("once"), Inbox()
    bus_env.bus.subscribe(topic, inbox)
    message_id = bus_env.bus.publish(topic, {"game_date": "2026-03-08"})
    bus_env.deliver()
    bus_env.advance(TIMEOUT * 3)
    bus_env.deliver()
    assert inbox.ids == [message_id]
    assert inbox.attempts == [1]
    assert inbox.messages[0].topic == topic


def test_a_handler_failure_is_redelivered_with_the_attempt_incremented_after_the_visibility_timeout_and_not_before(
    bus_factory,
):
    env = bus_factory(visibility_timeout=TIMEOUT)
    topic, inbox = env.topic("retry"), Inbox(failing=True)
    env.bus.subscribe(topic, inbox)
    message_id = env.bus.publish(topic, {"n": 1})
    env.deliver()
    env.advance(TIMEOUT / 2)
    env.deliver()
    assert inbox.attempts == [1]
    inbox.failing = False
    env.advance(TIMEOUT / 2 + timedelta(seconds=1))
    env.deliver()
    env.advance(TIMEOUT * 3)
    env.deliver()
    assert inbox.attempts == [1, 2]
    assert inbox.ids == [message_id, message_id]


def test_a_message_is_dead_lettered_after_max_attempts_with_its_last_error_and_can_be_replayed(bus_factory):
    env = bus_factory(visibility_timeout=TIMEOUT, max_attempts=3)
    topic, inbox = env.topic("dlq"), Inbox(failing=True)
    env.bus.subscribe(topic, inbox, group="workers")
    message_id = env.bus.publish(topic, {"player_lookup": "lebronjames"})
    for _ in range(5):
        env.deliver()
        env.advance(TIMEOUT + timedelta(seconds=1))
    env.deliver()
    assert inbox.attempts == [1, 2, 3]
    [letter] = env.dead_letters(topic)
    assert (letter.message.message_id, letter.message.data, letter.group) == (
        message_id, {"player_lookup": "lebronjames"}, "workers")
    assert "boom on attempt 3" in letter.error
    assert letter.failed_at.utcoffset() == timedelta(0)

    inbox.failing = False
    assert env.replay_dead_letters(topic) == 1
    env.deliver()
    assert inbox.attempts == [1, 2, 3, 1]
    assert env.dead_letters(topic) == []


def test_publishing_the_same_message_id_twice_delivers_it_once(bus_env):
    topic, inbox = bus_env.topic("dedup"), Inbox()
    bus_env.bus.subscribe(topic, inbox)
    first = bus_env.bus.publish(topic, {"n": 1}, message_id="phase4-2026-03-08")
    second = bus_env.bus.publish(topic, {"n": 1}, message_id="phase4-2026-03-08")
    bus_env.deliver()
    assert first == second == "phase4-2026-03-08"
    assert inbox.ids == ["phase4-2026-03-08"]


def test_publishing_many_delivers_each_once_and_de_duplicates_by_id(bus_env):
    topic, inbox = bus_env.topic("many"), Inbox()
    bus_env.bus.subscribe(topic, inbox)
    bus_env.bus.publish(topic, {"n": 0}, message_id="m0")
    items = [({"n": n}, f"m{n}") for n in range(30)] + [({"n": 5}, "m5")]
    assert bus_env.bus.publish_many(topic, items) == [message_id for _, message_id in items]
    bus_env.deliver()
    assert sorted(inbox.ids) == sorted(f"m{n}" for n in range(30))
    assert sorted(m.data["n"] for m in inbox.messages) == list(range(30))


def test_message_ids_default_to_distinct_non_empty_strings(bus_env):
    topic = bus_env.topic("ids")
    ids = {bus_env.bus.publish(topic, {"n": n}) for n in range(20)}
    assert len(ids) == 20
    assert all(isinstance(message_id, str) and message_id for message_id in ids)


def test_two_groups_each_receive_every_message(bus_env):
    topic, coordinator, auditor = bus_env.topic("fanout"), Inbox(), Inbox()
    bus_env.bus.subscribe(topic, coordinator, group="coordinator")
    bus_env.bus.subscribe(topic, auditor, group="auditor")
    published = [bus_env.bus.publish(topic, {"n": n}) for n in range(3)]
    bus_env.deliver()
    assert sorted(coordinator.ids) == sorted(published)
    assert sorted(auditor.ids) == sorted(published)


def test_competing_consumers_in_one_group_share_the_messages_without_duplication(bus_env):
    topic, first, second = bus_env.topic("compete"), Inbox(), Inbox()
    bus_env.bus.subscribe(topic, first, group="workers")
    bus_env.bus.subscribe(topic, second, group="workers")
    published = [bus_env.bus.publish(topic, {"n": n}) for n in range(10)]
    bus_env.deliver()
    bus_env.advance(TIMEOUT * 3)
    bus_env.deliver()
    assert sorted(first.ids + second.ids) == sorted(published)


def test_messages_published_before_a_group_subscribes_are_delivered_to_it(bus_env):
    topic, inbox = bus_env.topic("backlog"), Inbox()
    message_id = bus_env.bus.publish(topic, {"event_type": "phase4_complete"})
    bus_env.bus.subscribe(topic, inbox, group="late")
    bus_env.deliver()
    assert inbox.ids == [message_id]


def test_messages_published_by_a_handler_are_delivered_too(bus_env):
    requests, results, inbox = bus_env.topic("request"), bus_env.topic("result"), Inbox()

    def worker(message: Message) -> None:
        bus_env.bus.publish(results, {"player_lookup": message.data["player_lookup"], "outcome": "predicted"})

    bus_env.bus.subscribe(requests, worker)
    bus_env.bus.subscribe(results, inbox)
    bus_env.bus.publish(requests, {"player_lookup": "stephencurry"})
    bus_env.deliver()
    assert [message.data for message in inbox.messages] == [
        {"player_lookup": "stephencurry", "outcome": "predicted"}]


def test_message_data_round_trips_nested_dicts_lists_and_unicode(bus_env):
    topic, inbox = bus_env.topic("data"), Inbox()
    data = {
        "player_name": "Nikola Jokić",
        "note": "line moved — 24.5 → 25.5 ✓ 🏀",
        "lines": [{"bookmaker": "draftkings", "line": 24.5, "over_price": -110}, {"line": None}],
        "nested": {"flags": [True, False], "depth": {"n": 3, "empty": {}, "none": []}},
        "count": 0,
    }
    bus_env.bus.subscribe(topic, inbox)
    bus_env.bus.publish(topic, data)
    bus_env.deliver()
    assert inbox.messages[0].data == data


def test_handlers_cannot_mutate_the_publishers_data_or_a_redelivery(bus_env):
    topic = bus_env.topic("copy")
    data = {"players": ["a", "b"]}
    seen: list[list[str]] = []

    def mutating(message: Message) -> None:
        seen.append(list(message.data["players"]))
        message.data["players"].append("mutated")
        if message.attempt == 1:
            raise RuntimeError("fail once")

    bus_env.bus.subscribe(topic, mutating)
    bus_env.bus.publish(topic, data)
    bus_env.deliver()
    bus_env.advance(TIMEOUT + timedelta(seconds=1))
    bus_env.deliver()
    assert data == {"players": ["a", "b"]}
    assert seen == [["a", "b"], ["a", "b"]]


@pytest.mark.parametrize("data", [{"at": datetime(2026, 3, 8, tzinfo=timezone.utc)}, {"ids": {1, 2}},
                                  {"x": float("nan")}, ["not", "a", "dict"]])
def test_data_that_is_not_a_json_object_is_rejected_with_a_permanent_error(bus_env, data):
    with pytest.raises(PermanentError):
        bus_env.bus.publish(bus_env.topic("bad"), data)


def test_published_at_is_timezone_aware_utc(bus_env):
    topic, inbox = bus_env.topic("time"), Inbox()
    bus_env.bus.subscribe(topic, inbox)
    bus_env.bus.publish(topic, {"n": 1})
    bus_env.deliver()
    published_at = inbox.messages[0].published_at
    assert published_at is not None and published_at.tzinfo is not None
    assert published_at.utcoffset() == timedelta(0)


def test_ping_returns_when_the_bus_is_reachable(bus_env):
    assert bus_env.bus.ping() is None


def test_replaying_a_dead_letter_delivers_it_only_to_the_group_that_failed_it(bus_factory):
    env = bus_factory(max_attempts=1)
    topic, auditor, worker = env.topic("replay-group"), Inbox(), Inbox(failing=True)
    env.bus.subscribe(topic, auditor, group="auditor")
    env.bus.subscribe(topic, worker, group="workers")
    message_id = env.bus.publish(topic, {"n": 1})
    env.deliver()
    [letter] = env.dead_letters(topic)
    assert letter.group == "workers"
    worker.failing = False
    assert env.replay_dead_letters(topic) == 1
    env.deliver()
    assert auditor.ids == [message_id]
    assert worker.ids == [message_id, message_id]
    assert worker.attempts == [1, 1]


def test_background_workers_deliver_without_explicit_delivery_until_stopped(bus_env):
    topic, everything, received, lock = bus_env.topic("background"), threading.Event(), [], threading.Lock()

    def handler(message: Message) -> None:
        with lock:
            received.append(message.data["n"])
            if len(received) == 20:
                everything.set()

    bus_env.bus.subscribe(topic, handler)
    bus_env.bus.start(workers=2, poll_interval=timedelta(milliseconds=50))
    for n in range(20):
        bus_env.bus.publish(topic, {"n": n})
    assert everything.wait(10)
    bus_env.bus.stop()
    assert sorted(received) == list(range(20))


# --- subscribe_batch, for every adapter ---------------------------------------------------------


class BatchInbox:
    """A batch handler that records every list it gets and fails while ``failing`` is true."""

    def __init__(self, failing: bool = False) -> None:
        self.batches: list[list[Message]] = []
        self.failing = failing

    def __call__(self, messages: list[Message]) -> None:
        self.batches.append(list(messages))
        if self.failing:
            raise ValueError(f"batch of {len(messages)} failed")

    @property
    def messages(self) -> list[Message]:
        return [message for batch in self.batches for message in batch]


def test_a_batch_subscriber_gets_every_message_once_in_lists_of_at_most_max_batch(bus_env):
    topic, inbox = bus_env.topic("batch"), BatchInbox()
    bus_env.bus.subscribe_batch(topic, inbox, max_batch=3)
    published = [bus_env.bus.publish(topic, {"n": n}) for n in range(7)]
    bus_env.deliver()
    bus_env.advance(TIMEOUT * 3)
    bus_env.deliver()
    assert sorted(message.message_id for message in inbox.messages) == sorted(published)
    assert all(1 <= len(batch) <= 3 for batch in inbox.batches)
    assert len(inbox.batches) >= 3
    assert {message.attempt for message in inbox.messages} == {1}


def test_a_failing_batch_handler_gets_each_message_redelivered_then_dead_lettered(bus_factory):
    env = bus_factory(visibility_timeout=TIMEOUT, max_attempts=2)
    topic, inbox = env.topic("batch-fail"), BatchInbox(failing=True)
    env.bus.subscribe_batch(topic, inbox, group="workers", max_batch=10)
    published = sorted(env.bus.publish(topic, {"n": n}) for n in range(3))
    env.deliver()
    env.advance(TIMEOUT + timedelta(seconds=1))
    env.deliver()
    attempts: dict[str, list[int]] = {}
    for message in inbox.messages:
        attempts.setdefault(message.message_id, []).append(message.attempt)
    assert attempts == {message_id: [1, 2] for message_id in published}
    letters = env.dead_letters(topic)
    assert sorted(letter.message.message_id for letter in letters) == published
    assert all("failed" in letter.error and letter.group == "workers" for letter in letters)


def test_a_batch_and_a_single_subscriber_in_different_groups_each_get_every_message(bus_env):
    topic, batches, singles = bus_env.topic("batch-fanout"), BatchInbox(), Inbox()
    bus_env.bus.subscribe_batch(topic, batches, group="coordinator", max_batch=50)
    bus_env.bus.subscribe(topic, singles, group="auditor")
    published = [bus_env.bus.publish(topic, {"n": n}) for n in range(4)]
    bus_env.deliver()
    assert sorted(message.message_id for message in batches.messages) == sorted(published)
    assert sorted(singles.ids) == sorted(published)


def test_subscribe_batch_refuses_a_max_batch_below_one(bus_env):
    with pytest.raises(ValueError):
        bus_env.bus.subscribe_batch(bus_env.topic("batch-bad"), BatchInbox(), max_batch=0)


# --- MemoryBus only: pumping, join, background workers, inspection ----------------------------

START = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def memory(clock: FakeClock) -> Iterator[MemoryBus]:
    bus = MemoryBus(clock, visibility_timeout=TIMEOUT, max_attempts=3, dedup_window=timedelta(minutes=10),
                    retention=timedelta(hours=1))
    yield bus
    bus.close()


def test_memory_bus_delivers_nothing_on_the_publishers_thread(memory):
    inbox = Inbox()
    memory.subscribe("t", inbox)
    memory.publish("t", {"n": 1})
    assert inbox.messages == []
    assert memory.pump() == 1
    assert len(inbox.messages) == 1


def test_memory_bus_pump_delivers_at_most_max_messages(memory):
    inbox = Inbox()
    memory.subscribe("t", inbox)
    for n in range(5):
        memory.publish("t", {"n": n})
    assert memory.pump(max_messages=2) == 2
    assert [message.data["n"] for message in inbox.messages] == [0, 1]
    assert memory.drain() == 3


def test_memory_bus_join_re_raises_the_first_handler_exception_unless_told_not_to(memory):
    memory.subscribe("t", Inbox(failing=True))
    memory.publish("t", {"n": 1})
    memory.publish("t", {"n": 2})
    with pytest.raises(ValueError, match="boom on attempt 1"):
        memory.join()
    assert memory.pending_count("t") == 2
    assert memory.join(raise_errors=False) == 0


def test_memory_bus_dead_letter_records_the_group_and_clock_time(memory, clock):
    memory.subscribe("t", Inbox(failing=True), group="workers")
    memory.publish("t", {"n": 1})
    for _ in range(3):
        memory.drain()
        clock.advance(TIMEOUT)
    [letter] = memory.dead_letters()
    assert letter.group == "workers"
    assert letter.failed_at == START + 2 * TIMEOUT
    assert letter.message.attempt == 3
    assert memory.pending_count() == 0


def test_memory_bus_pending_count_counts_each_group_and_messages_nobody_subscribes_to_yet(memory):
    memory.publish("unheard", {"n": 1})
    memory.subscribe("t", Inbox(), group="a")
    memory.subscribe("t", Inbox(), group="b")
    memory.publish("t", {"n": 1})
    assert memory.pending_count("unheard") == 1
    assert memory.pending_count("t") == 2
    assert memory.pending_count() == 3
    memory.drain()
    assert memory.pending_count("t") == 0


def test_memory_bus_published_count_ignores_duplicates(memory):
    memory.publish("t", {"n": 1}, message_id="x")
    memory.publish("t", {"n": 1}, message_id="x")
    memory.publish("t", {"n": 2})
    assert memory.published_count("t") == 2
    assert memory.published_count("other") == 0


def test_memory_bus_accepts_a_message_id_again_after_the_dedup_window(memory, clock):
    inbox = Inbox()
    memory.subscribe("t", inbox)
    memory.publish("t", {"n": 1}, message_id="x")
    clock.advance(timedelta(minutes=10))
    memory.publish("t", {"n": 2}, message_id="x")
    memory.drain()
    assert [message.data["n"] for message in inbox.messages] == [1, 2]


def test_memory_bus_forgets_unsubscribed_messages_after_the_retention_period(memory, clock):
    memory.publish("t", {"n": 1})
    clock.advance(timedelta(hours=1))
    memory.publish("t", {"n": 2})
    inbox = Inbox()
    memory.subscribe("t", inbox)
    memory.drain()
    assert [message.data["n"] for message in inbox.messages] == [2]


def test_memory_bus_redelivers_a_message_whose_handler_has_not_returned_by_the_visibility_timeout(memory, clock):
    started, release, attempts = threading.Event(), threading.Event(), []

    def slow(message: Message) -> None:
        attempts.append(message.attempt)
        if message.attempt == 1:
            started.set()
            release.wait(5)

    memory.subscribe("t", slow)
    memory.start(workers=1, poll_interval=timedelta(milliseconds=5))
    memory.publish("t", {"n": 1})
    assert started.wait(5)
    assert memory.pump() == 0
    clock.advance(TIMEOUT)
    assert memory.pump() == 1
    release.set()
    memory.stop()
    assert attempts == [1, 2]
    assert memory.pending_count() == 0


def test_memory_bus_background_workers_deliver_without_pumping_and_stop_joins_them(memory):
    everything, received, lock = threading.Event(), [], threading.Lock()

    def handler(message: Message) -> None:
        with lock:
            received.append(message.data["n"])
            if len(received) == 50:
                everything.set()

    memory.subscribe("t", handler)
    memory.start(workers=3, poll_interval=timedelta(milliseconds=5))
    for n in range(50):
        memory.publish("t", {"n": n})
    assert everything.wait(5)
    memory.stop()
    assert sorted(received) == list(range(50))
    assert not [t for t in threading.enumerate() if t.name.startswith("memory-bus-")]


def test_memory_bus_join_reports_errors_raised_on_background_workers(memory):
    failed = threading.Event()

    def broken(message: Message) -> None:
        failed.set()
        raise KeyError("missing feature")

    memory.subscribe("t", broken)
    memory.start(workers=1, poll_interval=timedelta(milliseconds=5))
    memory.publish("t", {"n": 1})
    assert failed.wait(5)
    memory.stop()
    with pytest.raises(KeyError, match="missing feature"):
        memory.join()


def test_memory_bus_concurrent_publishers_lose_and_duplicate_nothing(memory):
    inbox = Inbox()
    memory.subscribe("t", inbox)

    def publish_many(worker: int) -> Callable[[], None]:
        return lambda: [memory.publish("t", {"w": worker, "n": n}) for n in range(200)]

    threads = [threading.Thread(target=publish_many(w)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert memory.drain() == 1600
    assert len(set(inbox.ids)) == 1600


@pytest.mark.parametrize("options", [{"max_attempts": 0}, {"visibility_timeout": timedelta(seconds=-1)},
                                     {"retention": timedelta(0)}])
def test_memory_bus_refuses_settings_that_cannot_work(clock, options):
    with pytest.raises(ValueError):
        MemoryBus(clock, **options)


# --- NatsBus only: the server away, idempotent setup, foreign and abandoned messages ----------


def eventually(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` is true: a real broker works in real time."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def publish_raw(subject: str, payload: bytes) -> None:
    """Publish like a foreign client would: no tipoff headers, any payload."""
    async def send() -> None:
        client = await nats.connect(NATS_URL)
        try:
            await client.jetstream().publish(subject, payload)
        finally:
            await client.close()

    asyncio.run(send())


def test_nats_bus_raises_a_transient_error_and_leaves_no_thread_when_no_server_answers():
    threads = {thread.name for thread in threading.enumerate()}
    with pytest.raises(TransientError):
        NatsBus("nats://127.0.0.1:1", FakeClock(START), connect_timeout=timedelta(milliseconds=500)).open()
    assert {thread.name for thread in threading.enumerate()} <= threads


def test_nats_bus_setup_is_idempotent_and_two_buses_share_a_groups_durable_consumer(nats_factory):
    env = nats_factory(dedup_window=timedelta(minutes=10))
    topic, first, second = env.topic("shared"), Inbox(), Inbox()
    env.bus.subscribe(topic, first, group="workers")
    with NatsBus(NATS_URL, env.clock, stream_prefix=env.prefix.upper(), ack_wait=timedelta(seconds=2),
                 dedup_window=timedelta(minutes=5)) as other:
        other.subscribe(topic, second, group="workers")
        published = [env.bus.publish(topic, {"n": n}) for n in range(6)]
        env.deliver()
        other.join(raise_errors=False, idle=env.IDLE)
    assert sorted(first.ids + second.ids) == sorted(published)


def test_nats_bus_dead_letters_a_message_whose_handler_never_returns(nats_factory):
    env = nats_factory(visibility_timeout=TIMEOUT, max_attempts=1)
    topic, release, calls = env.topic("hung"), threading.Event(), []

    def hung(message: Message) -> None:
        calls.append(message.attempt)
        release.wait(10)

    env.bus.subscribe(topic, hung, group="workers")
    env.nats.start(workers=2, poll_interval=timedelta(milliseconds=50))
    try:
        message_id = env.bus.publish(topic, {"n": 1})
        eventually(lambda: env.dead_letters(topic))
    finally:
        release.set()
        env.nats.stop()
    [letter] = env.dead_letters(topic)
    assert (letter.message.message_id, letter.group, calls) == (message_id, "workers", [1])
    assert "not acknowledged" in letter.error


def test_nats_bus_dead_letters_a_foreign_message_that_is_not_a_json_object(nats_factory):
    env = nats_factory()
    topic, inbox = env.topic("foreign"), Inbox()
    env.bus.subscribe(topic, inbox)
    publish_raw(f"{env.prefix.upper()}.{topic}", b"not json")
    env.deliver()
    [letter] = env.dead_letters(topic)
    assert inbox.messages == []
    assert "undecodable" in letter.error
    assert letter.message.data == {"undecodable_payload": "not json"}


@pytest.mark.parametrize("name", ["a.b", "a b", "a__b", "*", ">", "", "_a"])
def test_nats_bus_refuses_topic_and_group_names_that_cannot_be_subject_tokens(nats_factory, name):
    env = nats_factory()
    with pytest.raises(ValueError):
        env.bus.publish(name, {"n": 1})
    with pytest.raises(ValueError):
        env.bus.subscribe(env.topic("names"), Inbox(), group=name)


def test_nats_bus_pending_count_counts_each_group_and_messages_nobody_consumes_yet(nats_factory):
    env = nats_factory()
    unheard, topic = env.topic("unheard"), env.topic("pending")
    env.bus.publish(unheard, {"n": 1})
    env.bus.subscribe(topic, Inbox(), group="a")
    env.bus.subscribe(topic, Inbox(), group="b")
    env.bus.publish(topic, {"n": 1})
    assert (env.nats.pending_count(unheard), env.nats.pending_count(topic), env.nats.pending_count()) == (1, 2, 3)
    env.deliver()
    assert env.nats.pending_count(topic) == 0


def test_nats_bus_repr_hides_credentials(nats_factory):
    env = nats_factory()
    with NatsBus(NATS_URL.replace("://", "://tipoff:s3cret@"), env.clock,
                 stream_prefix=env.prefix.upper()) as bus:
        assert "s3cret" not in repr(bus) and "tipoff" not in repr(bus).split("prefix")[0]
