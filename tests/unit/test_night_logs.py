"""JSON logs an operator can search: every line of a night's work carries the game date, the
batch id (once claimed), the trigger source and the correlation id."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import structlog

from tipoff.adapters.alerts.log import LogAlerter
from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.dates import pacific_instant
from tipoff.domain.messages import PHASE4_TOPIC
from tipoff.errors import PermanentError
from tipoff.logs import configure_logging, night_context
from tipoff.pipeline.alerting import AlertDispatcher
from tipoff.pipeline.build_features import phase4_event
from tipoff.pipeline.coordinator import Coordinator
from tipoff.pipeline.night_watch import NightWatch
from tipoff.pipeline.runtime import subscribe_coordinator, subscribe_workers
from tipoff.pipeline.worker import Worker
from tipoff.testing import FakeClock
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4, small_model

CORRELATION = "upstream-corr-42"


class RefusingWrites:
    """The store as the worker sees it, refusing one player's prediction rows."""

    def __init__(self, store, player: str) -> None:
        self._store, self._player = store, player

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write_predictions(self, game_date, rows):
        if any(r["player_lookup"] == self._player for r in rows):
            raise PermanentError("value too long for the predictions table")
        return self._store.write_predictions(game_date, rows)


@pytest.fixture
def json_lines():
    written = io.StringIO()
    configure_logging(json=True, file=written)
    yield lambda: [json.loads(line) for line in written.getvalue().splitlines() if line]
    configure_logging()


def test_every_line_of_a_night_carries_its_date_batch_source_and_correlation_id(json_lines):
    clock = FakeClock(NIGHT)
    store = SqliteStore("sqlite://", clock).open()
    bus = MemoryBus(clock, visibility_timeout=timedelta(seconds=10), max_attempts=2)
    alerts = AlertDispatcher(store, clock, [LogAlerter()])
    coordinator = Coordinator(store, bus, clock, alerts=alerts)
    watch = NightWatch(coordinator, store, clock)
    subscribe_coordinator(bus, coordinator)
    rows = seed_phase4(store, clock.now(), players=30)
    subscribe_workers(bus, [Worker(RefusingWrites(store, rows[3]["player_lookup"]), bus,
                                   clock, small_model())])
    event = phase4_event(store, GAME_DATE).model_copy(update={"correlation_id": CORRELATION})
    bus.publish(PHASE4_TOPIC, event.to_data(), message_id=event.run_id)
    clock.advance(timedelta(minutes=11))  # a slow hand-off: the 07:00 check alerts on it
    bus.join()
    clock.set(pacific_instant(GAME_DATE, 7, 0))
    watch.status_check(GAME_DATE)
    store.close()

    lines = json_lines()
    batch_id = store_batch_id = next(l["batch_id"] for l in lines if l["event"] == "batch_decision")
    events = {l["event"] for l in lines}
    assert {"batch_decision", "batch_write_failed_retrying_per_player", "batch_finished",
            "alert delivered", "status_check"} <= events, events
    for line in lines:
        assert (line.get("game_date"), line.get("source"), line.get("correlation_id"),
                line.get("batch_id")) == (str(GAME_DATE), "pubsub", CORRELATION,
                                          store_batch_id), line
    assert batch_id.startswith(str(GAME_DATE))


def test_the_night_context_ends_with_its_block_and_refuses_unknown_keys(json_lines):
    log = structlog.get_logger("test")
    with night_context(game_date=GAME_DATE, batch_id=None, source="manual"):
        log.info("inside")
    log.info("outside")
    inside, outside = json_lines()
    assert (inside["game_date"], inside["source"], "batch_id" in inside) == (
        str(GAME_DATE), "manual", False)
    assert "game_date" not in outside
    with pytest.raises(TypeError):
        with night_context(player="x"):
            pass
