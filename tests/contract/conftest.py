"""Fixtures for the contract suites: one parameter per adapter of a port.

``bus_factory`` builds buses for the parametrised adapter. Each bus gets its own FakeClock and
a unique topic prefix, so tests never see each other's messages (and a real broker can be shared
by the whole run). Tests talk to the bus through the port and to the environment only through
``BusEnv``: ``topic``, ``deliver``, ``advance`` and the dead-letter helpers. A real-broker
environment implements those differently (waiting on the server instead of pumping, letting
real time pass or using short broker timeouts instead of advancing a FakeClock).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Protocol

import pytest

from tipoff.adapters.bus.memory import DeadLetter, MemoryBus
from tipoff.ports import Bus
from tipoff.testing import FakeClock

START = datetime(2026, 3, 8, 8, 30, tzinfo=timezone.utc)


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


_BUILDERS: dict[str, Callable[..., BusEnv]] = {"memory": MemoryBusEnv}


@pytest.fixture(params=sorted(_BUILDERS))
def bus_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., BusEnv]]:
    """Build ``BusEnv`` objects with bus options (visibility_timeout, max_attempts, dedup_window)."""
    built: list[BusEnv] = []

    def make(**options: object) -> BusEnv:
        env = _BUILDERS[request.param](f"t{uuid.uuid4().hex[:12]}", **options)
        built.append(env)
        return env

    yield make
    for env in built:
        env.close()


@pytest.fixture
def bus_env(bus_factory: Callable[..., BusEnv]) -> BusEnv:
    """A bus with default options."""
    return bus_factory()
