"""One simulated night per fault kind, through the real coordinator, scheduler, worker and
alerts (``tipoff simulate``'s ``Season``): each shows the path that recovers the fault, or the
critical alert that reports it before 07:05 PT.

The synthetic league is loaded into a SQLite file once; every test runs on its own copy, with a
small real XGBoost model. Per-call faults are scripted (strike on the first call only) so each
test sees exactly the fault it is about.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.dates import pacific_instant
from tipoff.pipeline.load_data import generate_league_into
from tipoff.services.season import Season, summary
from tipoff.sim.faults import KINDS, FaultSpec, night_faults, parse_faults
from tipoff.testing import FakeClock
from tests.unit.stage5_fixtures import small_model

NIGHT = date(2025, 11, 19)  # a game night of the synthetic 2025-26 league, past its ramp


class Scripted:
    """A fault stream that strikes on the listed calls (1-based) and never otherwise."""

    def __init__(self, *strikes: int) -> None:
        self._strikes, self._calls = set(strikes), 0

    def random(self) -> float:
        self._calls += 1
        return 0.0 if self._calls in self._strikes else 1.0


class FailsFirst:
    """A ``write_fail`` stream that fails the first call of each listed store write only."""

    def __init__(self, store, *writes: str) -> None:
        self._store, self._left = store, set(writes)

    def random(self) -> float:
        write = self._store.writing
        if write in self._left:
            self._left.discard(write)
            return 0.0
        return 1.0


@pytest.fixture(scope="module")
def league_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("league") / "league.db"
    clock = FakeClock(pacific_instant(date(2025, 7, 1), 0))
    with SqliteStore(f"sqlite:///{path}", clock) as store:
        generate_league_into(store, "2025-26", 7, NIGHT + timedelta(days=1))
    return path


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture
def season(tmp_path, league_file, model):
    def make(spec: str = "", **scripted: Scripted) -> tuple[Season, object]:
        shutil.copyfile(league_file, tmp_path / "season.db")
        clock = FakeClock(pacific_instant(NIGHT - timedelta(days=1), 12))
        store = SqliteStore(f"sqlite:///{tmp_path / 'season.db'}", clock).open()
        opened.append(store)
        faults = parse_faults(spec)
        night = night_faults(faults, 1, NIGHT)
        night.streams.update(scripted)
        return Season(store, MemoryBus(clock), clock, model, faults, seed=1), night
    opened: list = []
    yield make
    for store in opened:
        store.close()


def critical(report: dict) -> set[str]:
    return {a["type"] for a in report["alerts"] if a["severity"] == "critical"}


def jobs(sim: Season) -> dict[str, str]:
    return {r["job"]: r["result"]["return"].get("decision") for r in sim.store.job_runs()
            if isinstance(r["result"].get("return"), dict)}


def test_a_calm_night_meets_the_sla_by_the_event_with_no_alert_and_no_duplicate(season):
    sim, faults = season()
    report = sim.night(NIGHT, faults)
    assert report["sla_met"] and report["started_by"] == "pubsub"
    assert report["alerts"] == [] and report["duplicates"] == 0 and report["faults"] == []
    assert summary([{**report, "critical_by_0705": False}], 1.0)["false_alarms"] == 0


def test_a_lost_event_is_recovered_by_the_0600_backup_with_a_warning_not_a_page(season):
    sim, faults = season("event_lost")
    report = sim.night(NIGHT, faults)
    assert report["faults"] == ["event_lost"]
    assert report["sla_met"] and report["started_by"] == "scheduler_backup"
    assert {(a["type"], a["severity"]) for a in report["alerts"]} == {("latency", "warning")}


@pytest.mark.parametrize(("spec", "started_by"), [
    ("phase4_late=1:350-350m", "pubsub"),  # finishes 06:20 PT; its event resolves the wait
    ("phase4_late=1:350-350m,event_lost", "scheduler_backup"),  # the wait's poll finds it
], ids=["by-event", "by-poll"])
def test_a_stage_4_later_than_0600_is_waited_for_and_started_at_once(season, spec, started_by):
    sim, faults = season(spec)
    report = sim.night(NIGHT, faults)
    assert "phase4_late:350m" in report["faults"]
    assert jobs(sim)["backup_start"] == "waiting_for_phase4"
    assert report["sla_met"] and report["started_by"] == started_by
    assert critical(report) == set()


def test_a_missing_stage_4_misses_the_sla_and_pages_before_0705(season):
    sim, faults = season("phase4_missing,slack_down")
    report = sim.night(NIGHT, faults)
    assert not report["sla_met"] and report["started_by"] == "none"
    assert critical(report) == {"phase4_not_ready", "no_batch"}
    assert {a["channel"] for a in report["alerts"]} == {"email"}  # Slack was down all night
    assert all(a["at"] <= pacific_instant(NIGHT, 7, 5).isoformat() for a in report["alerts"])


def test_a_partial_stage_4_is_completed_by_the_0615_retry(season):
    sim, faults = season("phase4_partial=1:0.9")
    report = sim.night(NIGHT, faults)
    assert report["faults"] == ["phase4_partial:0.9"]
    assert jobs(sim)["retry_1"] == "filled_missing"
    assert report["sla_met"] and report["duplicates"] == 0


def test_a_worker_crash_mid_batch_is_recovered_by_redelivery_without_duplicates(season):
    sim, faults = season("worker_crash=0.5", worker_crash=Scripted(1))
    report = sim.night(NIGHT, faults)
    assert report["faults"] == ["worker_crash"]
    assert report["sla_met"] and report["started_by"] == "pubsub"
    assert report["duplicates"] == 0 and report["alerts"] == []
    assert 0 < report["latency_s"] <= 60  # one visibility timeout later


def test_a_failed_prediction_write_is_recovered_by_redelivery(season):
    sim, faults = season("write_fail=0.5", write_fail=Scripted(1))
    report = sim.night(NIGHT, faults)
    assert report["faults"] == ["write_fail"]
    assert report["sla_met"] and report["duplicates"] == 0 and report["alerts"] == []


@pytest.mark.parametrize("write", [
    "claim_batch", "add_requests", "record_results", "finish_batch", "record_run",
    "acquire_lease", "claim_job_run", "finish_job_run"])
def test_a_failed_store_write_of_the_night_is_recovered(season, write):
    """Each write fails once, as a store still locked after the adapter's retries: the bus
    redelivers the handler's message, the scheduler's next tick runs its jobs, or (a batch
    claimed without requests) the 06:00 backup sends the fan-out that failed."""
    sim, faults = season("write_fail=0.5,event_lost" if "job" in write else "write_fail=0.5")
    faults.streams["write_fail"] = FailsFirst(sim.store, write)
    report = sim.night(NIGHT, faults)
    assert sim.store.failed == [write]
    assert report["sla_met"] and report["duplicates"] == 0
    assert critical(report) == set()


@pytest.mark.parametrize("write", ["claim_alert", "mark_alert", "open_wait"])
def test_a_failed_alert_log_or_wait_write_still_pages_a_missed_night(season, write):
    sim, faults = season("write_fail=0.5,phase4_missing")
    faults.streams["write_fail"] = FailsFirst(sim.store, write)
    report = sim.night(NIGHT, faults)
    assert sim.store.failed == [write]
    assert not report["sla_met"] and report["critical_by_0705"]
    assert "no_batch" in critical(report)


def test_messages_delivered_twice_predict_nobody_twice(season):
    sim, faults = season("duplicate_delivery=1")
    report = sim.night(NIGHT, faults)
    assert report["faults"][0].startswith("duplicate_delivery x")
    assert report["sla_met"] and report["duplicates"] == 0 and report["alerts"] == []


def test_a_failed_stage_4_publish_warns_and_the_backup_starts_the_night(season):
    sim, faults = season("bus_publish_fail,smtp_down")
    report = sim.night(NIGHT, faults)
    assert report["sla_met"] and report["started_by"] == "scheduler_backup"
    assert {(a["type"], a["channel"]) for a in report["alerts"]} == {
        ("phase4_publish_failed", "slack"), ("latency", "slack")}  # e-mail was down
    assert critical(report) == set()


def test_every_fault_kind_has_a_test_here():
    assert set(KINDS) == {"event_lost", "phase4_late", "phase4_missing", "phase4_partial",
                          "worker_crash", "write_fail", "slack_down", "smtp_down",
                          "duplicate_delivery", "bus_publish_fail"}
    assert FaultSpec().describe() == ""
