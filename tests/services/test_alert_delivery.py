"""Alert delivery against real servers: an aiosmtpd SMTP server and a local HTTP webhook receiver,
with the alert log in a real SQLite store."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from structlog.testing import capture_logs

from tipoff.adapters.alerts.email import EmailAlerter
from tipoff.adapters.alerts.log import LogAlerter
from tipoff.adapters.alerts.slack import SlackAlerter
from tipoff.bootstrap import alert_dispatcher
from tipoff.config import Settings
from tipoff.domain.alerts import Alert, Severity, coverage_alert, latency_alert
from tipoff.errors import ConfigurationError, PermanentError, TransientError
from tipoff.pipeline.alerting import AlertDispatcher

D = date(2026, 1, 15)
WEBHOOK_TOKEN = "XoXoSecretWebhookToken42"
SMTP_USER = "alerts"
SMTP_PASSWORD = "pa55-Hunter2-secret"
SENDER = "tipoff@example.test"
RECIPIENTS = ["oncall@example.test", "lead@example.test"]
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a real SMTP server ----------------------------------------------------------------------

@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list = field(default_factory=list)

    def inbox(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(env.content, policy=email.policy.default)
                for env in self.messages]


class RecordingHandler:
    def __init__(self, messages: list) -> None:
        self.messages = messages

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    server = SmtpServer("127.0.0.1", free_port())
    controller = Controller(RecordingHandler(server.messages), hostname=server.host,
                            port=server.port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    yield server
    controller.stop()


# --- a real HTTP webhook receiver ------------------------------------------------------------

class Receiver:
    """Records POST bodies; answers ``status``."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.status = 200
        handler = self._handler_class()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._running = False

    @property
    def webhook_url(self) -> SecretStr:
        host, port = self._server.server_address[:2]
        return SecretStr(f"http://{host}:{port}/services/T000/B000/{WEBHOOK_TOKEN}")

    def start(self) -> Receiver:
        self._thread.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._server.shutdown()
            self._thread.join()
            self._running = False
        self._server.server_close()

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"server_error")

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


# --- helpers ----------------------------------------------------------------------------------

def alert(title: str = "Prediction coverage 40% for 2026-01-15") -> Alert:
    return Alert(type="coverage", severity=Severity.CRITICAL, title=title,
                 body="40 of 100 ready players have a prediction.", game_date=D,
                 details={"predicted": 40, "ready": 100})


def slack(url: SecretStr) -> SlackAlerter:
    return SlackAlerter(url, timeout=2.0)


def mailer(server: SmtpServer, **options) -> EmailAlerter:
    return EmailAlerter(server.host, server.port, SENDER, RECIPIENTS, timeout=5.0, **options)


def dispatcher(store, clock, receiver: Receiver, server: SmtpServer) -> AlertDispatcher:
    channels = [LogAlerter(), slack(receiver.webhook_url),
                mailer(server, user=SMTP_USER, password=SecretStr(SMTP_PASSWORD))]
    return AlertDispatcher(store, clock, channels)


def rows_by_channel(store, game_date: date = D) -> dict[str, dict]:
    return {row["channel"]: row for row in store.alert_log(game_date)}


def render_tracebacks(_logger, _method, event_dict):
    """What structlog's default console renderer would print: rich tracebacks with locals."""
    if event_dict.get("exc_info"):
        out = io.StringIO()
        formatter = structlog.dev.RichTracebackFormatter(
            color_system="standard", width=400, locals_max_string=10_000, locals_max_length=100)
        formatter(out, sys.exc_info())
        event_dict["traceback"] = ANSI_CODES.sub("", out.getvalue())  # codes could split a secret
    return event_dict


# --- channels ---------------------------------------------------------------------------------

def test_slack_receives_the_alert_as_json_text(receiver):
    slack(receiver.webhook_url).send(alert())

    [(path, body)] = receiver.posts
    assert path.endswith(WEBHOOK_TOKEN)
    assert body["text"].startswith("[tipoff CRITICAL] Prediction coverage 40% for 2026-01-15")
    assert "40 of 100 ready players" in body["text"]
    assert body["blocks"][0]["type"] == "section"


