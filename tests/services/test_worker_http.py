"""The push worker (``POST /predict``) in process over SQLite and the memory bus: it answers
2xx only once the prediction is durable (or the push can never be used, recorded), and 503
while the store is away so Pub/Sub retries."""

from __future__ import annotations

import pytest

from tests.services.test_http_api import Api, phase4_event, push
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4, small_model
from tipoff.config import Settings
from tipoff.domain import batches as b
from tipoff.domain.messages import REQUEST_TOPIC
from tipoff.errors import TransientError
from tipoff.services.http import create_app
from tipoff.services.runtime import build_services
from tipoff.services.worker_http import PROCESSOR, WorkerService, create_worker_app
from tipoff.bootstrap import worker_pool
from tipoff.testing import FakeClock


@pytest.fixture
def night(tmp_path):
    """A coordinator (no in-process workers) with a started batch, the requests it published,
    and a push worker over the same store and bus."""
    settings = Settings(store_url=f"sqlite:///{tmp_path / 's.db'}", bus_url="memory://",
                        model_dir=tmp_path)
    services = build_services(settings, FakeClock(NIGHT), workers=0, with_scheduler=False)
    seed_phase4(services.store, services.clock.now())
    requests: list[dict] = []
    services.bus.subscribe(REQUEST_TOPIC, lambda m: requests.append(m.data), group="push")
    assert Api(create_app(services)).post("/trigger", json=push(phase4_event())).status_code == 202
    services.bus.join()
    [worker] = worker_pool(services.store, services.bus, services.clock, small_model(), 1, prefix="h")
    service = WorkerService(services.store, services.bus, services.clock, worker)
    yield services, requests, service, Api(create_worker_app(service))
    services.stop()


def pushed(request: dict, attempt: int = 1, message_id: str = "m-1") -> dict:
    envelope = push(request, message_id)
    return {**envelope, "deliveryAttempt": attempt}


def test_pushing_every_request_completes_the_batch_and_redeliveries_add_no_prediction(night):
    services, requests, _, api = night
    assert len(requests) == 30 and services.watch.status(GAME_DATE)["state"] == b.RUNNING
    for n, request in enumerate(requests):
        assert api.post("/predict", json=pushed(request, message_id=f"r{n}")).status_code == 204
    services.bus.join()
    assert services.watch.status(GAME_DATE)["state"] == b.COMPLETE
    rows = len(services.store.read_predictions(GAME_DATE))
    for attempt in (2, 3, 4):
        for n, request in enumerate(requests):
            assert api.post("/predict", json=pushed(request, attempt, f"r{n}")).status_code == 204
    services.bus.join()
    assert len(services.store.read_predictions(GAME_DATE)) == rows
    assert services.store.players_with_predictions(GAME_DATE) == {r["player_lookup"] for r in requests}


def test_a_payload_that_is_not_a_request_is_acknowledged_and_recorded_with_its_delivery_attempt(night):
    services, _, _, api = night
    response = api.post("/predict", json=pushed({"player_lookup": "nobody"}, attempt=3))
    assert response.status_code == 204
    [record] = services.store.runs(processor=PROCESSOR)
    assert record.status == "rejected" and "PredictionRequest" in record.reason
    assert record.details["delivery_attempt"] == 3 and record.details["endpoint"] == "/predict"


def test_a_body_that_is_not_a_push_envelope_is_a_400(night):
    *_, api = night
    assert api.post("/predict", content=b"not json").status_code == 400


def test_the_store_being_away_is_a_503_so_pubsub_retries_and_nothing_is_reported(night, monkeypatch):
    services, requests, service, api = night

    def away(*_args, **_kwargs):
        raise TransientError("store unavailable: connection refused")

    monkeypatch.setattr(services.store, "write_predictions", away)
    response = api.post("/predict", json=pushed(requests[0]))
    assert response.status_code == 503 and "connection refused" in response.json()["error"]
    services.bus.join()
    assert services.watch.status(GAME_DATE)["players_predicted"] == 0


def test_on_the_last_delivery_attempt_a_store_outage_reports_the_player_failed_and_acknowledges(
        night, monkeypatch):
    services, requests, _, api = night
    monkeypatch.setattr(services.store, "write_predictions",
                        lambda *_a, **_k: (_ for _ in ()).throw(TransientError("store away")))
    assert api.post("/predict", json=pushed(requests[0], attempt=5)).status_code == 204
    services.bus.join()
    assert services.watch.status(GAME_DATE)["players_failed"] == 1


def test_health_answers_ok(night):
    *_, api = night
    assert api.get("/health").json() == {"status": "ok"}
