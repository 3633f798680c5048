"""Who may call the coordinator: a bearer token, or Google-signed OIDC ID tokens.

The OIDC tests sign tokens with a locally generated RSA key and serve its public key from a real
HTTP server on loopback; ``google.oauth2.id_token.verify_token`` runs against it unmocked.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

from tipoff.adapters.clock import SystemClock
from tipoff.config import Settings
from tipoff.services.auth import AuthError, CertCache, OidcAccess, authenticator
from tipoff.services.http import create_app
from tests.services.test_http_api import (
    SCHEDULER, Api, decisions, new_services, phase4_event, push,
)
from tests.unit.stage5_fixtures import seed_phase4

TOKEN = "s3cret-token-for-tests"
SCHEDULER_TOKEN = "scheduler-only-token"
AUDIENCE = "https://tipoff.example.run.app"
PUSHER = "pubsub-push@proj.iam.gserviceaccount.com"
SCHEDULER_SA = "scheduler@proj.iam.gserviceaccount.com"
GUARDED = [("POST", "/start", {"json": {}}), ("POST", "/retry", {"json": {}}),
           ("POST", "/trigger", {"json": push(phase4_event())}),
           ("POST", "/complete", {"json": push({"batch_id": "x"})}),
           ("GET", "/status", {}), ("GET", "/metrics", {})]


@pytest.fixture
def services(tmp_path):
    services = new_services(tmp_path)
    seed_phase4(services.store, services.clock.now())
    yield services
    services.stop()


def token_api(services, **settings) -> Api:
    config = Settings(api_token=TOKEN, **settings)
    return Api(create_app(services, auth=authenticator(config),
                          metrics_public=config.metrics_public))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- bearer token -------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "kwargs"), GUARDED)
def test_every_guarded_endpoint_answers_401_without_a_token(services, method, path, kwargs):
    response = token_api(services).request(method, path, **kwargs)
    assert response.status_code == 401
    assert "error" in response.json() and response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "kwargs"), GUARDED)
def test_every_guarded_endpoint_answers_401_with_a_wrong_token(services, method, path, kwargs):
    response = token_api(services).request(method, path, headers=bearer("wrong"), **kwargs)
    assert response.status_code == 401


def test_with_the_token_the_endpoints_give_their_usual_answers(services):
    api = token_api(services)
    started = api.post("/trigger", json=push(phase4_event()), headers=bearer(TOKEN))
    assert started.status_code == 202 and started.json()["decision"] == "started"
    services.bus.join()
    assert api.post("/start", json={}, headers=bearer(TOKEN)).status_code == 200
    assert api.post("/retry", json={}, headers=bearer(TOKEN)).status_code == 200
    assert api.get("/status", headers=bearer(TOKEN)).json()["state"] == "complete"
    assert api.post("/complete", json=push({"batch_id": "x"}),
                    headers=bearer(TOKEN)).status_code == 204
    assert api.get("/metrics", headers=bearer(TOKEN)).status_code == 200


def test_health_and_ready_need_no_token(services):
    api = token_api(services)
    assert api.get("/health").status_code == 200 and api.get("/ready").status_code == 200


def test_metrics_can_be_made_public(services):
    assert token_api(services, metrics_public=True).get("/metrics").status_code == 200


def test_twenty_unauthenticated_forced_starts_send_no_request(services):
    api = token_api(services)
    api.post("/trigger", json=push(phase4_event()), headers=bearer(TOKEN))
    services.bus.join()
    answers = {api.post("/start", json={"force": True}).status_code for _ in range(20)}
    assert answers == {401} and decisions(services.store, "forced") == []


def test_the_scheduler_header_from_a_caller_that_is_not_the_scheduler_is_ignored(services):
    api = token_api(services, scheduler_token=SCHEDULER_TOKEN)
    answer = api.post("/start", json={}, headers={**SCHEDULER, **bearer(TOKEN)}).json()
    assert answer["source"] == "manual"
    status = api.get("/status", params={"game_date": "2026-01-16"},
                     headers={**SCHEDULER, **bearer(TOKEN)}).json()
    assert "alerts" not in status  # the 07:00 check (and its alerts) is the scheduler's only


def test_the_scheduler_token_makes_the_caller_the_scheduler(services):
    api = token_api(services, scheduler_token=SCHEDULER_TOKEN)
    answer = api.post("/start", json={"game_date": "2026-01-16"},
                      headers=bearer(SCHEDULER_TOKEN)).json()
    assert (answer["source"], answer["decision"]) == ("scheduler_backup", "waiting_for_phase4")


def test_a_token_file_configures_the_token(services, tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = Settings(token_file=tmp_path / "token")
    api = Api(create_app(services, auth=authenticator(config)))
    assert api.get("/status").status_code == 401
    assert api.get("/status", headers=bearer(TOKEN)).status_code == 200


# --- OIDC ---------------------------------------------------------------------------------------

def _rsa_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def signing_key():
    return _rsa_key()


@pytest.fixture(scope="module")
def served_keys(signing_key) -> dict[str, str]:
    """The certs the server serves, by key id (a test may add one, and removes it after)."""
    return {"test-key": signing_key[1]}


@pytest.fixture(scope="module")
def certs_server(served_keys):
    """A real HTTP server on loopback serving the public key as Google serves its certs (with
    ``max-age`` 600 s, none under ``?plain``); yields its URL and the requests it answered."""
    hits: list[str] = []

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            body = json.dumps(served_keys).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if not self.path.endswith("?plain"):
                self.send_header("Cache-Control", "public, max-age=600, must-revalidate")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/certs", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def certs_url(certs_server):
    return certs_server[0]


def id_token(private_pem: str, *, email: str = PUSHER, audience: str = AUDIENCE,
             expires_in: timedelta = timedelta(minutes=10), kid: str = "test-key") -> str:
    now = SystemClock().now()  # google-auth checks expiry against the real clock
    claims = {"iss": "https://accounts.google.com", "aud": audience, "email": email,
              "email_verified": True, "sub": "1234", "iat": int((now - timedelta(minutes=1))
                                                                  .timestamp()),
              "exp": int((now + expires_in).timestamp())}
    return jwt.encode(crypt.RSASigner.from_string(private_pem, kid), claims).decode()


@pytest.fixture
def oidc_api(services, certs_url):
    config = Settings(auth="oidc", oidc_audience=AUDIENCE, oidc_service_accounts=PUSHER,
                      oidc_scheduler_accounts=SCHEDULER_SA, oidc_certs_url=certs_url)
    return Api(create_app(services, auth=authenticator(config)))


def test_a_valid_oidc_token_of_an_allowed_service_account_is_accepted(oidc_api, signing_key):
    response = oidc_api.post("/trigger", json=push(phase4_event()),
                             headers=bearer(id_token(signing_key[0])))
    assert response.status_code == 202 and response.json()["decision"] == "started"


def test_an_expired_oidc_token_is_refused_with_401(oidc_api, signing_key):
    token = id_token(signing_key[0], expires_in=timedelta(minutes=-5))
    assert oidc_api.get("/status", headers=bearer(token)).status_code == 401


def test_an_oidc_token_for_another_audience_is_refused_with_401(oidc_api, signing_key):
    token = id_token(signing_key[0], audience="https://elsewhere.example")
    assert oidc_api.get("/status", headers=bearer(token)).status_code == 401


def test_an_oidc_token_signed_by_another_key_is_refused_with_401(oidc_api):
    assert oidc_api.get("/status", headers=bearer(id_token(_rsa_key()[0]))).status_code == 401


def test_an_oidc_token_missing_is_refused_with_401(oidc_api):
    assert oidc_api.get("/status").status_code == 401


def test_a_valid_oidc_token_of_another_service_account_is_refused_with_403(oidc_api, signing_key):
    token = id_token(signing_key[0], email="intruder@other.iam.gserviceaccount.com")
    response = oidc_api.get("/status", headers=bearer(token))
    assert response.status_code == 403 and "may not call" in response.json()["error"]


def test_the_scheduler_service_account_is_the_scheduler_without_any_header(oidc_api, signing_key):
    token = id_token(signing_key[0], email=SCHEDULER_SA)
    answer = oidc_api.post("/start", json={"game_date": "2026-01-16"}, headers=bearer(token))
    assert answer.json()["source"] == "scheduler_backup"


def test_the_scheduler_header_from_the_push_account_is_treated_as_manual(oidc_api, signing_key):
    answer = oidc_api.post("/start", json={"game_date": "2026-01-16"},
                           headers={**SCHEDULER, **bearer(id_token(signing_key[0]))})
    assert answer.json()["source"] == "manual"


def test_poll_is_the_scheduler_service_accounts_only(oidc_api, signing_key):
    scheduler = bearer(id_token(signing_key[0], email=SCHEDULER_SA))
    assert oidc_api.post("/poll", headers=scheduler).status_code == 200
    pusher = {**SCHEDULER, **bearer(id_token(signing_key[0]))}
    assert oidc_api.post("/poll", headers=pusher).status_code == 403
    assert oidc_api.post("/poll").status_code == 401


# --- OIDC signing certs cache ---------------------------------------------------------------------

class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def oidc_access(certs_url: str, ticks: Ticks) -> OidcAccess:
    return OidcAccess(AUDIENCE, frozenset({PUSHER}), frozenset(), certs_url,
                      CertCache(monotonic=ticks))


def test_two_verifications_within_the_ttl_fetch_the_certs_once(certs_server, signing_key):
    url, hits = certs_server
    access, before = oidc_access(url, Ticks()), len(hits)
    for _ in range(2):
        assert access.authenticate(id_token(signing_key[0]), False).identity == PUSHER
    assert len(hits) - before == 1


def test_the_certs_are_kept_for_their_max_age_and_fetched_again_after(certs_server, signing_key):
    url, hits = certs_server
    ticks = Ticks()
    access, token, before = oidc_access(url, ticks), id_token(signing_key[0]), len(hits)
    access.authenticate(token, False)
    ticks.now += 599  # past the 300 s default: the server's max-age=600 is what counts
    access.authenticate(token, False)
    assert len(hits) - before == 1
    ticks.now += 2
    access.authenticate(token, False)
    assert len(hits) - before == 2


def test_the_app_verifies_many_requests_with_one_certs_fetch(certs_server, oidc_api, signing_key):
    hits, token = certs_server[1], bearer(id_token(signing_key[0]))
    before = len(hits)
    assert {oidc_api.get("/status", headers=token).status_code for _ in range(5)} == {200}
    assert len(hits) - before == 1


def test_certs_without_cache_control_are_kept_five_minutes(certs_server, signing_key):
    url, hits = certs_server
    ticks = Ticks()
    access, token, before = oidc_access(f"{url}?plain", ticks), id_token(signing_key[0]), len(hits)
    access.authenticate(token, False)
    ticks.now += 299
    access.authenticate(token, False)
    assert len(hits) - before == 1
    ticks.now += 2
    access.authenticate(token, False)
    assert len(hits) - before == 2


@pytest.fixture
def rotated_key(served_keys):
    """A second signing key, served under ``rotated-key`` only once the test says so."""
    private, public = _rsa_key()
    yield private, lambda: served_keys.update({"rotated-key": public})
    served_keys.pop("rotated-key", None)


def test_a_key_rotated_in_before_the_ttl_ends_is_fetched_once_and_accepted(
        certs_server, signing_key, rotated_key):
    url, hits = certs_server
    access, before = oidc_access(url, Ticks()), len(hits)
    access.authenticate(id_token(signing_key[0]), False)
    private, rotate = rotated_key
    rotate()  # Google publishes a new key; the kept certs (max-age 600) do not have it yet
    for _ in range(2):
        assert access.authenticate(id_token(private, kid="rotated-key"), False).identity == PUSHER
    assert access.authenticate(id_token(signing_key[0]), False).identity == PUSHER
    assert len(hits) - before == 2


def test_unknown_key_ids_fetch_the_certs_early_at_most_once_a_minute(certs_server, signing_key):
    url, hits = certs_server
    ticks = Ticks()
    access, before = oidc_access(url, ticks), len(hits)
    access.authenticate(id_token(signing_key[0]), False)
    stranger = _rsa_key()[0]
    for _ in range(3):
        with pytest.raises(AuthError) as refused:
            access.authenticate(id_token(stranger, kid="made-up"), False)
        assert refused.value.status == 401
    assert len(hits) - before == 2
    ticks.now += 61
    with pytest.raises(AuthError):
        access.authenticate(id_token(stranger, kid="made-up"), False)
    assert len(hits) - before == 3