def test_an_email_arrives_with_severity_and_title_in_the_subject(smtp_server):
    mailer(smtp_server).send(alert())

    [envelope] = smtp_server.messages
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == RECIPIENTS
    [message] = smtp_server.inbox()
    assert "CRITICAL" in message["Subject"]
    assert "Prediction coverage 40% for 2026-01-15" in message["Subject"]
    text = message.get_content()
    assert "40 of 100 ready players" in text and "Game date: 2026-01-15" in text


def test_an_email_is_sent_after_logging_in_with_the_password(smtp_server):
    mailer(smtp_server, user=SMTP_USER, password=SecretStr(SMTP_PASSWORD)).send(alert())

    assert len(smtp_server.messages) == 1


def test_a_refused_password_is_permanent_and_not_repeated_in_the_error(smtp_server):
    wrong = "WrongPassw0rd-secret"
    with pytest.raises(PermanentError) as caught:
        mailer(smtp_server, user=SMTP_USER, password=SecretStr(wrong)).send(alert())

    assert "535" in str(caught.value) and wrong not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert smtp_server.messages == []


def test_starttls_against_a_server_without_it_is_a_clear_permanent_error(smtp_server):
    with pytest.raises(PermanentError, match="STARTTLS"):
        mailer(smtp_server, starttls=True).send(alert())
    assert smtp_server.messages == []


def test_an_unreachable_smtp_server_is_transient():
    closed = SmtpServer("127.0.0.1", free_port())
    with pytest.raises(TransientError, match=f"127.0.0.1:{closed.port}"):
        mailer(closed).send(alert())


@pytest.mark.parametrize(("status", "error"), [
    (500, TransientError), (503, TransientError), (429, TransientError),
    (404, PermanentError), (403, PermanentError), (400, PermanentError),
])
def test_slack_answers_map_to_transient_or_permanent_errors_without_the_url(receiver, status, error):
    receiver.status = status
    with pytest.raises(error, match=str(status)) as caught:
        slack(receiver.webhook_url).send(alert())

    assert WEBHOOK_TOKEN not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_an_unreachable_slack_webhook_is_transient_without_the_url(receiver):
    url = receiver.webhook_url
    receiver.stop()
    with pytest.raises(TransientError, match="unreachable") as caught:
        slack(url).send(alert())

    assert WEBHOOK_TOKEN not in str(caught.value)


def test_a_webhook_that_is_not_an_http_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as caught:
        SlackAlerter(SecretStr(f"hooks.slack.com/services/{WEBHOOK_TOKEN}"))
    assert WEBHOOK_TOKEN not in str(caught.value)


def test_reprs_mask_the_webhook_url_and_the_password(sqlite_store, clock, receiver, smtp_server):
    shown = repr(dispatcher(sqlite_store, clock, receiver, smtp_server))

    assert "slack" in shown.lower() and "EmailAlerter" in shown and "********" in shown
    assert WEBHOOK_TOKEN not in shown and SMTP_PASSWORD not in shown


# --- the dispatcher ---------------------------------------------------------------------------

def test_every_channel_delivers_and_the_alert_log_records_it(sqlite_store, clock, receiver, smtp_server):
    with capture_logs() as logs:
        outcome = dispatcher(sqlite_store, clock, receiver, smtp_server).send(alert())

    assert outcome == {"log": "sent", "slack": "sent", "email": "sent"}
    assert len(receiver.posts) == 1 and len(smtp_server.messages) == 1
    assert any(e["event"] == "alert" and e["title"] == alert().title for e in logs)
    rows = rows_by_channel(sqlite_store)
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert rows["slack"]["attempts"] == 1 and rows["slack"]["sent_at"] == clock.now()


def test_each_alert_goes_out_at_most_once_per_date_type_and_channel(sqlite_store, clock, receiver, smtp_server):
    alerts = dispatcher(sqlite_store, clock, receiver, smtp_server)
    first = alerts.send(alert())
    clock.advance(timedelta(hours=1))
    repeats = [alerts.send(alert("a reworded title")) for _ in range(3)]
    fresh = dispatcher(sqlite_store, clock, receiver, smtp_server)  # e.g. another replica
    again = fresh.send(alert())

    assert set(first.values()) == {"sent"}
    assert all(set(r.values()) == {"duplicate"} for r in repeats + [again])
    assert len(receiver.posts) == 1 and len(smtp_server.messages) == 1
    assert alerts.stats()["email"] == {"sent": 1, "failed": 0, "duplicates": 3, "store_errors": 0}


