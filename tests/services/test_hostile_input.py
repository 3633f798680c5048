"""Odd and hostile input, over SQLite and PostgreSQL: refused (4xx) or acknowledged and recorded,
never a 500 or an endless redelivery; the tolerant reader starts the night on what it needs."""

from __future__ import annotations

import json
import uuid

import pytest

from tipoff.config import Settings
from tipoff.domain import alerts as a
from tipoff.domain.messages import PHASE4_TOPIC, PredictionResult
from tipoff.errors import PermanentError
from tipoff.pipeline.coordinator import COORDINATOR
from tipoff.pipeline.health_report import health_report
from tipoff.services.http import create_app
from tipoff.services.runtime import build_services
from tipoff.testing import FakeClock
from tests.conftest import POSTGRES_URL, _drop_schema, service_unavailable
from tests.services.test_http_api import Api, decisions, phase4_event, push
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4

UNIFIED = {"processor_name": "MLFeatureStoreProcessor", "phase": "phase_4_precompute",
           "game_date": str(GAME_DATE), "status": "success", "execution_id": "exec-1",
           "correlation_id": "corr-u", "timestamp": NIGHT.isoformat(),
           "metadata": {"players_processed": 30, "players_ready": 30}}


@pytest.fixture(params=["sqlite", "postgres"])
def services(request, tmp_path):
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        url = f"{POSTGRES_URL}?schema={schema}"
    try:
        services = build_services(Settings(store_url=url, bus_url="memory://",
                                           model_dir=tmp_path), FakeClock(NIGHT), workers=1,
                                  with_scheduler=False)
    except Exception as exc:  # no server here
        service_unavailable(f"store at {url} unavailable: {exc}")
    yield services
    services.stop()
    if schema:
        _drop_schema(schema)


@pytest.fixture
def api(services):
    return Api(create_app(services), raise_app_exceptions=False)


@pytest.fixture
def seeded(services):
    seed_phase4(services.store, services.clock.now())
    return services


def rejections(store):
    return [r for r in store.runs(processor=COORDINATOR) if r.decision == "rejected"]


def rejected_alerts(store):
    return [x for x in store.alert_log(GAME_DATE) if x["alert_type"] == a.PHASE4_EVENT_REJECTED]


# --- the tolerant reader ------------------------------------------------------------------------

def test_a_minimal_event_with_only_event_type_and_game_date_starts_the_batch(seeded, api):
    response = api.post("/trigger", json=push({"event_type": "phase4_complete",
                                               "game_date": str(GAME_DATE)}))
    assert response.status_code == 202 and response.json()["decision"] == "started"


def test_the_upstream_unified_envelope_starts_the_batch(seeded, api):
    response = api.post("/trigger", json=push(UNIFIED))
    assert response.status_code == 202 and response.json()["decision"] == "started"


def test_analysis_date_is_read_as_the_game_date(seeded, api):
    event = {"processor": "ml_feature_store_v2", "analysis_date": str(GAME_DATE)}
    assert api.post("/trigger", json=push(event)).status_code == 202


@pytest.mark.parametrize("status", ["failed", "no_data"])
def test_a_failed_or_no_data_status_is_recorded_starts_nothing_and_warns(seeded, api, status):
    response = api.post("/trigger", json=push({**UNIFIED, "status": status}))
    assert response.status_code == 204
    assert seeded.store.get_batch(GAME_DATE) is None
    assert [r.game_date for r in rejections(seeded.store)] == [GAME_DATE]
    assert len(rejected_alerts(seeded.store)) == 1


def test_an_event_without_a_stage4_identity_is_recorded_under_its_date_and_alerted_once(
        seeded, api):
    for n in range(3):
        assert api.post("/trigger", json=push({"game_date": str(GAME_DATE)}, f"m-{n}")
                        ).status_code == 204
    assert [r.game_date for r in rejections(seeded.store)] == [GAME_DATE] * 3
    assert len(rejected_alerts(seeded.store)) == 1  # once per date (and channel)
    report = health_report(seeded.store, seeded.watch, GAME_DATE)
    assert len(report["rejections"]) == 3 and "stage 4 identity" in report["rejections"][0]["reason"]


def test_a_rejected_event_for_a_past_date_raises_no_alert(seeded, api):
    api.post("/trigger", json=push({"game_date": "2026-01-10"}))
    assert rejections(seeded.store)[0].game_date.isoformat() == "2026-01-10"
    assert seeded.store.alert_log(GAME_DATE) == []


