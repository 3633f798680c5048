"""Acceptance scenarios against the real HTTP app served by uvicorn on 127.0.0.1.

The listening socket is bound before the server thread starts, so clients can connect at once
(the kernel queues them) and nothing polls for readiness.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from tipoff.adapters.store.sql import schema
from tipoff.domain import batches as b
from tipoff.services.http import create_app
from tests.services.test_http_api import decisions, new_services, phase4_event, push
from tests.unit.stage5_fixtures import GAME_DATE, seed_phase4

CALLERS = 50


class LiveServer:
    """uvicorn serving an app on a socket bound by the test, in a background thread."""

    def __init__(self, app) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        assert not self._thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def services(tmp_path):
    services = new_services(tmp_path)
    seed_phase4(services.store, services.clock.now())
    yield services
    services.stop()


@pytest.fixture
def server(services):
    with LiveServer(create_app(services)) as live:
        yield live


def batch_rows(store) -> int:
    table = schema.prediction_batches
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.game_date == GAME_DATE)).scalar()


def call_together(url: str) -> list[httpx.Response]:
    """25 ``/trigger`` and 25 ``/start`` calls for one date, released at the same instant."""
    barrier = threading.Barrier(CALLERS)
    responses: list[httpx.Response | BaseException] = [None] * CALLERS

    def caller(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            barrier.wait()
            try:
                if n % 2:
                    responses[n] = client.post("/start", json={"game_date": str(GAME_DATE)})
                else:
                    responses[n] = client.post("/trigger", json=push(phase4_event(), f"m-{n}"))
            except BaseException as exc:  # reported below rather than lost in the thread
                responses[n] = exc

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    errors = [r for r in responses if not isinstance(r, httpx.Response)]
    assert errors == []
    return responses


def test_fifty_concurrent_triggers_and_starts_for_one_date_make_one_batch(services, server):
    responses = call_together(server.url)
    statuses = Counter(r.status_code for r in responses)
    assert statuses[202] == 1 and statuses[200] == CALLERS - 1
    assert Counter(r.json()["decision"] for r in responses) == {
        "started": 1, "already_running": CALLERS - 1}
    batch_ids = {r.json()["batch_id"] for r in responses}
    assert len(batch_ids) == 1 and None not in batch_ids
    assert batch_rows(services.store) == 1

    services.bus.join()
    status = httpx.get(f"{server.url}/status", params={"game_date": str(GAME_DATE)}).json()
    assert status["batch_id"] in batch_ids
    assert (status["state"], status["coverage_pct"]) == (b.COMPLETE, 100.0)
    rows = services.store.read_predictions(GAME_DATE, active_only=False)
    keys = {(r["player_lookup"], r["system_id"], r["line"]) for r in rows}
    assert rows and len(rows) == len(keys)
    assert len(decisions(services.store, "started")) == 1


def test_a_poison_message_is_acknowledged_and_recorded_over_real_http(services, server):
    response = httpx.post(f"{server.url}/trigger",
                          json=push(phase4_event(event_type="something_else")))
    assert (response.status_code, response.content) == (204, b"")
    [rejected] = decisions(services.store, "rejected")
    assert "event_type" in rejected.reason
    assert services.store.get_batch(GAME_DATE) is None


def test_a_malformed_envelope_is_answered_400_over_real_http(server):
    response = httpx.post(f"{server.url}/trigger", json={"message": {"data": "*not base64*"}})
    assert response.status_code == 400
    assert "base64" in response.json()["error"]


def test_a_two_mebibyte_body_is_answered_413_over_real_http(services, server):
    body = b"{" + b" " * (2 * 1024 * 1024)
    response = httpx.post(f"{server.url}/trigger", content=body,
                          headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert decisions(services.store, "rejected") == []
    assert httpx.get(f"{server.url}/health").status_code == 200
