"""The coordinator's HTTP app in process (httpx ``ASGITransport``) over SQLite and the memory bus.

Delivery is driven by ``services.bus.join()``: no background threads, no sleeps.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tipoff.config import Settings
from tipoff.domain import batches as b
from tipoff.domain.messages import PredictionResult
from tipoff.errors import TransientError
from tipoff.pipeline.coordinator import COORDINATOR
from tipoff.services.http import create_app, status_for
from tipoff.services.metrics import Metrics
from tipoff.services.runtime import build_services
from tipoff.testing import FakeClock
from tests.unit.stage5_fixtures import GAME_DATE, NIGHT, seed_phase4

METRIC_NAMES = ("tipoff_triggers", "tipoff_batch_latency_seconds", "tipoff_coverage_pct",
                "tipoff_alerts", "tipoff_dead_letters", "tipoff_requests")
SCHEDULER = {"X-CloudScheduler": "true"}


# --- helpers shared with test_http_scenarios ---------------------------------------------------

def new_services(tmp_path):
    """A coordinator process over a SQLite file and the memory bus, at 00:31 PT on GAME_DATE."""
    clock = FakeClock(NIGHT)
    settings = Settings(store_url=f"sqlite:///{tmp_path / 's.db'}", bus_url="memory://",
                        model_dir=tmp_path)
    return build_services(settings, clock, workers=1, with_scheduler=False)


def phase4_event(game_date=GAME_DATE, **overrides) -> dict:
    event = {"event_type": "phase4_complete", "processor": "ml_feature_store_v2",
             "game_date": str(game_date), "players_processed": 30, "players_ready": 30,
             "players_failed": 0, "run_id": "phase4-run-1", "correlation_id": "corr-1",
             "timestamp": NIGHT.isoformat()}
    return {**event, **overrides}


def push(payload: dict | bytes, message_id: str = "m-1") -> dict:
    """A Pub/Sub push envelope carrying ``payload`` (a dict becomes JSON)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"message": {"data": base64.b64encode(data).decode(), "messageId": message_id,
                        "publishTime": NIGHT.isoformat(), "attributes": {"origin": "test"}},
            "subscription": "projects/p/subscriptions/tipoff-trigger"}


def decisions(store, decision: str) -> list:
    return [r for r in store.runs(processor=COORDINATOR) if r.decision == decision]


class Api:
    """A synchronous face on ``httpx.AsyncClient`` over the app's ASGI interface."""

    def __init__(self, app, *, raise_app_exceptions: bool = True) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=self._transport,
                                         base_url="http://coordinator") as client:
                return await client.request(method, path, **kwargs)
        return anyio.run(call)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def metric_samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def services(tmp_path):
    services = new_services(tmp_path)
    yield services
    services.stop()


@pytest.fixture
def api(services):
    return Api(create_app(services))


@pytest.fixture
def seeded(services):
    seed_phase4(services.store, services.clock.now())
    return services


# --- /trigger ---------------------------------------------------------------------------------

def test_a_phase4_push_starts_a_batch_and_status_shows_it_complete_after_delivery(seeded, api):
    response = api.post("/trigger", json=push(phase4_event()))
    assert response.status_code == 202
    body = response.json()
    assert (body["decision"], body["source"], body["requested"]) == ("started", "pubsub", 30)
    seeded.bus.join()
    status = api.get("/status", params={"game_date": "2026-01-15"}).json()
    assert status["state"] == b.COMPLETE and status["coverage_pct"] == 100.0
    assert status["batch_id"] == body["batch_id"] and status["trigger_source"] == "pubsub"
    assert status["players_expected"] == status["players_ready"] == status["players_predicted"] == 30
    assert status["started_at"] and status["completed_at"] and status["latency_seconds"] == 0.0


def test_status_defaults_to_today_in_new_york(seeded, api):
    api.post("/trigger", json=push(phase4_event()))
    assert api.get("/status").json()["game_date"] == "2026-01-15"


def test_a_second_push_for_the_same_date_returns_the_existing_batch(seeded, api):
    first = api.post("/trigger", json=push(phase4_event())).json()
    running = api.post("/trigger", json=push(phase4_event(), "m-2"))
    seeded.bus.join()
    complete = api.post("/trigger", json=push(phase4_event(), "m-3"))
    assert (running.status_code, running.json()["decision"]) == (200, "already_running")
    assert (complete.status_code, complete.json()["decision"]) == (200, "already_complete")
    assert running.json()["batch_id"] == complete.json()["batch_id"] == first["batch_id"]