def test_other_dates_and_types_are_separate_alerts(sqlite_store, clock, receiver, smtp_server):
    alerts = dispatcher(sqlite_store, clock, receiver, smtp_server)
    alerts.send(coverage_alert(D, predicted=40, ready=100, batch_exists=True))
    alerts.send(latency_alert(D, timedelta(minutes=15)))
    alerts.send(coverage_alert(D + timedelta(days=1), predicted=40, ready=100, batch_exists=True))

    assert len(receiver.posts) == 3 and len(smtp_server.messages) == 3
    assert len(sqlite_store.alert_log()) == 9 and len(sqlite_store.alert_log(D)) == 6


def test_slack_answering_500_still_delivers_email_records_the_failure_and_retries_later(
        sqlite_store, clock, receiver, smtp_server):
    alerts = dispatcher(sqlite_store, clock, receiver, smtp_server)
    receiver.status = 500

    outcome = alerts.send(alert())

    assert outcome == {"log": "sent", "slack": "failed", "email": "sent"}
    assert len(smtp_server.messages) == 1
    slack_row = rows_by_channel(sqlite_store)["slack"]
    assert slack_row["status"] == "failed" and slack_row["attempts"] == 1
    assert "TransientError" in slack_row["last_error"] and "500" in slack_row["last_error"]
    assert alerts.stats()["slack"]["failed"] == 1

    receiver.status = 200
    clock.advance(timedelta(minutes=1))
    retried = alerts.send(alert())

    assert retried == {"log": "duplicate", "slack": "sent", "email": "duplicate"}
    assert len(receiver.posts) == 2 and len(smtp_server.messages) == 1
    slack_row = rows_by_channel(sqlite_store)["slack"]
    assert slack_row["status"] == "sent" and slack_row["attempts"] == 2
    assert alerts.stats()["slack"] == {"sent": 1, "failed": 1, "duplicates": 0, "store_errors": 0}


def test_slack_receiver_down_email_still_delivered_failure_recorded_no_exception_escapes(
        sqlite_store, clock, receiver, smtp_server):
    alerts = dispatcher(sqlite_store, clock, receiver, smtp_server)
    receiver.stop()

    with capture_logs() as logs:
        outcome = alerts.send(alert())

    assert outcome == {"log": "sent", "slack": "failed", "email": "sent"}
    [message] = smtp_server.inbox()
    assert alert().title in message["Subject"]
    assert "unreachable" in rows_by_channel(sqlite_store)["slack"]["last_error"]
    [failure] = [e for e in logs if e["event"] == "alert delivery failed"]
    assert failure["channel"] == "slack" and failure["exc_info"] is True
    assert failure["log_level"] == "error"


def test_a_channel_raising_anything_is_contained(sqlite_store, clock, smtp_server):
    class Broken:
        name = "broken"

        def send(self, alert):
            raise RuntimeError("boom")

    alerts = AlertDispatcher(sqlite_store, clock, [Broken(), mailer(smtp_server)])

    assert alerts.send(alert()) == {"broken": "failed", "email": "sent"}
    assert rows_by_channel(sqlite_store)["broken"]["last_error"] == "RuntimeError: boom"


def test_an_unreachable_store_does_not_silence_the_alert(clock, smtp_server):
    class DownStore:
        def claim_alert(self, *args, **kwargs):
            raise TransientError("store unavailable")

        mark_alert = claim_alert

    alerts = AlertDispatcher(DownStore(), clock, [mailer(smtp_server)])

    assert alerts.send(alert()) == {"email": "sent"}
    assert len(smtp_server.messages) == 1
    assert alerts.stats()["email"]["store_errors"] == 2


