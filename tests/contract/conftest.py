"""Fixtures for the contract suites: one parameter per adapter of a port.

``bus_factory`` builds buses for the parametrised adapter. Each bus gets its own FakeClock and
a unique topic prefix, so tests never see each other's messages (and a real broker can be shared
by the whole run). Tests talk to the bus through the port and to the environment only through
``BusEnv``: ``topic``, ``deliver``, ``advance`` and the dead-letter helpers. A real-broker
environment implements those differently (waiting on the server instead of pumping, letting
real time pass or using short broker timeouts instead of advancing a FakeClock).

The NATS parameter needs the JetStream server of ``TIPOFF_TEST_NATS_URL`` (default
``nats://127.0.0.1:4222``); it skips when the server is unreachable, and fails instead under
``TIPOFF_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import functools
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Protocol
from urllib.parse import urlsplit

import pytest

from tests.conftest import service_unavailable
from tests.pubsub_emulator import PROJECT as PUBSUB_PROJECT
from tests.pubsub_emulator import pubsub_emulator  # noqa: F401  (the session fixture)
from tipoff.adapters.bus.memory import DeadLetter, MemoryBus
from tipoff.errors import TransientError
from tipoff.ports import Bus
from tipoff.testing import FakeClock

START = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)
NATS_URL = os.environ.get("TIPOFF_TEST_NATS_URL", "nats://127.0.0.1:4222")


class BusEnv(Protocol):
    """What a contract test may do besides using the ``Bus`` port itself."""

    bus: Bus
    prefix: str

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        ...

    def deliver(self) -> None:
        """Return once every message that is due has been handled."""
        ...

    def advance(self, delta: timedelta) -> None:
        """Let ``delta`` pass for the bus, however that adapter measures time."""
        ...

    def dead_letters(self, topic: str) -> list[DeadLetter]:
        """The dead letters of ``topic``."""
        ...

    def replay_dead_letters(self, topic: str) -> int:
        """Re-enqueue the dead letters of ``topic``; return how many."""
        ...

    def close(self) -> None:
        """Close the bus and remove what the test created."""
        ...


class MemoryBusEnv:
    """A ``MemoryBus`` on a ``FakeClock``: delivery is a drain, time passes by advancing."""

    def __init__(self, prefix: str, **options: object) -> None:
        self.prefix = prefix
        self.clock = FakeClock(START)
        self.memory = MemoryBus(self.clock, **options)  # type: ignore[arg-type]
        self.bus: Bus = self.memory

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        return f"{self.prefix}-{name}"

    def deliver(self) -> None:
        """Deliver everything that is due (handler errors are redeliveries, not test errors)."""
        self.memory.join(raise_errors=False)

    def advance(self, delta: timedelta) -> None:
        """Let ``delta`` pass on the bus's clock."""
        self.clock.advance(delta)

    def dead_letters(self, topic: str) -> list[DeadLetter]:
        """The dead letters of ``topic``."""
        return self.memory.dead_letters(topic)

    def replay_dead_letters(self, topic: str) -> int:
        """Re-enqueue the dead letters of ``topic``; return how many."""
        return self.memory.replay_dead_letters(topic)

    def close(self) -> None:
        self.memory.close()


@functools.cache
def _nats_listening() -> bool:
    """Probe the server once per run, so an absent server costs one timeout, not one per test."""
    parts = urlsplit(NATS_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1).close()
    except OSError:
        return False
    return True


class NatsBusEnv:
    """A ``NatsBus`` on a real server, with its own streams (deleted on close).

    JetStream measures redelivery in real time, so the requested ``visibility_timeout`` is
    played by an ``ack_wait`` of ``REAL_VISIBILITY`` and ``advance`` sleeps for the scaled
    duration. Beyond one visibility timeout nothing more happens until the next delivery, so a
    longer ``advance`` sleeps only ``REAL_VISIBILITY + SLACK``. The FakeClock moves too, for
    the instants the bus stamps (published_at, failed_at).
    """

    REAL_VISIBILITY = timedelta(seconds=1.5)
    SLACK = timedelta(milliseconds=250)
    IDLE = timedelta(milliseconds=100)

    def __init__(self, prefix: str, *, visibility_timeout: timedelta = timedelta(seconds=30),
                 max_attempts: int = 5, dedup_window: timedelta = timedelta(minutes=10)) -> None:
        from tipoff.adapters.bus.nats.bus import NatsBus

        if not _nats_listening():
            service_unavailable(f"NATS JetStream at {NATS_URL} unreachable")
        self.prefix = prefix
        self.clock = FakeClock(START)
        self._scale = self.REAL_VISIBILITY / visibility_timeout
        try:
            self.nats = NatsBus(NATS_URL, self.clock, stream_prefix=prefix.upper(),
                                ack_wait=self.REAL_VISIBILITY, max_deliver=max_attempts,
                                dedup_window=dedup_window, connect_timeout=timedelta(seconds=2)).open()
        except TransientError as exc:
            service_unavailable(f"NATS JetStream at {NATS_URL} unreachable: {exc}")
        self.bus: Bus = self.nats

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        return f"{self.prefix}-{name}"

    def deliver(self) -> None:
        """Fetch and handle until the server has nothing due (handler errors are redeliveries)."""
        self.nats.join(raise_errors=False, idle=self.IDLE)

    def advance(self, delta: timedelta) -> None:
        """Let ``delta`` pass: scaled to real time, capped just past one visibility timeout."""
        self.clock.advance(delta)
        time.sleep(min(delta * self._scale, self.REAL_VISIBILITY + self.SLACK).total_seconds())

    def dead_letters(self, topic: str) -> list[DeadLetter]:
        """The dead letters of ``topic``."""
        return self.nats.dead_letters(topic)

    def replay_dead_letters(self, topic: str) -> int:
        """Re-publish the dead letters of ``topic`` for their group; return how many."""
        return self.nats.replay_dead_letters(topic)

    def close(self) -> None:
        try:
            self.nats.delete_streams()
        finally:
            self.nats.close()