def test_the_bus_path_reads_the_unified_envelope_and_records_rejections(seeded):
    seeded.bus.publish(PHASE4_TOPIC, {"game_date": str(GAME_DATE)}, "bad-1")
    seeded.bus.join()
    assert [r.game_date for r in rejections(seeded.store)] == [GAME_DATE]
    seeded.bus.publish(PHASE4_TOPIC, UNIFIED, "good-1")
    seeded.bus.join()
    assert seeded.store.get_batch(GAME_DATE).state == "complete"


# --- bounds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [{"correlation_id": "c" * 65}, {"run_id": "r\x00n"},
                                       {"players_ready": 2 ** 70}])
def test_an_event_with_an_oversized_or_nul_value_is_acknowledged_and_recorded(seeded, api,
                                                                              overrides):
    response = api.post("/trigger", json=push(phase4_event(**overrides)))
    assert response.status_code == 204
    assert [r.game_date for r in rejections(seeded.store)] == [GAME_DATE]


def test_a_long_correlation_id_header_still_starts_the_batch(seeded, api):
    response = api.post("/start", json={}, headers={"X-Correlation-Id": "x" * 500})
    assert response.status_code == 202
    assert len(seeded.store.get_batch(GAME_DATE).correlation_id) == 64


def test_a_nul_in_a_start_field_is_refused_with_422(seeded, api):
    response = api.post("/start", content=json.dumps({"game_date": "2026-01-15\x00"}))
    assert response.status_code == 422


@pytest.mark.parametrize("overrides", [{"rows_written": 2 ** 70}, {"worker_id": "w" * 100},
                                       {"reason": "a\x00b"}])
def test_a_result_with_an_out_of_range_value_is_acknowledged_not_failed(seeded, api, overrides):
    result = {"batch_id": "b-1", "game_date": str(GAME_DATE), "player_lookup": "p",
              "outcome": "predicted", **overrides}
    assert api.post("/complete", json=push(result)).status_code == 204
    assert [r.game_date for r in rejections(seeded.store)] == [GAME_DATE]


def test_a_start_beyond_seven_days_is_refused_with_422_and_opens_no_wait(seeded, api):
    response = api.post("/start", json={"game_date": "2099-01-01", "wait_for_phase4": True})
    assert response.status_code == 422 and "live window" in response.json()["error"]
    assert seeded.store.open_waits() == []
    assert api.post("/retry", json={"game_date": "2026-01-23"}).status_code == 422
    assert api.post("/start", json={"game_date": "2026-01-22"}).status_code == 409  # in window


def test_an_event_beyond_seven_days_is_recorded_and_acknowledged(seeded, api):
    response = api.post("/trigger", json=push(phase4_event(game_date="2099-01-01")))
    assert response.status_code == 204
    assert rejections(seeded.store)[0].game_date.isoformat() == "2099-01-01"


def test_a_rejection_keeps_at_most_4_kib_of_envelope_and_1_kib_of_payload(seeded, api):
    envelope = push({"game_date": str(GAME_DATE), "junk": "j" * 100_000})
    envelope["message"]["attributes"] = {f"k{n}": "v" * 10_000 for n in range(90)}
    assert api.post("/trigger", json=envelope).status_code == 204
    details = rejections(seeded.store)[0].details
    assert len(json.dumps(details).encode()) <= 4096 + 200


def test_a_store_refusal_of_a_result_is_a_permanent_error_recorded_and_acknowledged(seeded, api):
    def refuse(_rows):
        raise PermanentError("value too long for type character varying(64)")

    seeded.store.record_results = refuse
    result = {"batch_id": "b-1", "game_date": str(GAME_DATE), "player_lookup": "p",
              "outcome": "predicted"}
    assert api.post("/complete", json=push(result)).status_code == 204
    assert "store refused" in rejections(seeded.store)[0].reason


def test_the_memory_bus_dead_letters_a_permanent_error_without_redeliveries(services):
    calls = []

    def handler(message):
        calls.append(message.attempt)
        raise PermanentError("value the store refuses")

    services.bus.subscribe("hostile-topic", handler, group="g")
    services.bus.publish("hostile-topic", {"x": 1}, "h-1")
    services.bus.join(raise_errors=False)
    assert calls == [1] and len(services.bus.dead_letters("hostile-topic")) == 1


def test_a_prediction_result_model_documents_its_bounds():
    props = PredictionResult.model_json_schema()["properties"]
    assert props["worker_id"]["maxLength"] == 64 and props["rows_written"]["maximum"] > 0


def test_the_scheduler_status_call_for_a_far_date_raises_no_alert(services):
    status = services.watch.status_check(services.clock.now().date().replace(year=9999, month=12,
                                                                             day=31))
    assert status["alerts"] == {} and services.store.alert_log(
        services.clock.now().date().replace(year=9999, month=12, day=31)) == []
