"""A simulated week on the synthetic league: seven nights on FakeClock + SQLite + memory bus.

The nights differ the way real ones do: most start from stage 4's event within seconds; one
is claimed twelve minutes late; one loses its event and is started by the 06:00 backup; one
has no stage 4 at all; every night gets the 07:00 PT check (which may alert). The week ends
at 07:30 PT on its last night, so every night's 07:00 promise is decided.
"""

from __future__ import annotations

from contextlib import contextmanager

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tipoff.adapters.alerts.log import LogAlerter
from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.dates import pacific_instant
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.load_data import generate_league_into
from tipoff.pipeline.night_watch import NightWatch
from tipoff.pipeline.runtime import subscribe_coordinator, subscribe_workers
from tipoff.pipeline.worker import Worker
from tipoff.testing import FakeClock, RecordingAlerter

SEASON, SEED = "2025-26", 11
FIRST_NIGHT = date(2025, 11, 12)
NIGHTS = 7
LAST_NIGHT = FIRST_NIGHT + timedelta(days=NIGHTS - 1)
LATE_CLAIM, LOST_EVENT, NO_STAGE4 = 1, 3, 4  # which nights (0-based) misbehave


@dataclass
class Week:
    """The store file, the clock and the parts that ran the week."""

    path: Path
    clock: FakeClock
    store: SqliteStore
    bus: MemoryBus
    coordinator: Coordinator
    watch: NightWatch

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def dates(self) -> list[date]:
        return [FIRST_NIGHT + timedelta(days=n) for n in range(NIGHTS)]


def simulate_week(folder: Path, model) -> Week:
    """Run the seven nights; the store stays open (close it with ``week.store.close()``)."""
    path = folder / "week.db"
    clock = FakeClock(pacific_instant(FIRST_NIGHT, 0, 0))
    store = SqliteStore(f"sqlite:///{path}", clock).open()
    generate_league_into(store, SEASON, SEED, LAST_NIGHT)
    bus = MemoryBus(clock, visibility_timeout=timedelta(seconds=30), max_attempts=3)
    alerts = AlertDispatcher(store, clock, [LogAlerter(), RecordingAlerter("email")])
    coordinator = Coordinator(store, bus, clock, alerts=alerts)
    watch = NightWatch(coordinator, store, clock)
    subscribe_coordinator(bus, coordinator)
    subscribe_workers(bus, [Worker(store, bus, clock, model)])
    week = Week(path, clock, store, bus, coordinator, watch)
    for n, night in enumerate(week.dates()):
        _run_night(week, n, night)
    clock.set(pacific_instant(LAST_NIGHT, 7, 30))
    return week


def _run_night(week: Week, n: int, night: date) -> None:
    clock, bus = week.clock, week.bus
    clock.set(pacific_instant(night, 0, 30))
    if n != NO_STAGE4:
        build_features(week.store, None if n == LOST_EVENT else bus, clock, night)
    if n == LATE_CLAIM:
        clock.advance(timedelta(minutes=12))  # the event sits in the queue
    bus.join()
    clock.set(pacific_instant(night, 6, 0))
    if n in (LOST_EVENT, NO_STAGE4):
        week.coordinator.start(night, "scheduler_backup", wait_for_phase4=False)
        bus.join()
    clock.set(pacific_instant(night, 7, 0))
    week.watch.status_check(night)


@contextmanager
def serve_week(week, token: str, model_dir):
    """A live coordinator on 127.0.0.1 over the week's store, behind ``token``; no workers, no
    scheduler (the week is only read)."""
    from tipoff.config import Settings
    from tipoff.services.auth import TokenAccess
    from tipoff.services.http import create_app
    from tipoff.services.runtime import build_services
    from tests.services.test_http_scenarios import LiveServer

    settings = Settings(store_url=week.url, bus_url="memory://", model_dir=model_dir)
    services = build_services(settings, week.clock, workers=0, with_scheduler=False)
    try:
        with LiveServer(create_app(services, auth=TokenAccess(token))) as live:
            yield live
    finally:
        services.stop()
