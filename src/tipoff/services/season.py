"""``tipoff simulate``: a season of nights through the real coordinator, scheduler, workers and
alerts, on a simulated clock that jumps over idle time, with faults injected at the ports.

Each game night: stage 4 runs at its (possibly late, partial or missing) time and publishes
its event; the bus delivers to the coordinator and the workers; the scheduler fires the 06:00,
06:15, 06:30 and 07:00 jobs and the wait poll at their Pacific times. Between two moments
where something is due the clock jumps; while messages wait for redelivery or a wait for
stage 4 is open it moves in ``STEP``s. At 07:00 PT the night is measured against the promise
(>= 95 % of ready players predicted, nothing twice, every miss alerted before 07:05).
"""

from __future__ import annotations

import gc
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tipoff.bootstrap import alert_channels, embedded_night, model_store, open_bus, open_store
from tipoff.config import Settings
from tipoff.domain.alerts import Severity
from tipoff.domain.analytics import season_start_year
from tipoff.domain.dates import pacific_instant
from tipoff.domain.systems import XGBOOST, XGBoostSystem
from tipoff.errors import InputError, TransientError
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.load_data import generate_league_into
from tipoff.pipeline.night_watch import NightWatch
from tipoff.pipeline.runtime import load_model
from tipoff.pipeline.train import train
from tipoff.services.runtime import scheduled_actions
from tipoff.services.scheduler import Scheduler
from tipoff.sim.chaos import ChaosBus, ChaosStore, PartialStage4, SimulatedChannel
from tipoff.sim.faults import FaultSpec, NightFaults, night_faults
from tipoff.testing import FakeClock

STEP = timedelta(seconds=30)  # clock steps while something is pending
SLA_PCT = 95
STAGE4_AT = (0, 30)  # stage 4 normally finishes at 00:30 PT
CHECK_AT = (7, 0)
ALERT_CUTOFF = (7, 5)  # a miss must have been alerted (critical) by 07:05 PT
TRAINING_NIGHTS = 20
LEAGUE_SEED = 7
RAMP = timedelta(days=14)
GC_YOUNG_THRESHOLD = 50_000  # allocations between young-generation collections (default 700)

Progress = Callable[[int, int, dict], None]


@dataclass(frozen=True)
class SeasonOptions:
    """What ``tipoff simulate`` runs."""

    workdir: Path
    season: str = "2025-26"
    first: date | None = None
    last: date | None = None
    nights: int | None = None
    faults: FaultSpec = FaultSpec()
    seed: int = 1
    league_seed: int = LEAGUE_SEED
    store_url: str | None = None
    bus_url: str = "memory://"


def season_model(workdir: Path, season: str, league_seed: int = LEAGUE_SEED) -> XGBoostSystem:
    """The XGBoost model trained on the previous synthetic season (trained once, then reused
    from ``WORKDIR/models``), so no simulated night is in its training data."""
    models = model_store(Path(workdir) / "models" / f"before-{season}-seed{league_seed}")
    if not models.exists(XGBOOST):
        year = season_start_year(season) - 1
        previous = f"{year}-{str(year + 1)[2:]}"
        clock = FakeClock(pacific_instant(date(year + 1, 7, 1), 0))
        with open_store("sqlite://", clock) as store:
            generate_league_into(store, previous, league_seed, None)
            last = max(store.game_dates())
            train(store, models, last, clock, seed=league_seed, max_nights=TRAINING_NIGHTS)
    return load_model(models)


def season_dates(game_dates: list[date], options: SeasonOptions) -> list[date]:
    """The game nights to simulate: ``first``..``last``, at most ``nights`` of them. By default
    from ``RAMP`` after the season's first game to its last: in the first week stage 4 writes
    placeholders only, and for a few nights after it too few players are ready yet."""
    if not game_dates:
        return []
    first = options.first or game_dates[0] + RAMP
    chosen = [d for d in game_dates if d >= first and (options.last is None or d <= options.last)]
    return chosen[:options.nights] if options.nights is not None else chosen


