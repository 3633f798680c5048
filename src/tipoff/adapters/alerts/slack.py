"""The Slack channel: one POST to an incoming webhook per alert."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from tipoff.adapters.alerts.redaction import redact
from tipoff.domain.alerts import Alert
from tipoff.errors import AdapterError, ConfigurationError, PermanentError, TransientError

MAX_SECTION_CHARS = 2900  # Slack rejects section texts above 3000 characters
MAX_ANSWER_CHARS = 200
_RETRYABLE_STATUS = frozenset({408, 429})


class SlackAlerter:
    """Posts alerts to a Slack incoming webhook; the URL is the secret and never shown.

    Non-2xx answers and connection errors raise ``TransientError`` (timeouts, 408, 429, 5xx)
    or ``PermanentError`` (other 4xx: revoked or wrong webhook), messages naming only the host.
    """

    name = "slack"

    def __init__(self, webhook_url: SecretStr, *, timeout: float = 10.0) -> None:
        parts = urlsplit(webhook_url.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("the Slack webhook URL must be an http(s) URL")
        self._url = webhook_url
        self._host = parts.hostname
        self._timeout = timeout
        _HTTPX_LOG_GUARD.protect(*self._secret_parts())

    def __repr__(self) -> str:
        return (f"SlackAlerter(host={self._host!r}, webhook_url=SecretStr('**********'), "
                f"timeout={self._timeout})")

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise ``TransientError``/``PermanentError`` if Slack refuses it."""
        failure = self._post(slack_payload(alert))
        if failure is not None:
            # Raised here, outside the except block, so no SDK traceback rides along.
            raise failure

    def _post(self, payload: dict[str, Any]) -> AdapterError | None:
        try:
            response = httpx.post(self._url.get_secret_value(), json=payload, timeout=self._timeout)
        except httpx.InvalidURL as exc:
            return PermanentError(self._describe("has an invalid URL", exc))
        except httpx.HTTPError as exc:
            return TransientError(self._describe("unreachable", exc))
        return self._status_error(response)

    def _status_error(self, response: httpx.Response) -> AdapterError | None:
        status = response.status_code
        if 200 <= status < 300:
            return None
        answer = self._redact(response.text[:MAX_ANSWER_CHARS])
        message = (f"Slack webhook at {self._host} answered {status} "
                   f"{response.reason_phrase}: {answer}")
        if status in _RETRYABLE_STATUS or status >= 500:
            return TransientError(message)
        return PermanentError(message)

    def _describe(self, problem: str, exc: Exception) -> str:
        detail = self._redact(str(exc))
        return f"Slack webhook at {self._host} {problem}: {type(exc).__name__}: {detail}"

    def _redact(self, text: str) -> str:
        return redact(text, *self._secret_parts())

    def _secret_parts(self) -> tuple[str, ...]:
        """The URL, its path, query and every path segment alone (a receiver may echo any
        one of the token's segments), to mask anywhere."""
        return webhook_secrets(self._url.get_secret_value())


def webhook_secrets(url: str) -> tuple[str, ...]:
    """The parts of a webhook URL that must never be shown."""
    parts = urlsplit(url)
    segments = [seg for seg in parts.path.split("/") if seg]
    return tuple(p for p in (url, parts.path if len(parts.path) > 1 else "", parts.query,
                             *segments) if p)


class _RedactingFilter(logging.Filter):
    """Masks registered secrets in log records; httpx logs every request's full URL at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()

    def protect(self, *secrets: str) -> None:
        """Install on the ``httpx`` logger (once) and mask ``secrets`` from now on."""
        self._secrets = self._secrets | set(secrets)  # rebinding keeps filter() lock-free
        logger = logging.getLogger("httpx")
        if self not in logger.filters:
            logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, *self._secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_HTTPX_LOG_GUARD = _RedactingFilter()


def slack_payload(alert: Alert) -> dict[str, Any]:
    """The webhook body: plain ``text`` (notifications, fallbacks) and richer ``blocks``."""
    text = f"{alert.subject}\n{alert.body}"
    section = f"*{alert.subject}*\n{alert.body}"[:MAX_SECTION_CHARS]
    context = f"{alert.type} · game date {alert.game_date.isoformat()} · {alert.severity.value}"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }
