"""The night's scenarios of issue 4, on FakeClock + SQLite + the in-process bus.

Each test wires the coordinator, its safety net, a worker and the scheduler the way
``tipoff serve`` does, then moves the clock through the night, ticking the scheduler every
30 seconds and delivering every message after each tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tipoff.adapters.alerts.log import LogAlerter
from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain import alerts as a
from tipoff.domain.dates import pacific_instant
from tipoff.domain.messages import PHASE4_TOPIC
from tipoff.errors import PermanentError
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.build_features import phase4_event
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.night_watch import NightWatch
from tipoff.pipeline.predict import default_systems
from tipoff.pipeline.runtime import subscribe_coordinator, subscribe_workers
from tipoff.pipeline.worker import Worker
from tipoff.services.runtime import scheduled_actions
from tipoff.services.scheduler import Scheduler
from tipoff.testing import FakeClock, RecordingAlerter
from tests.unit.stage5_fixtures import GAME_DATE, seed_phase4, small_model


def pt(hour: int, minute: int = 0) -> datetime:
    return pacific_instant(GAME_DATE, hour, minute)


class FailingWrites:
    """The store as a worker sees it, refusing prediction writes for some players."""

    def __init__(self, store, players: set[str]) -> None:
        self._store, self.players = store, players

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write_predictions(self, game_date, rows):
        if any(r["player_lookup"] in self.players for r in rows):
            raise PermanentError("value too long for the predictions table")
        return self._store.write_predictions(game_date, rows)


class Night:
    """One coordinator process (scheduler, safety net, worker) over one store."""

    def __init__(self, path, clock: FakeClock, model, *, instance: str = "a", store=None,
                 worker_store=None, systems=None, channels=(), faults: bool = False) -> None:
        self.clock = clock
        self.faults = faults  # handler errors are expected: deliver without re-raising them
        self.store = store or SqliteStore(f"sqlite:///{path / 'night.db'}", clock).open()
        self.email = RecordingAlerter("email")
        self.alerts = AlertDispatcher(self.store, clock, [LogAlerter(), *channels, self.email])
        self.bus = MemoryBus(clock, visibility_timeout=timedelta(seconds=10), max_attempts=3)
        self.coordinator = Coordinator(self.store, self.bus, clock, alerts=self.alerts)
        self.watch = NightWatch(self.coordinator, self.store, clock)
        subscribe_coordinator(self.bus, self.coordinator)
        self.worker = Worker(worker_store or self.store, self.bus, clock, model,
                             max_attempts=3, systems=systems)
        subscribe_workers(self.bus, [self.worker])
        self.scheduler = Scheduler(self.store, clock,
                                   scheduled_actions(self.coordinator, self.watch),
                                   instance_id=instance, poll=self.watch.poll_waits)

    def run_until(self, instant: datetime, step: timedelta = timedelta(seconds=30)) -> None:
        if self.clock.now() < pt(5, 55) and instant > pt(5, 55):
            self.idle_until(pt(5, 55))
        while self.clock.now() < instant:
            self.clock.advance(min(step, instant - self.clock.now()))
            self.scheduler.tick()
            self.deliver()

    def idle_until(self, instant: datetime) -> None:
        """Jump over a quiet stretch of the night (nothing is scheduled before 06:00)."""
        self.clock.set(instant)
        self.scheduler.tick()
        self.deliver()

    def deliver(self) -> None:
        self.bus.join(raise_errors=not self.faults)

    def stage4_done(self, players: int = 60, *, announce: bool = True) -> None:
        seed_phase4(self.store, self.clock.now(), players=players)
        if announce:
            event = phase4_event(self.store, GAME_DATE)
            self.bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
            self.deliver()

    def job(self, name: str) -> dict:
        [run] = [r for r in self.store.job_runs() if r["job"] == name]
        return run["result"]["return"]

    def alert_rows(self, alert_type: str) -> list[dict]:
        return [r for r in self.store.alert_log(GAME_DATE) if r["alert_type"] == alert_type]


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture
def clock():
    return FakeClock(pt(0, 0))


def test_an_event_at_0031_starts_the_batch_and_the_backup_retries_and_check_stay_quiet(
        tmp_path, clock, model):
    night = Night(tmp_path, clock, model)
    night.run_until(pt(0, 31))
    night.stage4_done()
    assert night.store.get_batch(GAME_DATE).source == "pubsub"
    assert night.watch.status(GAME_DATE)["coverage_pct"] == 100.0
    night.run_until(pt(7, 5))
    assert night.job("backup_start")["decision"] == "already_complete"
    assert night.job("retry_1")["decision"] == night.job("retry_2")["decision"] == "complete"
    assert night.job("status_check")["alerts"] == {}
    assert night.email.sent == []


def test_a_lost_event_is_covered_by_the_0600_backup_before_0615(tmp_path, clock, model):
    night = Night(tmp_path, clock, model)
    night.run_until(pt(0, 31))
    night.stage4_done(announce=False)
    night.run_until(pt(6, 14))
    status = night.watch.status(GAME_DATE)
    assert status["trigger_source"] == "scheduler_backup"
    assert status["coverage_pct"] >= 95
    assert night.job("backup_start")["decision"] == "started"


@pytest.mark.parametrize("announce", [True, False], ids=["by-event", "by-poll"])
def test_a_late_stage_4_is_waited_for_and_starts_at_once_without_a_critical_alert(
        tmp_path, clock, model, announce):
    night = Night(tmp_path, clock, model)
    night.run_until(pt(6, 1))
    assert night.job("backup_start")["decision"] == "waiting_for_phase4"
    night.run_until(pt(6, 20))
    night.stage4_done(announce=announce)
    night.run_until(pt(6, 21, ))
    batch = night.store.get_batch(GAME_DATE)
    assert batch is not None and batch.state == "complete"
    assert batch.created_at <= pt(6, 21)
    assert night.store.get_wait(GAME_DATE)["status"] == "resolved"
    night.run_until(pt(7, 5))
    assert all(alert.severity != a.Severity.CRITICAL for alert in night.email.sent)


def test_a_stage_4_that_never_runs_alerts_once_at_0630_and_again_at_0700_per_channel(
        tmp_path, clock, model):
    night = Night(tmp_path, clock, model)
    night.run_until(pt(6, 29, ))
    assert night.email.sent == []
    night.run_until(pt(6, 31))
    assert night.email.types() == [a.PHASE4_NOT_READY]
    rows = night.alert_rows(a.PHASE4_NOT_READY)
    assert sorted(r["channel"] for r in rows) == ["email", "log"]
    assert all(pt(6, 30) <= r["sent_at"] <= pt(6, 31) for r in rows)
    night.run_until(pt(7, 30))
    assert night.email.types() == [a.PHASE4_NOT_READY, a.NO_BATCH]
    assert {r["channel"] for r in night.alert_rows(a.NO_BATCH)} == {"log", "email"}
    assert len(night.alert_rows(a.NO_BATCH)) == 2
    assert night.watch.status(GAME_DATE)["state"] == "insufficient_data"


def test_the_0615_retry_predicts_exactly_the_40_players_whose_writes_failed(
        tmp_path, clock, model):
    store = SqliteStore(f"sqlite:///{tmp_path / 'night.db'}", clock).open()
    calls = []
    systems = {name: _counting(name, system, calls)
               for name, system in default_systems(model).items()}
    failing = FailingWrites(store, set())
    night = Night(tmp_path, clock, model, store=store, worker_store=failing, systems=systems,
                  faults=True)
    night.run_until(pt(0, 31))
    rows = seed_phase4(store, clock.now(), players=100)
    failing.players = {r["player_lookup"] for r in rows[:40]}
    night.stage4_done(players=100)
    status = night.watch.status(GAME_DATE)
    assert (status["state"], status["players_predicted"], status["players_failed"]) == (
        "partial", 60, 40)
    night.run_until(pt(6, 5))  # the 06:00 backup re-requests the 40, whose writes still fail
    assert night.job("backup_start")["decision"] == "filled_missing"
    assert night.watch.status(GAME_DATE)["players_predicted"] == 60
    failing.players.clear()  # the store recovers
    calls.clear()
    night.run_until(pt(6, 16))
    assert night.job("retry_1")["decision"] == "filled_missing"
    assert night.job("retry_1")["requested"] == 40
    assert sorted({player for player, _ in calls}) == sorted(r["player_lookup"] for r in rows[:40])
    # the five component systems (four DESIGN ones and minutes_role) and the market-aware one
    # once each (the ensemble combines them)
    assert len(calls) == 40 * 6
    assert night.watch.status(GAME_DATE)["coverage_pct"] == 100.0
    retried = [p for p in store.read_predictions(GAME_DATE) if p["created_at"] >= pt(6, 15)]
    assert len({p["player_lookup"] for p in retried}) == 40
    assert {p["system_id"] for p in retried} >= {"moving_average_baseline", "ensemble_v1"}


def _counting(name, system, calls):
    def counted(features, line, context):
        calls.append((context.player_lookup, name))
        return system(features, line, context)
    return counted


def test_a_coordinator_restarted_during_a_wait_keeps_the_deadline_and_resolves(
        tmp_path, clock, model):
    first = Night(tmp_path, clock, model, instance="a")
    first.run_until(pt(6, 5))
    deadline = first.store.get_wait(GAME_DATE)["deadline"]
    assert deadline == pt(6, 30)
    first.scheduler.stop()  # the process goes away; its lease is released
    second = Night(tmp_path, clock, model, instance="b", store=first.store)
    second.run_until(pt(6, 12))
    second.stage4_done(announce=False)
    second.run_until(pt(6, 14))
    assert second.store.get_wait(GAME_DATE)["deadline"] == deadline
    assert second.store.get_wait(GAME_DATE)["status"] == "resolved"
    assert second.store.get_batch(GAME_DATE).state == "complete"


def test_a_coordinator_restarted_during_a_wait_still_expires_it_at_the_original_deadline(
        tmp_path, clock, model):
    first = Night(tmp_path, clock, model, instance="a")
    first.run_until(pt(6, 5))
    first.scheduler.stop()
    second = Night(tmp_path, clock, model, instance="b", store=first.store)
    second.run_until(pt(6, 31))
    assert second.store.get_wait(GAME_DATE)["status"] == "expired"
    assert second.email.types() == [a.PHASE4_NOT_READY]


def test_slack_down_still_delivers_email_and_records_the_failure(tmp_path, clock, model):
    slack = RecordingAlerter("slack", fail=True)
    night = Night(tmp_path, clock, model, channels=[slack])
    night.run_until(pt(7, 5))
    assert night.email.types() == [a.PHASE4_NOT_READY, a.NO_BATCH]
    failed = [r for r in night.store.alert_log(GAME_DATE) if r["channel"] == "slack"]
    assert failed and all(r["status"] == "failed" and "down" in r["last_error"] for r in failed)
    assert night.alerts.stats()["slack"]["failed"] == 2


def test_the_health_report_tells_the_whole_night(tmp_path, clock, model):
    from tipoff.pipeline.health_report import health_report

    night = Night(tmp_path, clock, model)
    night.run_until(pt(6, 1))  # no stage 4 yet: the backup waits
    night.run_until(pt(6, 20))
    night.stage4_done()
    night.run_until(pt(7, 5))
    report = health_report(night.store, night.watch, GAME_DATE)
    assert report["state"] == "complete" and report["coverage_pct"] == 100.0
    decisions = [(d["source"], d["decision"]) for d in report["decisions"]]
    assert decisions[0] == ("scheduler_backup", "waiting_for_phase4")
    assert ("retry", "not_ready") in decisions and ("pubsub", "started") in decisions
    assert report["data_quality"]["players"] == 60 and report["data_quality"]["ready_pct"] == 100.0
    assert report["alerts"] == []
    assert report["latency_seconds"] is not None
    assert (report["players_lined"], report["lined_coverage_pct"]) == (0, None)  # no lines


def test_status_shows_the_coverage_of_the_players_the_books_priced(tmp_path, clock, model):
    import pandas as pd

    night = Night(tmp_path, clock, model)
    night.stage4_done()
    night.run_until(pt(7, 5))
    priced = sorted(night.store.players_with_predictions(GAME_DATE))[:3] + ["nobodypredicted"]
    night.store.replace_analytics({"prop_lines": pd.DataFrame({
        "game_date": GAME_DATE, "player_lookup": priced, "market": "points",
        "bookmaker": "draftkings", "line": 12.5, "over_price": -110, "under_price": -110,
        "captured_at": pd.Timestamp("2026-01-01T12:00:00Z")})})
    status = night.watch.status(GAME_DATE)
    assert (status["players_lined"], status["players_lined_predicted"]) == (4, 3)
    assert status["lined_coverage_pct"] == 75.0 and status["coverage_pct"] == 100.0


def test_a_wait_left_open_past_its_night_is_closed_without_predicting_or_alerting(
        tmp_path, clock, model):
    night = Night(tmp_path, clock, model)
    night.run_until(pt(6, 5))  # the backup opened a wait; then the process was down all day
    night.clock.set(pacific_instant(GAME_DATE, 23, 0) + timedelta(hours=2))  # next day ET
    night.stage4_done(announce=False)
    assert night.watch.poll_waits() == []
    assert night.store.get_wait(GAME_DATE)["status"] == "expired"
    assert night.store.get_batch(GAME_DATE) is None and night.email.sent == []


def test_the_0700_check_reports_dead_letters(tmp_path, clock, model):
    night = Night(tmp_path, clock, model)

    def always_fails(message):
        raise RuntimeError("cannot handle this")

    night.bus.subscribe("poison-topic", always_fails, group="test")
    night.bus.publish("poison-topic", {"n": 1})
    for _ in range(3):  # max_attempts deliveries, a visibility timeout apart
        night.bus.join(raise_errors=False)
        night.clock.advance(timedelta(seconds=11))
    assert len(night.bus.dead_letters()) == 1
    night.run_until(pt(7, 5))
    assert a.DEAD_LETTERS in night.email.types()
