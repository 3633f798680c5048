"""The dashboard behind the API token: sign in once, then an HttpOnly SameSite cookie that
opens the read-only views and nothing else."""

from __future__ import annotations

import pytest

from tipoff.services.auth import TokenAccess
from tipoff.services.dashboard import COOKIE
from tipoff.services.http import create_app
from tests.services.test_http_api import Api, new_services

TOKEN = "dashboard-token"


@pytest.fixture
def api(tmp_path):
    services = new_services(tmp_path)
    yield Api(create_app(services, auth=TokenAccess(TOKEN)))
    services.stop()


def test_an_anonymous_browser_is_sent_to_the_sign_in_page(api):
    assert api.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    answer = api.get("/dashboard", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/login")
    assert api.get("/dashboard/api/overview").status_code == 401
    assert api.get("/report?days=2").status_code == 401
    assert 'name="token"' in api.get("/dashboard/login").text


def test_a_wrong_token_is_refused_and_sets_no_cookie(api):
    answer = api.post("/dashboard/login", content=b"token=nope",
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 401 and "set-cookie" not in answer.headers
    assert "not accepted" in answer.text


def test_the_sign_in_cookie_is_http_only_same_site_and_opens_only_the_read_only_views(api):
    answer = api.post("/dashboard/login", content=f"token={TOKEN}".encode(),
                      headers={"content-type": "application/x-www-form-urlencoded"},
                      follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    jar = {"cookie": f"{COOKIE}={TOKEN}"}
    assert api.get("/dashboard", headers=jar).status_code == 200
    assert api.get("/dashboard/api/overview?days=3", headers=jar).status_code == 200
    assert api.get("/report?days=3", headers=jar).status_code == 200
    # The cookie is not a credential for anything that acts (no cross-site request forgery).
    assert api.post("/start", json={}, headers=jar).status_code == 401
    assert api.get("/status", headers=jar).status_code == 401


def test_the_bearer_token_opens_the_read_only_views_too(api):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    predictions = api.get("/dashboard/api/predictions", headers=headers)
    assert predictions.status_code == 200 and predictions.json()["predictions"] == []
    assert api.get("/dashboard/static/dashboard.js").headers["content-type"].startswith(
        "text/javascript")