class Season:
    """One store, bus, coordinator, safety net, worker and scheduler for every night, each
    port wrapped by its fault injector."""

    def __init__(self, store, bus, clock: FakeClock, model: XGBoostSystem, spec: FaultSpec,
                 seed: int) -> None:
        self.clock, self.spec, self.seed = clock, spec, seed
        self.store = ChaosStore(store)
        self.stage4_store = PartialStage4(store)
        self.bus = ChaosBus(bus)
        self.channels = [SimulatedChannel("slack", "slack_down", clock),
                         SimulatedChannel("email", "smtp_down", clock)]
        self.alerts = AlertDispatcher(self.store, clock,
                                      [*alert_channels(Settings()), *self.channels])
        coordinator = embedded_night(self.store, self.bus, clock, model, alerts=self.alerts)
        self.watch = NightWatch(coordinator, self.store, clock)
        actions = scheduled_actions(coordinator, self.watch)
        check = actions["status_check"]
        actions["status_check"] = lambda day: self._checked.setdefault(day, check(day))
        self._checked: dict[date, dict] = {}
        self.scheduler = Scheduler(self.store, clock, actions, instance_id="simulator",
                                   poll=self.watch.poll_waits)

    def night(self, game_date: date, faults: NightFaults | None = None) -> dict:
        """Run one game night from midnight to 07:05 PT and report it (with ``faults``, or
        those the spec and seed draw for the date)."""
        faults = faults or night_faults(self.spec, self.seed, game_date)
        for part in (self.store, self.stage4_store, self.bus, *self.channels):
            part.tonight(faults)
        for channel in self.channels:
            channel.delivered.clear()
        self._note_night_faults(faults)
        status = None
        for at, action in self._timeline(game_date, faults):
            self._advance_to(at)
            if action == "check":  # the 07:00 check's own status, unless that job failed
                status = self._checked.pop(game_date, None) or self.watch.status(game_date)
            elif action is not None:
                action()
        assert status is not None  # the 07:00 check is always on the timeline
        return self._report(game_date, faults, status)

    # --- the night's timeline ---------------------------------------------------------------

    def _timeline(self, game_date: date, faults: NightFaults) -> list[tuple[datetime, object]]:
        at = lambda hour, minute: pacific_instant(game_date, hour, minute)  # noqa: E731
        steps: list[tuple[datetime, object]] = [
            (at(0, 0), None), (at(6, 0), None), (at(6, 15), None), (at(6, 30), None),
            (at(*CHECK_AT), "check"), (at(*ALERT_CUTOFF), None)]
        if not faults.missing:
            done = at(*STAGE4_AT) + (faults.late or timedelta(0))
            if faults.partial is not None:
                steps.append((done, lambda: self._stage4(game_date, hold_back=True)))
                done += faults.partial_rest
            steps.append((done, lambda: self._stage4(game_date, hold_back=False)))
        cutoff = at(*ALERT_CUTOFF)
        return sorted((s for s in steps if s[0] <= cutoff), key=lambda s: s[0])

    def _stage4(self, game_date: date, *, hold_back: bool) -> None:
        self.stage4_store.hold_back = hold_back
        build_features(self.stage4_store, self.bus, self.clock, game_date, alerts=self.alerts)

    def _advance_to(self, instant: datetime) -> None:
        """Deliver, then move the clock to ``instant``: in one jump when nothing is pending,
        else in ``STEP``s, ticking the scheduler (jobs and wait poll) at every stop."""
        tick_failed = False
        while True:
            self.bus.join(raise_errors=False)
            now = self.clock.now()
            if now >= instant:
                return
            busy = tick_failed or self.bus.pending_count() > 0 or bool(self.store.open_waits())
            self.clock.set(min(instant, now + STEP) if busy else instant)
            tick_failed = not self._tick()

    def _tick(self) -> bool:
        """One scheduler tick; a store failure leaves its jobs due for the next one, as the
        scheduler's own loop does (``Scheduler.run_forever``)."""
        try:
            self.scheduler.tick()
        except TransientError:
            return False
        return True

    def _note_night_faults(self, faults: NightFaults) -> None:
        for kind in ("slack_down", "smtp_down", "phase4_missing"):
            if getattr(faults, kind if kind != "phase4_missing" else "missing"):
                faults.note(kind)
        if faults.late is not None:
            faults.note("phase4_late", f"{int(faults.late.total_seconds() // 60)}m")
        if faults.partial is not None:
            faults.note("phase4_partial", f"{faults.partial:g}")

    # --- the night's report -----------------------------------------------------------------

    def _report(self, game_date: date, faults: NightFaults, status: dict) -> dict:
        cutoff = pacific_instant(game_date, *ALERT_CUTOFF)
        alerts = sorted(({"type": alert.type, "severity": alert.severity.value,
                          "channel": channel.name, "at": at.isoformat()}
                         for channel in self.channels for alert, at in channel.delivered
                         if alert.game_date == game_date), key=lambda a: (a["at"], a["channel"]))
        ready, predicted = status["players_ready"], status["players_predicted"]
        batch = self.store.get_batch(game_date)
        return {
            "game_date": game_date.isoformat(),
            "sla_met": ready > 0 and predicted * 100 >= ready * SLA_PCT,
            "coverage_pct": status["coverage_pct"], "predicted_by_0700": predicted,
            "ready": ready, "started_by": batch.source if batch else "none",
            "latency_s": status["latency_seconds"], "faults": faults.labels(),
            "alerts": alerts, "duplicates": self.store.duplicate_predictions(game_date),
            "critical_by_0705": any(a["severity"] == Severity.CRITICAL
                                    and datetime.fromisoformat(a["at"]) <= cutoff for a in alerts),
        }