def test_secrets_never_reach_logs_tracebacks_or_the_alert_log(sqlite_store, clock, receiver,
                                                               smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="httpx")  # httpx logs each request's URL at INFO
    receiver.status = 500
    bad_mail = mailer(smtp_server, user=SMTP_USER, password=SecretStr(SMTP_PASSWORD + "x"))
    down_url = SecretStr(f"http://127.0.0.1:{free_port()}/services/T000/B000/{WEBHOOK_TOKEN}")
    channels = [LogAlerter(), slack(receiver.webhook_url), bad_mail]
    with capture_logs(processors=[render_tracebacks]) as logs:
        AlertDispatcher(sqlite_store, clock, channels).send(alert())
        AlertDispatcher(sqlite_store, clock, [SlackAlerter(down_url, timeout=2.0)]).send(
            alert("other"))
    failures = [e for e in logs if e["event"] == "alert delivery failed"]
    text = repr(logs) + repr(sqlite_store.alert_log()) + caplog.text

    assert "HTTP Request: POST" in caplog.text
    assert len(failures) == 3 and all("Traceback" in e["traceback"] for e in failures)
    assert "self = SlackAlerter" in text  # locals are rendered, so the check means something
    for secret in (WEBHOOK_TOKEN, SMTP_PASSWORD):
        assert secret not in text


def test_settings_choose_the_channels_and_log_is_always_on(sqlite_store, clock):
    plain = alert_dispatcher(Settings(), sqlite_store, clock)
    full = alert_dispatcher(Settings.from_mapping({
        "TIPOFF_SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/{WEBHOOK_TOKEN}",
        "TIPOFF_SMTP_HOST": "smtp.example.test", "TIPOFF_SMTP_USER": SMTP_USER,
        "TIPOFF_SMTP_PASSWORD": SMTP_PASSWORD, "TIPOFF_SMTP_FROM": SENDER,
        "TIPOFF_SMTP_TO": " oncall@example.test, lead@example.test ", "TIPOFF_SMTP_STARTTLS": "true",
    }), sqlite_store, clock)

    assert plain.channels == ["log"]
    assert full.channels == ["log", "slack", "email"]
    assert "['oncall@example.test', 'lead@example.test']" in repr(full)
    assert "starttls=True" in repr(full)
    assert WEBHOOK_TOKEN not in repr(full) and SMTP_PASSWORD not in repr(full)


def test_smtp_without_sender_or_recipients_is_a_configuration_error(sqlite_store, clock):
    settings = Settings(smtp_host="smtp.example.test", smtp_from=SENDER)
    with pytest.raises(ConfigurationError, match="TIPOFF_SMTP_TO"):
        alert_dispatcher(settings, sqlite_store, clock)


# --- the alert log's claim, over every store adapter (PostgreSQL skips locally when down) ------

def claim(store, clock, key: str = "coverage", channel: str = "slack") -> bool:
    return store.claim_alert(D, key, channel, "critical", "title", clock.now())


def race(store, clock, key: str, claimers: int = 2) -> list[bool]:
    barrier = threading.Barrier(claimers)
    results: list[bool] = []

    def run() -> None:
        barrier.wait()
        results.append(claim(store, clock, key))

    threads = [threading.Thread(target=run) for _ in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_claimers_of_a_new_alert_yield_exactly_one_winner(any_store, clock):
    for i in range(10):
        assert sorted(race(any_store, clock, f"type-{i}")) == [False, True]


def test_two_concurrent_claimers_of_a_failed_alert_yield_exactly_one_winner(any_store, clock):
    for i in range(10):
        key = f"type-{i}"
        assert claim(any_store, clock, key)
        any_store.mark_alert(D, key, "slack", "failed", clock.now(), error="down")
        assert sorted(race(any_store, clock, key)) == [False, True]


def test_a_sent_alert_is_never_claimed_again(any_store, clock):
    assert claim(any_store, clock)
    any_store.mark_alert(D, "coverage", "slack", "sent", clock.now())
    clock.advance(timedelta(days=2))

    assert not claim(any_store, clock)
    assert claim(any_store, clock, channel="email")


def test_a_claim_left_by_a_crashed_sender_is_taken_over_after_five_minutes(any_store, clock):
    assert claim(any_store, clock)
    clock.advance(timedelta(minutes=5))
    assert not claim(any_store, clock)
    clock.advance(timedelta(seconds=1))
    assert claim(any_store, clock)
    assert any_store.alert_log()[0]["attempts"] == 2


def test_marking_an_unknown_status_is_refused(any_store, clock):
    with pytest.raises(ValueError, match="unknown alert status"):
        any_store.mark_alert(D, "coverage", "slack", "delivered", clock.now())
