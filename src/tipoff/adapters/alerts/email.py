"""The e-mail channel: one message per alert over SMTP, optionally upgraded with STARTTLS."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from pydantic import SecretStr

from tipoff.adapters.alerts.redaction import MASK, redact
from tipoff.domain.alerts import Alert
from tipoff.errors import AdapterError, ConfigurationError, PermanentError, TransientError


class EmailAlerter:
    """Sends alerts by SMTP to a fixed list of recipients; the password is never shown.

    Refused credentials, a missing STARTTLS or AUTH extension, TLS failures and 5xx answers
    raise ``PermanentError``; connection problems, timeouts and 4xx answers ``TransientError``.
    """

    name = "email"

    def __init__(self, host: str, port: int, sender: str, recipients: list[str], *,
                 user: str | None = None, password: SecretStr | None = None,
                 starttls: bool = False, timeout: float = 10.0) -> None:
        if not recipients:
            raise ConfigurationError("e-mail alerts need at least one recipient")
        if (user is None) != (password is None):
            raise ConfigurationError("SMTP user and password must be given together")
        self._host, self._port, self._timeout = host, port, timeout
        self._sender, self._recipients = sender, list(recipients)
        self._user, self._password, self._starttls = user, password, starttls

    def __repr__(self) -> str:
        password = None if self._password is None else MASK
        return (f"EmailAlerter(host={self._host!r}, port={self._port}, sender={self._sender!r}, "
                f"recipients={self._recipients!r}, user={self._user!r}, password={password!r}, "
                f"starttls={self._starttls})")

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` to every recipient; raise ``TransientError``/``PermanentError``."""
        failure = self._deliver(self.message(alert))
        if failure is not None:
            # Raised outside the except block: smtplib frames hold the password as a local.
            raise failure

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``: subject with severity and title, plain-text body."""
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = self._sender
        msg["To"] = ", ".join(self._recipients)
        details = "".join(f"  {k}: {v}\n" for k, v in alert.details.items())
        msg.set_content(f"{alert.body}\n\nGame date: {alert.game_date.isoformat()}\n"
                        f"Type: {alert.type}\nSeverity: {alert.severity.value}\n"
                        + (f"Details:\n{details}" if details else ""))
        return msg

    def _deliver(self, msg: EmailMessage) -> AdapterError | None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                self._open_session(smtp)
                smtp.send_message(msg, from_addr=self._sender, to_addrs=self._recipients)
        except (smtplib.SMTPException, OSError) as exc:
            return self._translate(exc)
        return None

    def _open_session(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self._starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self._user is not None and self._password is not None:
            smtp.login(self._user, self._password.get_secret_value())

    def _translate(self, exc: Exception) -> AdapterError:
        where = f"SMTP server {self._host}:{self._port}"
        secret = None if self._password is None else self._password.get_secret_value()
        text = f"{where}: {type(exc).__name__}: {redact(str(exc), secret)}"
        return PermanentError(text) if _is_permanent(exc) else TransientError(text)


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):  # auth, sender, data errors carry a code
        return exc.smtp_code >= 500
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return False
    # ssl.SSLError is an OSError, yet a certificate or handshake failure will not heal alone.
    return isinstance(exc, (smtplib.SMTPException, ssl.SSLError))
