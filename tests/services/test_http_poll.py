"""``POST /poll``: the durable wait for stage 4 polled over HTTP (Cloud Scheduler, every minute
from 06:00 PT), with the scheduler's credential rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tipoff.config import Settings
from tipoff.domain import alerts as a
from tipoff.domain import batches as b
from tipoff.services.auth import authenticator
from tipoff.services.http import create_app
from tests.services.test_http_api import SCHEDULER, Api, new_services
from tests.unit.stage5_fixtures import GAME_DATE, seed_phase4

SIX_AM_PT = datetime(2026, 1, 15, 14, 0, tzinfo=timezone.utc)
TOKEN = "poll-api-token"
SCHEDULER_TOKEN = "poll-scheduler-token"


@pytest.fixture
def services(tmp_path):
    services = new_services(tmp_path)
    services.clock.set(SIX_AM_PT)
    yield services
    services.stop()


@pytest.fixture
def api(services):
    return Api(create_app(services))


def open_wait(api) -> None:
    answer = api.post("/start", headers=SCHEDULER).json()
    assert answer["decision"] == "waiting_for_phase4"


def not_ready_alerts(services) -> list[dict]:
    return [row for row in services.store.alert_log(GAME_DATE)
            if row["alert_type"] == a.PHASE4_NOT_READY]


def test_a_wait_opened_at_six_is_resolved_by_poll_once_stage_4_is_ready(services, api):
    open_wait(api)
    services.clock.advance(timedelta(minutes=7))
    seed_phase4(services.store, services.clock.now())
    response = api.post("/poll", headers=SCHEDULER)
    assert response.status_code == 200
    body = response.json()
    assert [d["decision"] for d in body["decisions"]] == ["started"] and body["open_waits"] == 0
    services.bus.join()
    assert services.store.get_batch(GAME_DATE).state == b.COMPLETE
    assert services.store.get_wait(GAME_DATE)["status"] != b.WAIT_OPEN


def test_a_poll_before_stage_4_is_ready_changes_nothing(services, api):
    open_wait(api)
    services.clock.advance(timedelta(minutes=5))
    body = api.post("/poll", headers=SCHEDULER).json()
    assert body == {"decisions": [], "open_waits": 1}
    assert services.store.get_batch(GAME_DATE) is None and not_ready_alerts(services) == []


def test_past_its_deadline_poll_expires_the_wait_and_sends_the_critical_alert_once(services,
                                                                                      api):
    open_wait(api)
    services.clock.advance(timedelta(minutes=31))
    first = api.post("/poll", headers=SCHEDULER).json()
    second = api.post("/poll", headers=SCHEDULER).json()
    assert len(first["decisions"]) == 1 and first["open_waits"] == 0
    assert second == {"decisions": [], "open_waits": 0}
    assert services.store.get_wait(GAME_DATE)["status"] == b.WAIT_EXPIRED
    alerts = not_ready_alerts(services)
    assert alerts and {row["severity"] for row in alerts} == {"critical"}
    assert len(alerts) == len({row["channel"] for row in alerts})  # once per channel


def test_poll_from_a_caller_that_is_not_the_scheduler_is_forbidden(services, api):
    open_wait(api)
    response = api.post("/poll")
    assert response.status_code == 403 and "scheduler" in response.json()["error"]
    assert services.store.get_wait(GAME_DATE)["status"] == b.WAIT_OPEN


def token_api(services) -> Api:
    settings = Settings(api_token=TOKEN, scheduler_token=SCHEDULER_TOKEN)
    return Api(create_app(services, auth=authenticator(settings)))


def test_with_a_credential_configured_poll_without_one_answers_401(services):
    response = token_api(services).post("/poll", headers=SCHEDULER)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_the_api_token_with_the_scheduler_header_is_not_the_scheduler_and_gets_403(services):
    headers = {**SCHEDULER, "Authorization": f"Bearer {TOKEN}"}
    assert token_api(services).post("/poll", headers=headers).status_code == 403


def test_the_scheduler_token_may_run_the_poll(services):
    headers = {"Authorization": f"Bearer {SCHEDULER_TOKEN}"}
    response = token_api(services).post("/poll", headers=headers)
    assert response.status_code == 200 and response.json() == {"decisions": [], "open_waits": 0}