class PubSubBusEnv:
    """A ``PubSubBus`` on the emulator, with its own topics and subscriptions (deleted on close).

    As for NATS, time is real and scaled: a handler failure is due again after a ``retry_delay``
    of ``REAL_VISIBILITY`` (the subscription's ack deadline stays at Pub/Sub's minimum, 10 s,
    for handlers that never return).
    """

    REAL_VISIBILITY = timedelta(seconds=2)
    SLACK = timedelta(milliseconds=500)
    IDLE = timedelta(milliseconds=150)

    def __init__(self, prefix: str, *, visibility_timeout: timedelta = timedelta(seconds=30),
                 max_attempts: int = 5, dedup_window: timedelta = timedelta(minutes=10)) -> None:
        from tipoff.adapters.bus.pubsub.bus import PubSubBus

        self.prefix = prefix
        self.clock = FakeClock(START)
        self._scale = self.REAL_VISIBILITY / visibility_timeout
        self.pubsub = PubSubBus(PUBSUB_PROJECT, self.clock, prefix=f"{prefix}-",
                                ack_deadline=timedelta(seconds=10), retry_delay=self.REAL_VISIBILITY,
                                max_attempts=max_attempts, dedup_window=dedup_window)
        try:
            self.pubsub.open()
        except TransientError as exc:
            service_unavailable(f"Pub/Sub emulator unreachable: {exc}")
        self.bus: Bus = self.pubsub

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        return f"{self.prefix}-{name}"

    def deliver(self) -> None:
        """Pull and handle until nothing is due (handler errors are redeliveries)."""
        self.pubsub.join(raise_errors=False, idle=self.IDLE)

    def advance(self, delta: timedelta) -> None:
        """Let ``delta`` pass: scaled to real time, capped just past one visibility timeout."""
        self.clock.advance(delta)
        time.sleep(min(delta * self._scale, self.REAL_VISIBILITY + self.SLACK).total_seconds())

    def dead_letters(self, topic: str) -> list[DeadLetter]:
        """The dead letters of ``topic``."""
        return self.pubsub.dead_letters(topic)

    def replay_dead_letters(self, topic: str) -> int:
        """Re-publish the dead letters of ``topic`` for their group; return how many."""
        return self.pubsub.replay_dead_letters(topic)

    def close(self) -> None:
        try:
            self.pubsub.delete_resources()
        finally:
            self.pubsub.close()


_BUILDERS: dict[str, Callable[..., BusEnv]] = {"memory": MemoryBusEnv, "nats": NatsBusEnv,
                                               "pubsub": PubSubBusEnv}


def _factory(builder: Callable[..., BusEnv]) -> Iterator[Callable[..., BusEnv]]:
    built: list[BusEnv] = []

    def make(**options: object) -> BusEnv:
        env = builder(f"t{uuid.uuid4().hex[:12]}", **options)
        built.append(env)
        return env

    yield make
    for env in built:
        env.close()


@pytest.fixture(params=sorted(_BUILDERS))
def bus_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., BusEnv]]:
    """Build ``BusEnv`` objects with bus options (visibility_timeout, max_attempts, dedup_window)."""
    if request.param == "pubsub":
        request.getfixturevalue("pubsub_emulator")
    yield from _factory(_BUILDERS[request.param])


@pytest.fixture
def nats_factory() -> Iterator[Callable[..., NatsBusEnv]]:
    """Build ``NatsBusEnv`` objects, for what only the NATS adapter has to prove."""
    yield from _factory(NatsBusEnv)  # type: ignore[misc]


@pytest.fixture
def bus_env(bus_factory: Callable[..., BusEnv]) -> BusEnv:
    """A bus with default options."""
    return bus_factory()