@pytest.mark.parametrize("payload, problem", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (phase4_event(event_type="phase3_complete"), "event_type"),
    (phase4_event(game_date="2026-02-30"), "game_date"),
    ({k: v for k, v in phase4_event().items() if k != "game_date"}, "game_date"),
])
def test_a_poison_payload_is_acknowledged_with_204_and_recorded_as_rejected(
        seeded, api, payload, problem):
    response = api.post("/trigger", json=push(payload, "poison-1"))
    assert (response.status_code, response.content) == (204, b"")
    [rejected] = decisions(seeded.store, "rejected")
    assert rejected.source == "pubsub" and problem in rejected.reason
    assert rejected.details["message_id"] == "poison-1"
    assert rejected.details["endpoint"] == "/trigger"
    assert seeded.store.get_batch(GAME_DATE) is None


@pytest.mark.parametrize("body, problem", [
    (b"this is not json", "not JSON"),
    (b"[]", "JSON object"),
    (json.dumps({"subscription": "s"}).encode(), "'message'"),
    (json.dumps({"message": "hello"}).encode(), "'message'"),
    (json.dumps({"message": {"messageId": "1"}}).encode(), "'data'"),
    (json.dumps({"message": {"data": ""}}).encode(), "'data'"),
    (json.dumps({"message": {"data": "%%% not base64 %%%"}}).encode(), "base64"),
    (json.dumps({"message": {"data": "e30=", "attributes": [1]}}).encode(), "attributes"),
])
def test_a_malformed_envelope_is_answered_400_saying_what_is_wrong(seeded, api, body, problem):
    response = api.post("/trigger", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert problem in response.json()["error"]
    assert decisions(seeded.store, "rejected") == []


def test_an_event_for_a_past_date_is_acknowledged_and_recorded_as_backfill_ignored(seeded, api):
    response = api.post("/trigger", json=push(phase4_event(game_date="2026-01-14")))
    assert (response.status_code, response.content) == (204, b"")
    [ignored] = decisions(seeded.store, "backfill_ignored")
    assert ignored.source == "pubsub" and str(ignored.game_date) == "2026-01-14"


def test_a_disabled_event_path_answers_200_and_starts_no_batch(seeded, api):
    seeded.coordinator.set_event_path(False)
    response = api.post("/trigger", json=push(phase4_event()))
    assert (response.status_code, response.json()["decision"]) == (200, "event_path_disabled")
    assert seeded.store.get_batch(GAME_DATE) is None


def test_an_event_whose_stage_4_is_not_ready_is_acknowledged_with_the_reason(services, api):
    response = api.post("/trigger", json=push(phase4_event()))
    assert (response.status_code, response.json()["decision"]) == (200, "not_ready")
    assert "no successful stage 4 run" in response.json()["reason"]


# --- body size --------------------------------------------------------------------------------

def test_a_two_mebibyte_body_is_refused_with_413(seeded, api):
    response = api.post("/trigger", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["error"]


def test_a_chunked_body_without_a_length_is_cut_off_at_one_mebibyte(seeded, api):
    async def chunks():
        for _ in range(40):
            yield b"y" * 65536

    response = api.post("/start", content=chunks())
    assert response.status_code == 413 and "error" in response.json()
    assert decisions(seeded.store, "started") == []


def test_a_body_of_exactly_one_mebibyte_is_read(seeded, api):
    response = api.post("/trigger", content=b" " * (1024 * 1024))
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


# --- /start -----------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["X-CloudScheduler", "X-Tipoff-Scheduler"])
def test_the_scheduler_backup_waits_when_stage_4_is_missing(services, api, header):
    response = api.post("/start", headers={header: "true"})
    assert response.status_code == 202
    body = response.json()
    assert (body["decision"], body["source"], body["state"]) == (
        "waiting_for_phase4", "scheduler_backup", b.WAITING)
    assert services.store.get_wait(GAME_DATE)["status"] == b.WAIT_OPEN


def test_the_scheduler_backup_can_be_told_not_to_wait(services, api):
    response = api.post("/start", json={"wait_for_phase4": False}, headers=SCHEDULER)
    assert (response.status_code, response.json()["decision"]) == (409, "not_ready")


def test_a_manual_start_without_stage_4_is_refused_with_409_and_the_reason(services, api):
    response = api.post("/start", json={"game_date": "2026-01-15"})
    assert response.status_code == 409
    body = response.json()
    assert "no successful stage 4 run for 2026-01-15" in body["error"]
    assert (body["decision"], body["source"]) == ("not_ready", "manual")


def test_a_manual_start_for_a_past_date_tells_the_operator_to_run_a_backfill(seeded, api):
    response = api.post("/start", json={"game_date": "2026-01-10"})
    assert response.status_code == 409
    assert "backfill" in response.json()["error"]
    assert response.json()["decision"] == "backfill_ignored"


def test_a_manual_start_starts_once_and_force_requests_every_player_again(seeded, api):
    started = api.post("/start", json={})
    seeded.bus.join()
    again = api.post("/start", content=b"")
    forced = api.post("/start", json={"force": True})
    assert (started.status_code, started.json()["decision"]) == (202, "started")
    assert started.json()["source"] == "manual"
    assert (again.status_code, again.json()["decision"]) == (200, "already_complete")
    assert (forced.status_code, forced.json()["decision"]) == (202, "forced")
    assert forced.json()["requested"] == 30
    assert forced.json()["batch_id"] == started.json()["batch_id"]


def test_a_manual_start_passes_the_correlation_id_on(seeded, api):
    api.post("/start", json={}, headers={"X-Correlation-Id": "ops-42"})
    [started] = decisions(seeded.store, "started")
    assert started.correlation_id == "ops-42"


@pytest.mark.parametrize("body, status, field", [
    (json.dumps({"game_date": "2026-13-01"}), 422, "game_date"),
    (json.dumps({"force": "sometimes"}), 422, "force"),
    (json.dumps({"wait_for_phase_4": True}), 422, "wait_for_phase_4"),
    ("[1, 2]", 400, None),
    ("{not json", 400, None),
])
def test_an_unusable_start_body_is_an_error_naming_the_problem(seeded, api, body, status, field):
    response = api.post("/start", content=body.encode())
    assert response.status_code == status
    assert response.json()["error"]
    assert response.json().get("field") == field
    assert decisions(seeded.store, "started") == []


# --- /retry -----------------------------------------------------------------------------------

def test_retry_with_nothing_missing_answers_200_complete(seeded, api):
    api.post("/trigger", json=push(phase4_event()))
    seeded.bus.join()
    response = api.post("/retry", json={"game_date": "2026-01-15"})
    assert response.status_code == 200
    assert (response.json()["decision"], response.json()["source"]) == ("complete", "retry")


def test_retry_requests_only_the_ready_players_without_predictions(seeded, api):
    api.post("/trigger", json=push(phase4_event()))
    seeded.bus.join()
    seeded.clock.advance(timedelta(minutes=5))
    seed_phase4(seeded.store, seeded.clock.now(), players=36)
    response = api.post("/retry")
    assert response.status_code == 202
    assert (response.json()["decision"], response.json()["requested"]) == ("filled_missing", 6)
    seeded.bus.join()
    assert api.get("/status").json()["players_predicted"] == 36


def test_retry_of_a_running_batch_returns_it(seeded, api):
    api.post("/trigger", json=push(phase4_event()))
    response = api.post("/retry", content=b"")
    assert (response.status_code, response.json()["decision"]) == (200, "already_running")


# --- /status ----------------------------------------------------------------------------------

def test_status_of_a_date_without_a_batch_says_so(seeded, api):
    status = api.get("/status", params={"game_date": "2026-01-16"}).json()
    assert (status["state"], status["batch_id"], status["coverage_pct"]) == ("no_batch", None, 0.0)


def test_status_with_an_invalid_date_is_a_422_naming_the_field(api):
    response = api.get("/status", params={"game_date": "15/01/2026"})
    assert response.status_code == 422
    assert response.json()["field"] == "game_date" and "YYYY-MM-DD" in response.json()["error"]


def test_status_from_the_scheduler_runs_the_morning_check_and_alerts(services, api):
    response = api.get("/status", headers=SCHEDULER)
    assert response.status_code == 200
    assert response.json()["state"] == "no_batch"
    assert response.json()["alerts"]
    assert services.store.alert_log(GAME_DATE)


# --- /complete --------------------------------------------------------------------------------

def result_for(batch_id: str, player: str) -> dict:
    return PredictionResult(batch_id=batch_id, game_date=GAME_DATE, player_lookup=player,
                            outcome="skipped", reason="pushed over HTTP",
                            worker_id="remote-1").model_dump(mode="json")


def test_pushed_results_finish_the_batch(seeded, api):
    batch_id = api.post("/trigger", json=push(phase4_event())).json()["batch_id"]
    players = [r["player_lookup"] for r in seeded.store.batch_requests(batch_id)]
    answers = {api.post("/complete", json=push(result_for(batch_id, p), p)).status_code
               for p in players}
    assert answers == {204}
    progress = seeded.store.batch_progress(batch_id)
    assert (progress.skipped, progress.pending) == (30, 0)
    assert seeded.store.get_batch(GAME_DATE).state == b.COMPLETE


def test_an_unusable_result_is_acknowledged_and_recorded_as_rejected(seeded, api):
    response = api.post("/complete", json=push({"batch_id": "b", "outcome": "exploded"}))
    assert (response.status_code, response.content) == (204, b"")
    [rejected] = decisions(seeded.store, "rejected")
    assert "PredictionResult" in rejected.reason and rejected.details["endpoint"] == "/complete"


def test_a_malformed_result_envelope_is_answered_400(api):
    response = api.post("/complete", json={"message": {}})
    assert response.status_code == 400 and "'data'" in response.json()["error"]


# --- health, readiness, errors ------------------------------------------------------------------

def test_health_and_readiness_answer_200(api):
    assert (api.get("/health").status_code, api.get("/health").json()) == (200, {"status": "ok"})
    assert (api.get("/ready").status_code, api.get("/ready").json()) == (
        200, {"store": "ok", "bus": "ok"})


def test_readiness_is_503_naming_the_unreachable_backend(services, api, monkeypatch):
    def down() -> None:
        raise TransientError("store unavailable: connection refused")

    monkeypatch.setattr(services.store, "ping", down)
    response = api.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["bus"] == "ok" and "connection refused" in body["store"]
    assert body["error"].startswith("store unreachable")


def test_a_backend_outage_during_a_request_is_a_503(services, api, monkeypatch):
    def outage(*_args, **_kwargs):
        raise TransientError("store unavailable: database is locked")

    monkeypatch.setattr(services.coordinator, "start", outage)
    response = api.post("/start", json={})
    assert response.status_code == 503 and "database is locked" in response.json()["error"]


def test_an_unexpected_error_is_a_500_with_a_short_json_message(services, monkeypatch):
    def bug(*_args, **_kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(services.coordinator, "retry", bug)
    response = Api(create_app(services), raise_app_exceptions=False).post("/retry")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error (KeyError); see the coordinator log"}


def test_unknown_paths_and_methods_answer_json_errors(api):
    missing, wrong = api.get("/nowhere"), api.get("/trigger")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert "/nowhere" in missing.json()["error"] and "GET /trigger" in wrong.json()["error"]


# --- /metrics ---------------------------------------------------------------------------------

def test_metrics_expose_every_metric_and_count_triggers(seeded, api):
    before = api.get("/metrics")
    api.post("/trigger", json=push(phase4_event()))
    seeded.bus.join()
    api.post("/trigger", json=push(b"poison"))
    after = api.get("/metrics")
    assert before.headers["content-type"].startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(after.text)}
    assert set(METRIC_NAMES) <= families
    samples = metric_samples(after.text)
    started = ("tipoff_triggers_total", (("decision", "started"), ("source", "pubsub")))
    rejected = ("tipoff_triggers_total", (("decision", "rejected"), ("source", "pubsub")))
    assert metric_samples(before.text).get(started, 0) == 0
    assert (samples[started], samples[rejected]) == (1.0, 1.0)
    assert samples[("tipoff_coverage_pct", ())] == 100.0
    assert samples[("tipoff_batch_latency_seconds_count", ())] == 1.0
    assert samples[("tipoff_requests_total", (("path", "/trigger"), ("status", "202")))] == 1.0
    assert samples[("tipoff_dead_letters", ())] == 0.0


def test_the_batch_latency_is_observed_once_per_batch(seeded, api):
    api.post("/trigger", json=push(phase4_event()))
    seeded.bus.join()
    for _ in range(3):
        api.get("/status")
    samples = metric_samples(api.get("/metrics").text)
    assert samples[("tipoff_batch_latency_seconds_count", ())] == 1.0


def test_alert_and_dead_letter_metrics_are_read_when_scraped():
    stats = {"slack": {"sent": 2, "failed": 1}}
    letters = ["a"]
    metrics = Metrics(alert_stats=lambda: stats, dead_letters=lambda: letters)
    letters.append("b")
    samples = metric_samples(metrics.render().decode())
    assert samples[("tipoff_alerts_total", (("channel", "slack"), ("outcome", "failed")))] == 1.0
    assert samples[("tipoff_alerts_total", (("channel", "slack"), ("outcome", "sent")))] == 2.0
    assert samples[("tipoff_dead_letters", ())] == 2.0


def test_two_apps_keep_their_metrics_apart(tmp_path):
    first, second = Metrics(), Metrics()
    first.count_trigger("manual", "started")
    assert "tipoff_triggers_total{" not in second.render().decode()


# --- the mapping itself -------------------------------------------------------------------------

@pytest.mark.parametrize("decision, push_status, other_status", [
    ("started", 202, 202), ("filled_missing", 202, 202), ("forced", 202, 202),
    ("partial_after_wait", 202, 202), ("waiting_for_phase4", 202, 202),
    ("already_running", 200, 200), ("already_complete", 200, 200), ("complete", 200, 200),
    ("event_path_disabled", 200, 200), ("no_ready_players", 200, 200),
    ("insufficient_data", 200, 200), ("backfill_ignored", 204, 409), ("not_ready", 200, 409),
    ("rejected", 204, 204),
])
def test_every_decision_has_an_http_status(decision, push_status, other_status):
    assert status_for(decision, push=True) == push_status
    assert status_for(decision) == other_status


def test_an_unknown_decision_has_no_status():
    with pytest.raises(ValueError, match="no HTTP status"):
        status_for("maybe")
