"""Stage 5 over SQLite and the in-process bus: claims, fan-out, workers, results, breakers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tipoff.errors import TransientError

from tipoff.adapters.bus.memory import MemoryBus
from tipoff.domain import batches as b
from tipoff.domain.messages import REQUEST_TOPIC, RESULT_TOPIC
from tipoff.domain.systems import SYSTEM_IDS, ZONE_MATCHUP
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.predict import default_systems
from tipoff.bootstrap import log_alerts
from tipoff.pipeline.runtime import subscribe_coordinator, subscribe_workers
from tipoff.ports import Message
from tipoff.pipeline.worker import Worker
from tipoff.testing import FakeClock
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4, small_model

COMPONENTS = [s for s in SYSTEM_IDS if s not in ("similarity_balanced_v1", "ensemble_v1")]


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture
def night(sqlite_store, model):
    clock = FakeClock(NIGHT)
    bus = MemoryBus(clock)
    coordinator = Coordinator(sqlite_store, bus, clock, alerts=log_alerts(sqlite_store, clock))
    subscribe_coordinator(bus, coordinator)
    return sqlite_store, bus, clock, coordinator, model


def run_workers(night, systems=None, workers=1):
    store, bus, clock, _, model = night
    subscribe_workers(bus, [Worker(store, bus, clock, model, worker_id=f"w{n}",
                                   systems=systems) for n in range(workers)])


def test_an_event_for_a_ready_date_predicts_every_ready_player(night):
    store, bus, clock, coordinator, _ = night
    seed_phase4(store, clock.now(), players=30)
    run_workers(night)
    decision = coordinator.start(GAME_DATE, "pubsub")
    bus.join()
    assert decision.decision == "started" and decision.requested == 30
    batch = store.get_batch(GAME_DATE)
    assert batch.state == b.COMPLETE
    assert len(store.players_with_predictions(GAME_DATE)) == 30
    # similarity needs past games, which this store has none of: four systems per player
    assert store.count_predictions(GAME_DATE) == {s: 30 for s in COMPONENTS + ["ensemble_v1"]}


def test_every_request_yields_exactly_one_result_including_skips(night):
    store, bus, clock, coordinator, _ = night
    rows = seed_phase4(store, clock.now(), players=20)
    run_workers(night)
    coordinator.start(GAME_DATE, "pubsub")
    # stage 4 is rebuilt after the fan-out: three players are no longer ready
    for row in rows[:3]:
        row["is_production_ready"] = False
        row["data_quality_issues"] = ["injury status out"]
    store.replace_features(GAME_DATE, "v1_25", rows)
    bus.join()
    assert bus.published_count(RESULT_TOPIC) == bus.published_count(REQUEST_TOPIC) == 20
    progress = store.batch_progress(store.get_batch(GAME_DATE).batch_id)
    assert (progress.predicted, progress.skipped, progress.pending) == (17, 3, 0)
    assert store.get_batch(GAME_DATE).state == b.COMPLETE
    skipped = [r for r in store.batch_requests(store.get_batch(GAME_DATE).batch_id)
               if r["outcome"] == "skipped"]
    assert all("injury status out" in r["reason"] for r in skipped)


def test_redelivering_every_request_three_times_adds_no_rows(night):
    store, bus, clock, coordinator, model = night
    seed_phase4(store, clock.now(), players=15)
    requests = []
    bus.subscribe(REQUEST_TOPIC, requests.append, group="recorder")
    run_workers(night)
    coordinator.start(GAME_DATE, "pubsub")
    bus.join()
    before = len(store.read_predictions(GAME_DATE, active_only=False))
    worker = Worker(store, bus, clock, model, worker_id="redelivery")
    for _ in range(3):
        for message in requests:
            worker.handle(message)
    bus.join()
    assert len(requests) == 15 and before == 15 * 4
    assert len(store.read_predictions(GAME_DATE, active_only=False)) == before
    assert all(r["is_active"] for r in store.read_predictions(GAME_DATE, active_only=False))


class CountedWrites:
    """The store as a worker sees it, counting the players whose predictions it writes."""

    def __init__(self, store) -> None:
        self._store, self.players_written = store, []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write_predictions(self, game_date, rows):
        self.players_written.extend(sorted({r["player_lookup"] for r in rows}))
        return self._store.write_predictions(game_date, rows)


def test_a_request_delivered_again_to_its_worker_gets_its_result_without_a_second_write(night):
    store, bus, clock, coordinator, model = night
    seed_phase4(store, clock.now(), players=6)
    requests = []
    bus.subscribe(REQUEST_TOPIC, requests.append, group="recorder")
    coordinator.start(GAME_DATE, "pubsub")
    bus.join()
    counted = CountedWrites(store)
    worker = Worker(counted, bus, clock, model, worker_id="again")
    worker.handle_batch(requests[:4])
    worker.handle_batch(requests)  # four delivered again (a crashed worker's batch), two new
    assert sorted(counted.players_written) == sorted(m.data["player_lookup"] for m in requests)
    bus.join()
    progress = store.batch_progress(store.get_batch(GAME_DATE).batch_id)
    assert (progress.predicted, progress.pending) == (6, 0)
    assert store.get_batch(GAME_DATE).state == b.COMPLETE


def test_a_batch_mixing_a_known_request_and_the_next_nights_answers_both(night):
    store, bus, clock, coordinator, model = night
    rows = seed_phase4(store, clock.now(), players=2)
    requests = []
    bus.subscribe(REQUEST_TOPIC, requests.append, group="recorder")
    coordinator.start(GAME_DATE, "pubsub")
    bus.join()
    next_night = GAME_DATE + timedelta(days=1)
    store.replace_features(next_night, rows[0]["feature_version"],
                           [{**row, "game_date": next_night} for row in rows])
    later = Message(REQUEST_TOPIC, "req:next", {**requests[1].data,
                                                "game_date": next_night.isoformat()})
    counted = CountedWrites(store)
    worker = Worker(counted, bus, clock, model, worker_id="two-nights")
    worker.handle_batch(requests[:1])
    worker.handle_batch([requests[0], later])  # the first is known; the second is a new night
    assert counted.players_written == [requests[0].data["player_lookup"],
                                       requests[1].data["player_lookup"]]
    assert store.players_with_predictions(next_night) == {requests[1].data["player_lookup"]}


def test_a_second_trigger_for_the_same_date_returns_the_existing_batch(night):
    store, bus, clock, coordinator, _ = night
    seed_phase4(store, clock.now())
    first = coordinator.start(GAME_DATE, "pubsub")
    second = coordinator.start(GAME_DATE, "scheduler_backup")
    assert second.decision == "already_running" and second.batch_id == first.batch_id
    run_workers(night)
    bus.join()
    third = coordinator.start(GAME_DATE, "scheduler_backup")
    assert third.decision == "already_complete"


def test_two_threads_claiming_one_date_yield_one_batch(night):
    store, bus, clock, _, _ = night
    seed_phase4(store, clock.now())
    decisions = []
    barrier = threading.Barrier(8)

    def claim():
        barrier.wait()
        decisions.append(Coordinator(store, bus, clock, alerts=log_alerts(store, clock)).start(GAME_DATE, "manual"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(d.decision for d in decisions).count("started") == 1
    assert len({d.batch_id for d in decisions}) == 1
    assert bus.published_count(REQUEST_TOPIC) == 30


def test_a_system_that_always_raises_opens_its_breaker_and_the_others_keep_predicting(night):
    store, bus, clock, coordinator, model = night
    seed_phase4(store, clock.now(), players=12)
    systems = default_systems(model)

    def broken(features, line, context):
        raise RuntimeError("zone model exploded")

    systems[ZONE_MATCHUP] = broken
    run_workers(night, systems=systems)
    coordinator.start(GAME_DATE, "pubsub")
    bus.join()
    breaker = store.load_breakers()[ZONE_MATCHUP]
    assert breaker["state"] == "open" and breaker["consecutive_failures"] == 5
    counts = store.count_predictions(GAME_DATE)
    assert ZONE_MATCHUP not in counts
    assert counts["moving_average_baseline"] == counts["xgboost_v1"] == counts["ensemble_v1"] == 12
    assert store.get_batch(GAME_DATE).state == b.COMPLETE


def test_an_event_for_a_past_date_is_a_backfill_and_starts_nothing(night):
    store, bus, clock, coordinator, _ = night
    seed_phase4(store, clock.now())
    clock.advance(timedelta(days=1))
    decision = coordinator.start(GAME_DATE, "pubsub")
    assert decision.decision == "backfill_ignored"
    assert store.get_batch(GAME_DATE) is None


def test_stage_4_below_the_ready_threshold_is_not_ready(night):
    store, _, clock, coordinator, _ = night
    seed_phase4(store, clock.now(), players=30, not_ready=24)  # 6 ready; 7 needed
    decision = coordinator.start(GAME_DATE, "scheduler_backup")
    assert decision.decision == "not_ready"
    assert "6 ready of 30 players; 7 needed" in decision.reason


def test_every_decision_is_recorded_in_run_history_with_its_source(night):
    store, _, clock, coordinator, _ = night
    seed_phase4(store, clock.now())
    coordinator.start(GAME_DATE, "pubsub")
    clock.advance(timedelta(seconds=1))
    coordinator.start(GAME_DATE, "scheduler_backup")
    runs = [r for r in store.runs(processor="prediction_coordinator") if r.source]
    assert [(r.source, r.decision) for r in runs] == [
        ("pubsub", "started"), ("scheduler_backup", "already_running")]


class FlakyWrites:
    """The store as a worker sees it: the first ``failures`` prediction writes fail transiently."""

    def __init__(self, store, failures: int) -> None:
        self._store, self.failures = store, failures

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write_predictions(self, game_date, rows):
        if self.failures:
            self.failures -= 1
            from tipoff.errors import TransientError

            raise TransientError("database restarting")
        return self._store.write_predictions(game_date, rows)


def test_a_transient_write_failure_is_redelivered_and_then_succeeds(night):
    store, bus, clock, coordinator, model = night
    seed_phase4(store, clock.now(), players=12)
    subscribe_workers(bus, [Worker(FlakyWrites(store, 1), bus, clock, model)])
    coordinator.start(GAME_DATE, "pubsub")
    bus.join(raise_errors=False)
    assert store.get_batch(GAME_DATE).state == b.RUNNING  # nothing reported yet
    clock.advance(timedelta(seconds=31))  # the visibility timeout passes
    bus.join()
    assert store.get_batch(GAME_DATE).state == b.COMPLETE
    assert len(store.players_with_predictions(GAME_DATE)) == 12


class BrokerDropsAfter:
    """A bus whose publishing fails after ``limit`` messages, like a broker going away."""

    def __init__(self, bus, limit: int) -> None:
        self._bus, self.limit = bus, limit

    def __getattr__(self, name):
        return getattr(self._bus, name)

    def publish_many(self, topic, items):
        accepted = items[:self.limit]
        self._bus.publish_many(topic, accepted)
        self.limit -= len(accepted)
        if len(accepted) < len(items):
            raise TransientError("broker restarting")
        return [message_id for _, message_id in items]


def test_a_fan_out_cut_short_is_healed_by_the_next_trigger(night):
    store, bus, clock, _, model = night
    seed_phase4(store, clock.now(), players=20)
    flaky = BrokerDropsAfter(bus, limit=8)
    with pytest.raises(TransientError):
        Coordinator(store, flaky, clock, alerts=log_alerts(store, clock)).start(GAME_DATE, "pubsub")
    run_workers(night)
    bus.join()
    batch = store.get_batch(GAME_DATE)
    assert batch.state == b.RUNNING and store.batch_progress(batch.batch_id).pending == 12
    clock.advance(timedelta(minutes=3))
    flaky.limit = 1_000  # the broker is back
    again = Coordinator(store, flaky, clock, alerts=log_alerts(store, clock)).start(GAME_DATE, "scheduler_backup")
    assert again.decision == "already_running" and "re-sent 12 requests" in again.reason
    bus.join()
    assert store.get_batch(GAME_DATE).state == b.COMPLETE
    assert len(store.players_with_predictions(GAME_DATE)) == 20


def test_a_batch_leaves_the_garbage_collector_as_it_found_it_even_when_it_fails(night):
    import gc

    store, bus, clock, coordinator, model = night
    seed_phase4(store, clock.now(), players=4)
    subscribe_workers(bus, [Worker(FlakyWrites(store, 1), bus, clock, model)])
    assert gc.isenabled()
    coordinator.start(GAME_DATE, "pubsub")
    bus.join(raise_errors=False)  # the first write fails inside the batch
    assert gc.isenabled()
    clock.advance(timedelta(seconds=31))
    bus.join()
    assert gc.isenabled() and store.get_batch(GAME_DATE).state == b.COMPLETE
