"""Secrets stay out of sight: URL passwords in ``config show`` and log lines, every segment of
the Slack webhook in errors and the alert log; ``serve`` refuses an open bind without a
credential."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import structlog
from pydantic import SecretStr
from typer.testing import CliRunner

from tipoff.adapters.alerts.slack import SlackAlerter
from tipoff.cli import app
from tipoff.config import Settings, mask_url_password
from tipoff.errors import PermanentError
from tipoff.logs import configure_logging
from tipoff.services.auth import OpenAccess, TokenAccess, refuse_open_bind
from tests.services.test_alert_delivery import alert

runner = CliRunner()
SEGMENT = "XyZsecretTokenSegment42"


def test_config_show_masks_the_password_inside_the_store_and_bus_urls(monkeypatch):
    monkeypatch.setenv("TIPOFF_STORE_URL", "postgresql://tipoff:hunter2@db.internal:5432/tipoff")
    monkeypatch.setenv("TIPOFF_BUS_URL", "nats://bus:natspass@nats.internal:4222")
    monkeypatch.setenv("TIPOFF_API_TOKEN", "api-token-value")
    result = runner.invoke(app, ["config", "show"])
    assert "hunter2" not in result.output and "natspass" not in result.output
    assert "api-token-value" not in result.output
    assert "postgresql://tipoff:***@db.internal:5432/tipoff" in result.output


def test_a_url_without_a_password_is_shown_unchanged():
    assert mask_url_password("sqlite:///./tipoff.db") == "sqlite:///./tipoff.db"


def test_log_lines_mask_passwords_inside_urls(capsys):
    configure_logging(json=True)
    try:
        structlog.get_logger("t").error("store_unreachable",
                                        error="could not connect to postgresql://u:hunter2@h/db")
        line = capsys.readouterr().err
    finally:
        configure_logging()  # back to the suite's plain logging
    assert "hunter2" not in line and "postgresql://u:***@h/db" in line


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_a_logged_traceback_masks_the_password_inside_a_url(capsys, as_json):
    configure_logging(json=as_json)
    try:
        try:
            raise PermanentError("could not connect to postgresql://u:hunter2@h/db")
        except PermanentError:
            structlog.get_logger("t").exception("store_unreachable")
        text = capsys.readouterr().err
    finally:
        configure_logging()  # back to the suite's plain logging
    assert "Traceback" in text and "PermanentError" in text
    assert "hunter2" not in text and "postgresql://u:***@h/db" in text


class _EchoingReceiver:
    """A webhook receiver that answers 403 quoting one segment of the path it was called on."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                body = f"invalid_token: {self.path.rsplit('/', 1)[1]}".encode()
                self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> SecretStr:
        return SecretStr(f"http://127.0.0.1:{self.server.server_port}/services/T0/B0/{SEGMENT}")


@pytest.fixture
def echoing():
    receiver = _EchoingReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_a_slack_receiver_echoing_a_token_segment_does_not_reveal_it(echoing):
    with pytest.raises(PermanentError) as caught:
        SlackAlerter(echoing.url, timeout=2.0).send(alert())
    assert "403" in str(caught.value) and SEGMENT not in str(caught.value)


def test_serve_refuses_to_listen_beyond_loopback_without_a_credential():
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "18999"], env={})
    assert result.exit_code == 2 and "TIPOFF_API_TOKEN" in result.output


def test_an_open_bind_is_allowed_with_a_token_or_when_insecure_is_asked_for():
    assert refuse_open_bind("0.0.0.0", TokenAccess("t"), False) is None
    assert refuse_open_bind("0.0.0.0", OpenAccess(), True) is None
    assert refuse_open_bind("127.0.0.1", OpenAccess(), False) is None
    assert "--insecure-no-auth" in refuse_open_bind("10.0.0.5", OpenAccess(), False)


def test_the_cli_client_sends_the_token():
    from tipoff.services.client import CoordinatorClient

    client = CoordinatorClient("http://127.0.0.1:1", token=Settings(api_token="tok").bearer_token())
    assert client._http.headers["Authorization"] == "Bearer tok"
