"""One process's wiring: store, bus, coordinator, safety net, workers and scheduler.

``build_services`` is what ``tipoff serve`` (and the tests of the HTTP app) run; the embedded
mode puts everything in one process on the in-process bus.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import date

import structlog

from tipoff.bootstrap import (
    alert_dispatcher,
    model_store,
    open_bus,
    open_store,
    worker_pool,
)
from tipoff.config import Settings
from tipoff.domain.dates import game_date_at
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.night_watch import NightWatch
from tipoff.pipeline.runtime import load_model, subscribe_coordinator, subscribe_workers
from tipoff.domain.systems import XGBoostSystem
from tipoff.pipeline.worker import Worker
from tipoff.ports import Bus, Clock, Store, WorkerStore
from tipoff.services.scheduler import Scheduler

log = structlog.get_logger(__name__)


@dataclass
class Services:
    """Everything a coordinator process owns; ``start``/``stop`` run and end its threads."""

    settings: Settings
    clock: Clock
    store: Store
    bus: Bus
    alerts: AlertDispatcher
    coordinator: Coordinator
    watch: NightWatch
    workers: list[Worker] = field(default_factory=list)
    scheduler: Scheduler | None = None

    def start(self) -> None:
        """Deliver messages in the background and start the scheduler."""
        self.bus.start(workers=max(1, len(self.workers)))
        if self.scheduler is not None:
            self.scheduler.start()
        log.info("services_started", store=repr(self.store), bus=repr(self.bus),
                 workers=len(self.workers), scheduler=self.scheduler is not None)

    def stop(self) -> None:
        """Stop the scheduler, then the bus (un-acked messages stay for redelivery)."""
        if self.scheduler is not None:
            self.scheduler.stop()
        self.bus.close()
        self.store.close()


def scheduled_actions(coordinator: Coordinator, watch: NightWatch) -> dict:
    """The four daily jobs of SPEC.md §1, each acting on the game date of its fire time."""
    return {
        "backup_start": lambda day: coordinator.start(day, "scheduler_backup",
                                                      wait_for_phase4=True),
        "retry_1": coordinator.retry,
        "retry_2": coordinator.retry,
        "status_check": watch.status_check,
    }


def build_services(settings: Settings, clock: Clock, *, workers: int = 1,
                   with_scheduler: bool = True, xgboost: bool = True) -> Services:
    """Open the adapters of ``settings`` and wire a coordinator process (``workers`` in-process
    workers; 0 when workers run as separate processes; ``xgboost=False``: workers predict
    without the model, as ``--without-xgboost`` asks)."""
    store = open_store(settings.store_url, clock)
    bus = open_bus(settings.bus_url, clock)
    alerts = alert_dispatcher(settings, store, clock)
    coordinator = Coordinator(store, bus, clock, alerts=alerts)
    watch = NightWatch(coordinator, store, clock)
    subscribe_coordinator(bus, coordinator)
    pool = _worker_pool(store, bus, clock, settings, workers, xgboost)
    scheduler = None
    if with_scheduler:
        scheduler = Scheduler(store, clock, scheduled_actions(coordinator, watch),
                              instance_id=_instance(), poll=watch.poll_waits)
    return Services(settings, clock, store, bus, alerts, coordinator, watch, pool, scheduler)


def _instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _worker_pool(store: WorkerStore, bus: Bus, clock: Clock, settings: Settings, count: int,
                 xgboost: bool = True) -> list[Worker]:
    """``count`` competing workers subscribed to ``bus`` (the model is loaded only if needed)."""
    model = None
    if count:
        model = (load_model(model_store(settings.model_dir)) if xgboost
                 else XGBoostSystem(None, unavailable_reason="turned off by --without-xgboost"))
    pool = worker_pool(store, bus, clock, model, count, prefix=f"{_instance()}-w")
    subscribe_workers(bus, pool)
    return pool


def today_game_date(clock: Clock) -> date:
    """Today's slate date (America/New_York) by the injected clock."""
    return game_date_at(clock.now())


@dataclass
class WorkerProcess:
    """A process of prediction workers only (``tipoff worker``)."""

    store: Store
    bus: Bus
    workers: list[Worker]

    def start(self) -> None:
        """Fetch and handle requests in the background."""
        self.bus.start(workers=1)

    def stop(self) -> None:
        """Stop fetching; in-flight messages finish or return to the broker for redelivery."""
        self.bus.close()
        self.store.close()


def build_worker_process(settings: Settings, clock: Clock, *, concurrency: int = 2,
                         xgboost: bool = True) -> WorkerProcess:
    """``concurrency`` competing workers over the configured store and bus."""
    store = open_store(settings.store_url, clock)
    bus = open_bus(settings.bus_url, clock)
    return WorkerProcess(store, bus, _worker_pool(store, bus, clock, settings, concurrency,
                                                  xgboost))