def summary(nights: list[dict], seconds: float) -> dict:
    """The season's totals (the ``summary`` object of the report)."""
    met = [n for n in nights if n["sla_met"]]
    return {
        "nights": len(nights), "sla_met": len(met), "sla_missed": len(nights) - len(met),
        "missed_without_critical_alert": sum(1 for n in nights
                                             if not n["sla_met"] and not n["critical_by_0705"]),
        "false_alarms": sum(len({a["type"] for a in n["alerts"]
                                 if a["severity"] == Severity.CRITICAL}) for n in met),
        "duplicates": sum(n["duplicates"] for n in nights), "seconds": round(seconds, 1),
    }


def run_season(options: SeasonOptions, progress: Progress | None = None) -> dict:
    """Set up (league, model, store, bus), run every night, return ``{"nights", "summary"}``."""
    workdir = Path(options.workdir)
    model = season_model(workdir, options.season, options.league_seed)
    with ExitStack() as stack:
        store, clock, dates = _season_store(options, stack)
        bus = _season_bus(options.bus_url, clock, stack)
        season = Season(store, bus, clock, model, options.faults, options.seed)
        started, nights = time.perf_counter(), []
        with _long_lived_setup():
            for n, game_date in enumerate(dates, start=1):
                nights.append(season.night(game_date))
                if progress is not None:
                    progress(n, len(dates), nights[-1])
        seconds = time.perf_counter() - started
    return {"nights": [{k: v for k, v in n.items() if k not in ("critical_by_0705", "ready")}
                       for n in nights], "summary": summary(nights, seconds)}


@contextmanager
def _long_lived_setup():
    """The league, the model and the frames read during set-up live for the whole run: moved
    out of the collector's reach (``gc.freeze``), full collections no longer walk them every
    night, and young-generation collections run less often. Undone afterwards."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


NATS_ACK_WAIT_S = 5  # real seconds before NATS redelivers: the simulated clock runs far faster


def _season_bus(url: str, clock: FakeClock, stack: ExitStack):
    """The season's bus. On NATS, unless the URL says otherwise: streams under a fresh prefix
    (deleted afterwards, so no message of an earlier run is delivered) and a short ack wait,
    so a crashed worker's requests come back within minutes of simulated time."""
    parts = urlsplit(url)
    given = dict(parse_qsl(parts.query))
    on_nats = parts.scheme in ("nats", "tls")
    fresh = on_nats and "prefix" not in given
    if on_nats:
        options = {"prefix": f"tipoff_sim-{uuid.uuid4().hex[:8]}", "ack_wait_s": NATS_ACK_WAIT_S,
                   **given}
        url = urlunsplit(parts._replace(query=urlencode(options)))
    bus = open_bus(url, clock)
    stack.callback(bus.close)
    if fresh:
        stack.callback(bus.delete_streams)
    return bus


def _season_store(options: SeasonOptions, stack: ExitStack):
    """A fresh store holding the whole synthetic season (stage 4 and the workers read only
    what was known before each night), its clock, and the nights to run. The embedded store
    starts as a copy of the league's SQLite file, built once in the workdir."""
    clock = FakeClock(pacific_instant(date(season_start_year(options.season), 7, 1), 0))
    url = options.store_url
    if url is None:
        path = Path(options.workdir) / "season.db"
        shutil.copyfile(_league_file(options, clock), path)
        url = f"sqlite:///{path}"
    store = open_store(url, clock)
    stack.callback(store.close)
    if options.store_url is not None:
        generate_league_into(store, options.season, options.league_seed, None)
    dates = season_dates(store.game_dates(), options)
    used = next((d for d in dates if store.get_batch(d) is not None), None)
    if used is not None:
        raise InputError(f"the store already has a batch for {used}: point --store at an "
                         "empty database or schema (e.g. ?schema=sim_NEW)")
    return store, clock, dates


def _league_file(options: SeasonOptions, clock: FakeClock) -> Path:
    path = Path(options.workdir) / f"league-{options.season}-seed{options.league_seed}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        store = open_store(f"sqlite:///{partial}", clock)
        try:
            generate_league_into(store, options.season, options.league_seed, None)
        finally:
            store.close()
        partial.replace(path)
    return path
