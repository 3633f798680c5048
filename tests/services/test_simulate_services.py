"""``tipoff simulate`` on PostgreSQL and NATS JetStream: a few nights of the synthetic league
through the real coordinator, scheduler, workers and alerts, on the servers production uses.

Skips when either server is unreachable (fails under ``TIPOFF_REQUIRE_SERVICES=1``). The model
is a small real XGBoost model put where ``tipoff simulate`` keeps its trained one.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import date
from urllib.parse import urlsplit

import pytest

from tests.conftest import POSTGRES_URL, _drop_schema, service_unavailable
from tests.unit.stage5_fixtures import small_model
from tipoff.bootstrap import model_store
from tipoff.domain.systems import XGBOOST
from tipoff.services.season import LEAGUE_SEED, SeasonOptions, run_season
from tipoff.sim.faults import parse_faults

NATS_URL = os.environ.get("TIPOFF_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or default_port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def servers():
    for url, port in ((POSTGRES_URL, 5432), (NATS_URL, 4222)):
        if not _reachable(url, port):
            service_unavailable(f"{url} unreachable")
    schema = f"sim_{uuid.uuid4().hex[:10]}"
    yield f"{POSTGRES_URL}?schema={schema}", NATS_URL
    _drop_schema(schema)


def test_three_faulty_nights_on_postgresql_and_nats_keep_the_promise(servers, tmp_path):
    store_url, bus_url = servers
    models = model_store(tmp_path / "models" / f"before-2025-26-seed{LEAGUE_SEED}")
    models.save(small_model().artifact, XGBOOST)
    # A lost event (06:00 backup), a crashed worker (NATS redelivers after its ack wait),
    # copies delivered twice, and failed store writes, over three nights.
    faults = parse_faults("event_lost=0.5,worker_crash=0.5,duplicate_delivery=0.2,write_fail=0.02")
    result = run_season(SeasonOptions(workdir=tmp_path, first=date(2025, 11, 18), nights=3,
                                      faults=faults, seed=2, store_url=store_url,
                                      bus_url=bus_url))
    nights, summary = result["nights"], result["summary"]
    assert summary["nights"] == 3 and summary["sla_met"] == 3
    assert summary["duplicates"] == 0 and summary["false_alarms"] == 0
    assert all(n["coverage_pct"] == 100.0 for n in nights)
    drawn = {label.split(" ")[0] for n in nights for label in n["faults"]}
    assert {"event_lost", "worker_crash", "duplicate_delivery"} <= drawn
