"""Faults on the real engines (issue 5): PostgreSQL, NATS JetStream, real tipoff processes.

Each test runs ``tipoff serve --workers 0`` (on the rehearsal clock, so 2026-01-15 is today)
and, where predictions must happen, two ``tipoff worker`` processes. A night is 450 ready
players written by ``seed_phase4``; the workers load a small trained model, so all systems
that need no history predict. Every test ends with the same audit: the batch is complete,
every ready player has a ``predicted`` result and active predictions, and no (player, system,
line) has two rows.

Tests that restart a server restart a private one (``private_nats``, ``private_postgres``);
the others isolate themselves on the shared servers with a schema and a stream prefix.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import nats
import pandas as pd
import pytest

from tests.e2e.conftest import TipoffProcess, eventually, open_test_bus, open_test_store
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4
from tipoff.domain import batches as b
from tipoff.domain.messages import (
    PHASE4_TOPIC,
    REQUEST_TOPIC,
    RESULT_TOPIC,
    Phase4Completed,
)
from tipoff.pipeline.build_features import phase4_event
from tipoff.pipeline.coordinator import COORDINATOR
from tipoff.services.client import CoordinatorClient

pytestmark = pytest.mark.slow

PLAYERS = 450
BATCH_DEADLINE = 120.0
LINES = 20  # sportsbook lines per player where a batch must last long enough to be interrupted


# --- helpers ---------------------------------------------------------------------------------


def seed_night(store_url: str, players: int = PLAYERS, *, lines: int = 0) -> Phase4Completed:
    """Write a ready stage 4 result for GAME_DATE (with ``lines`` sportsbook lines per player;
    none: one estimated line); return its ``phase4_complete`` event."""
    store = open_test_store(store_url)
    try:
        rows = seed_phase4(store, NIGHT - timedelta(minutes=1), players=players)
        if lines:
            store.replace_analytics({"prop_lines": pd.DataFrame([
                {"game_date": GAME_DATE, "player_lookup": row["player_lookup"], "market": "points",
                 "bookmaker": f"book{n}", "line": 6.5 + n, "over_price": -110,
                 "under_price": -110, "captured_at": NIGHT - timedelta(hours=3)}
                for row in rows for n in range(lines)])})
        return phase4_event(store, GAME_DATE)
    finally:
        store.close()


def trigger(coordinator, event: Phase4Completed) -> dict:
    """POST the event to ``/trigger`` and return the decision, which must start the batch."""
    status, body = CoordinatorClient(coordinator.url).trigger(event.to_data())
    assert (status, body["decision"]) == (202, "started"), body
    return body


def outcomes(store, batch_id: str) -> tuple[int, int]:
    """(results recorded, requests still pending) of a batch, counted in the store."""
    progress = store.batch_progress(batch_id)
    return progress.requested - progress.pending, progress.pending


def wait_mid_batch(store, batch_id: str, done_at_least: int = 40) -> None:
    """Return once some results are recorded and many requests are still pending."""
    def mid_batch() -> bool:
        done, pending = outcomes(store, batch_id)
        assert pending > 0 or done < done_at_least, "the batch finished before the fault"
        return done >= done_at_least

    eventually(mid_batch, timeout=60, interval=0.02, what="a batch part-way done")


def wait_complete(store, timeout: float = BATCH_DEADLINE) -> b.Batch:
    """Poll the store until the night's batch has left ``running``."""
    return eventually(lambda: (batch := store.get_batch(GAME_DATE)) and batch.state != b.RUNNING
                      and batch, timeout, interval=0.1, what="batch finished")


def assert_every_ready_player_predicted_once(store, players: int = PLAYERS) -> None:
    """The audit: complete, 100% of ready players predicted, no request without a result,
    no duplicate prediction row."""
    batch = store.get_batch(GAME_DATE)
    progress = store.batch_progress(batch.batch_id)
    assert batch.state == b.COMPLETE
    assert (progress.requested, progress.predicted, progress.pending) == (players, players, 0)
    assert len(store.players_with_predictions(GAME_DATE)) == players
    rows = store.read_predictions(GAME_DATE, active_only=False)
    keys = [(r["player_lookup"], r["system_id"], r["line"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate prediction rows"
    assert {r["player_lookup"] for r in rows} == {r["player_lookup"] for r in
                                                  store.batch_requests(batch.batch_id)}


class ConsumerState(NamedTuple):
    """A durable consumer as JetStream reports it."""

    deliveries: int  # every delivery so far, redeliveries included
    waiting: int  # stored, not delivered yet
    unacknowledged: int  # delivered, not acknowledged yet

    @property
    def settled(self) -> bool:
        return self.waiting == 0 and self.unacknowledged == 0


def consumer_state(bus_url: str, topic: str, group: str) -> ConsumerState:
    """The durable consumer of (topic, group) under the bus URL's stream prefix."""
    parts = urlsplit(bus_url)
    prefix = parse_qs(parts.query)["prefix"][0]

    async def read() -> ConsumerState:
        connection = await nats.connect(f"nats://{parts.netloc}")
        try:
            info = await connection.jetstream().consumer_info(prefix, f"{topic}__{group}")
        finally:
            await connection.close()
        return ConsumerState(info.delivered.consumer_seq, info.num_pending or 0,
                             info.num_ack_pending or 0)

    return asyncio.run(read())


def dead_letters(bus_url: str) -> list:
    bus = open_test_bus(bus_url)
    try:
        return bus.dead_letters()
    finally:
        bus.close()


def any_log_says(processes, text: str) -> bool:
    return any(text in p.output() for p in processes)


# --- the fault tests ---------------------------------------------------------------------------


def test_a_worker_killed_with_sigkill_mid_batch_leaves_every_ready_player_predicted_once(
        launcher, pg_url, nats_url):
    event = seed_night(pg_url)
    coordinator = launcher.coordinator(pg_url, nats_url)
    store = open_test_store(pg_url)
    try:
        trigger(coordinator, event)  # all 450 requests wait on the broker
        # The victim holds its fetched requests at a gate that never opens, so the kill always
        # lands while it holds some (a loaded machine cannot finish the batch first); every
        # un-acknowledged delivery is the victim's until the survivor starts.
        victim = gated_worker(launcher, pg_url, nats_url, launcher._folder / "gate")
        eventually(lambda: _holding(consumer_state(nats_url, REQUEST_TOPIC, "workers")),
                   timeout=30, interval=0.005, what="the victim holding requests")
        survivor = launcher.worker(pg_url, nats_url)
        victim.kill()

        wait_complete(store)
        assert_every_ready_player_predicted_once(store)
        requests = consumer_state(nats_url, REQUEST_TOPIC, "workers")
        assert requests.deliveries > PLAYERS  # the victim's requests were delivered again
        assert requests.settled
        assert survivor.alive()
        assert dead_letters(nats_url) == []
    finally:
        store.close()


GATED_WORKER = Path(__file__).with_name("gated_worker.py")


class GatedWorker(TipoffProcess):
    """A ``tipoff worker`` process that holds every fetched batch until its gate file exists."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path,
                 gate: Path) -> None:
        self.name, self.log_path = name, log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, str(GATED_WORKER), str(gate), *args],
                                        env=env, stdout=self._log, stderr=subprocess.STDOUT)


def gated_worker(launcher, store_url: str, bus_url: str, gate: Path) -> GatedWorker:
    name = f"gated-worker-{len(launcher.processes) + 1}"
    process = GatedWorker(name, ["worker", "--concurrency", "2", "--store", store_url, "--bus",
                                 bus_url], launcher.env(), launcher._folder / f"{name}.log", gate)
    launcher.processes.append(process)
    process.wait_for_output("worker running")
    return process


def _holding(state: ConsumerState) -> bool:
    assert state.waiting or state.unacknowledged, "the batch was handled before the kill"
    return state.unacknowledged > 0 and state.waiting > 0


def test_a_nats_restart_mid_batch_is_survived_by_workers_and_coordinator_and_loses_no_result(
        launcher, pg_url, private_nats):
    bus_url = private_nats.url()
    event = seed_night(pg_url, lines=LINES)
    processes = [launcher.coordinator(pg_url, bus_url), launcher.worker(pg_url, bus_url),
                 launcher.worker(pg_url, bus_url)]
    store = open_test_store(pg_url)
    try:
        bus = open_test_bus(bus_url)
        bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)  # the primary path
        bus.close()
        batch = eventually(lambda: _fanned_out(store), timeout=30, what="batch fanned out")
        wait_mid_batch(store, batch.batch_id)

        private_nats.stop()
        assert outcomes(store, batch.batch_id)[1] > 0  # results travel on NATS: none since
        eventually(lambda: all("nats_disconnected" in p.output() for p in processes),
                   timeout=30, what="every process noticing the broker is gone")
        private_nats.start()
        eventually(lambda: all("nats_reconnected" in p.output() for p in processes),
                   timeout=30, what="every process reconnecting")

        wait_complete(store)
        assert_every_ready_player_predicted_once(store)
        assert all(p.alive() for p in processes)
        assert dead_letters(bus_url) == []
    finally:
        store.close()


def _fanned_out(store) -> b.Batch | None:
    """The batch, once the coordinator has published its requests and recorded the decision."""
    started = [r for r in store.runs(processor=COORDINATOR, game_date=GAME_DATE)
               if r.decision == "started"]
    return store.get_batch(GAME_DATE) if started else None


def test_a_postgresql_restart_mid_batch_is_retried_and_loses_nothing(
        launcher, private_postgres, nats_url):
    store_url = private_postgres.url()
    event = seed_night(store_url, lines=LINES)
    coordinator = launcher.coordinator(store_url, nats_url)
    workers = [launcher.worker(store_url, nats_url), launcher.worker(store_url, nats_url)]
    store = open_test_store(store_url)
    try:
        batch_id = trigger(coordinator, event)["batch_id"]
        wait_mid_batch(store, batch_id)

        private_postgres.stop()
        eventually(lambda: any_log_says(workers, "store_retry"), timeout=30,
                   what="a worker retrying a transient store error")
        private_postgres.start()

        wait_complete(store)
        assert_every_ready_player_predicted_once(store)
        assert all(p.alive() for p in (coordinator, *workers))
        assert dead_letters(nats_url) == []
    finally:
        store.close()


def test_fifty_concurrent_triggers_across_two_coordinator_processes_start_one_batch(
        launcher, pg_url, nats_url):
    event = seed_night(pg_url)
    coordinators = [launcher.coordinator(pg_url, nats_url), launcher.coordinator(pg_url, nats_url)]
    barrier = threading.Barrier(50)

    def fire(n: int) -> tuple[int, dict]:
        client = CoordinatorClient(coordinators[n % 2].url)
        barrier.wait(timeout=30)
        if n % 4 < 2:  # half Pub/Sub pushes of the event, half manual starts
            return client.trigger(event.to_data())
        return client.start(GAME_DATE, force=False, wait=False)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(fire, range(50)))

    assert all(status in (200, 202) for status, _ in answers), answers
    decisions = sorted(body["decision"] for _, body in answers)
    assert decisions == ["already_running"] * 49 + ["started"]
    assert len({body["batch_id"] for _, body in answers}) == 1
    store = open_test_store(pg_url)
    bus = open_test_bus(nats_url)
    try:
        batch = store.get_batch(GAME_DATE)
        assert batch.batch_id == answers[0][1]["batch_id"]
        assert len(store.batch_requests(batch.batch_id)) == PLAYERS
        recorded = [r.decision for r in store.runs(processor=COORDINATOR, game_date=GAME_DATE)]
        assert sorted(recorded) == decisions
        assert bus.pending_count(REQUEST_TOPIC) == PLAYERS  # fanned out once, not 50 times
    finally:
        bus.close()
        store.close()


def test_every_prediction_request_delivered_three_times_writes_no_duplicate_row(
        launcher, pg_url, nats_url):
    event = seed_night(pg_url)
    coordinator = launcher.coordinator(pg_url, nats_url)
    trigger(coordinator, event)
    originals = _copy_requests_twice(nats_url)
    assert len(originals) == PLAYERS

    workers = [launcher.worker(pg_url, nats_url), launcher.worker(pg_url, nats_url)]
    store = open_test_store(pg_url)
    try:
        eventually(lambda: _all_handled(consumer_state(nats_url, REQUEST_TOPIC, "workers")),
                   timeout=BATCH_DEADLINE, interval=0.2, what="all 1,350 deliveries handled")
        eventually(lambda: consumer_state(nats_url, RESULT_TOPIC, "coordinator").settled,
                   timeout=30, interval=0.1, what="every result handled")
        wait_complete(store)
        assert_every_ready_player_predicted_once(store)
        assert all(p.alive() for p in (coordinator, *workers))
        assert dead_letters(nats_url) == []
    finally:
        store.close()


def _all_handled(state: ConsumerState) -> bool:
    return state.deliveries >= 3 * PLAYERS and state.settled


def _copy_requests_twice(bus_url: str) -> list[str]:
    """Read every published request (as a group of its own) and publish it twice more under
    new message ids, before any worker runs; return the original ids."""
    bus = open_test_bus(bus_url)
    seen: list = []
    try:
        bus.subscribe_batch(REQUEST_TOPIC, seen.extend, group="e2e-copier", max_batch=100)
        bus.drain(idle=timedelta(seconds=1))
        for copy in (1, 2):
            for message in seen:
                bus.publish(REQUEST_TOPIC, message.data,
                            message_id=f"copy{copy}:{message.message_id}")
    finally:
        bus.close()
    return [message.message_id for message in seen]
