"""Who may call the coordinator (SPEC.md §7): a FastAPI dependency over one ``Authenticator``.

- ``OpenAccess``: no credential configured (a server bound to loopback, or
  ``--insecure-no-auth``). The ``X-CloudScheduler`` header still marks the scheduler, because
  nothing else could.
- ``TokenAccess``: ``Authorization: Bearer <TIPOFF_API_TOKEN>``, compared in constant time;
  ``TIPOFF_SCHEDULER_TOKEN`` is the scheduler's own token.
- ``OidcAccess``: a Google-signed OIDC ID token (Pub/Sub push, Cloud Scheduler) verified by
  ``google.oauth2.id_token.verify_token``: signature, expiry and audience, then the e-mail
  against the allowed service accounts; the scheduler's accounts make the caller the scheduler.
  The signing certs are fetched once per their ``Cache-Control: max-age`` (``CertCache``), and
  once more early when a token names a key id they lack (a key Google just rotated in).

With a credential the scheduler is whoever holds the scheduler's credential; the
``X-CloudScheduler`` header is a hint, never an identity. Missing or invalid credential → 401,
a valid identity that is not allowed → 403.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tipoff.config import Settings
from tipoff.errors import ConfigurationError, TransientError

log = structlog.get_logger(__name__)
SCHEDULER_HEADERS = ("x-cloudscheduler", "x-tipoff-scheduler")
MAX_TOKEN = 8192
CERTS_TTL_S = 300.0  # when the certs response says nothing about caching
MAX_CERTS_TTL_S = 86400.0
REFETCH_INTERVAL_S = 60.0  # at most one early fetch per minute for an unknown key id
MAX_AGE = re.compile(r"max-age=(\d+)")
bearer = HTTPBearer(auto_error=False, description="TIPOFF_API_TOKEN or a Google OIDC ID token")


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: who, and whether it is the scheduler."""

    identity: str
    scheduler: bool = False


class AuthError(Exception):
    """The caller is not allowed in: 401 (no or bad credential) or 403 (not this identity)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Authenticator(Protocol):
    """Turns the request's bearer token (None when absent) into a ``Caller``."""

    required: bool

    def authenticate(self, token: str | None, scheduler_hint: bool) -> Caller:
        """The caller; raise ``AuthError`` when the credential is missing or wrong."""


class OpenAccess:
    """No credential configured: everyone is a manual caller, the header marks the scheduler."""

    required = False

    def authenticate(self, token: str | None, scheduler_hint: bool) -> Caller:
        return Caller("anonymous", scheduler=scheduler_hint)


class TokenAccess:
    """A shared bearer token, plus an optional scheduler token of its own."""

    required = True

    def __init__(self, token: str, scheduler_token: str | None = None) -> None:
        self._token = token.encode()
        self._scheduler = scheduler_token.encode() if scheduler_token else None

    def authenticate(self, token: str | None, scheduler_hint: bool) -> Caller:
        presented = _require(token).encode()
        if self._scheduler is not None and hmac.compare_digest(presented, self._scheduler):
            return Caller("scheduler-token", scheduler=True)
        if hmac.compare_digest(presented, self._token):
            return Caller("api-token")
        raise AuthError(401, "invalid bearer token")


class OidcAccess:
    """Google-signed OIDC ID tokens for ``audience`` from the allowed service accounts."""

    required = True

    def __init__(self, audience: str, accounts: frozenset[str], scheduler_accounts: frozenset[str],
                 certs_url: str, certs: CertCache | None = None) -> None:
        self._audience = audience
        self._accounts = accounts | scheduler_accounts
        self._scheduler = scheduler_accounts
        self._certs_url = certs_url
        self._certs = certs or CertCache()

    def authenticate(self, token: str | None, scheduler_hint: bool) -> Caller:
        claims = self._verify(_require(token))
        email = str(claims.get("email") or "")
        if not email or claims.get("email_verified") is False:
            raise AuthError(403, "the token carries no verified e-mail")
        if email.lower() not in self._accounts:
            raise AuthError(403, f"{email} may not call the coordinator")
        return Caller(email, scheduler=email.lower() in self._scheduler)

    def _verify(self, token: str) -> dict:
        from google.auth import exceptions
        from google.oauth2 import id_token

        def verify() -> dict:
            return id_token.verify_token(token, self._certs, audience=self._audience,
                                         certs_url=self._certs_url, clock_skew_in_seconds=10)

        try:
            try:
                return verify()
            except ValueError:
                # Google rotates its keys: a key id the kept certs lack may be new, so fetch
                # them again once (rate-limited) before refusing the token.
                if not self._certs.forget_unless_known(self._certs_url, _key_id(token)):
                    raise
                return verify()
        except exceptions.TransportError as exc:
            raise TransientError(f"cannot fetch the OIDC signing keys: {exc}") from exc
        except (ValueError, exceptions.GoogleAuthError) as exc:
            raise AuthError(401, f"invalid OIDC token: {exc}") from exc


class CertCache:
    """A ``google.auth`` transport that keeps each successful GET for the response's
    ``Cache-Control: max-age`` (``CERTS_TTL_S`` when absent), timed by ``monotonic``: Google's
    signing certs are then fetched a few times a day, not on every request."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._kept: dict[str, tuple[Any, float]] = {}
        self._refetched: dict[str, float] = {}  # when an unknown key id last dropped the certs
        self._lock = threading.Lock()

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        if method != "GET":
            return self._fetch(url, method, **kwargs)
        with self._lock:  # one fetch when many requests find the certs stale at once
            kept = self._kept.get(url)
            if kept is not None and self._monotonic() < kept[1]:
                return kept[0]
            response = self._fetch(url, method, **kwargs)
            if response.status == 200:
                self._kept[url] = (response, self._monotonic() + _ttl(response.headers))
            return response

    def forget_unless_known(self, url: str, key_id: str | None) -> bool:
        """Drop the kept certs of ``url`` when they lack ``key_id`` (so the next use fetches
        them again); at most once per ``REFETCH_INTERVAL_S``, so tokens with made-up key ids
        cannot make every request a fetch. True if the certs were dropped."""
        with self._lock:
            kept, last, now = self._kept.get(url), self._refetched.get(url), self._monotonic()
            if kept is None or not key_id or key_id in _key_ids(kept[0]):
                return False
            if last is not None and now < last + REFETCH_INTERVAL_S:
                return False
            del self._kept[url]
            self._refetched[url] = now
            return True

    @staticmethod
    def _fetch(url: str, method: str, **kwargs: Any) -> Any:
        from google.auth.transport.requests import Request as GoogleRequest

        return GoogleRequest()(url, method=method, **kwargs)


def _ttl(headers: Any) -> float:
    """Seconds the certs may be kept, from ``Cache-Control`` (bounded to one day)."""
    control = str(headers.get("cache-control") or "").lower()
    if "no-store" in control or "no-cache" in control:
        return 0.0
    match = MAX_AGE.search(control)
    return min(float(match.group(1)), MAX_CERTS_TTL_S) if match else CERTS_TTL_S


def _key_id(token: str) -> str | None:
    """The ``kid`` of a JWT's header (unverified: it only picks which cert to try)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "=="))
    except (ValueError, UnicodeDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _key_ids(response: Any) -> set[str]:
    try:
        certs = json.loads(response.data)
    except (ValueError, UnicodeDecodeError, TypeError):
        return set()
    return set(certs) if isinstance(certs, dict) else set()


def authenticator(settings: Settings) -> Authenticator:
    """The authenticator the settings call for (``OpenAccess`` when none is configured)."""
    if settings.auth == "oidc":
        if not settings.oidc_audience:
            raise ConfigurationError("TIPOFF_AUTH=oidc needs TIPOFF_OIDC_AUDIENCE")
        return OidcAccess(settings.oidc_audience, _emails(settings.oidc_service_accounts),
                          _emails(settings.oidc_scheduler_accounts), settings.oidc_certs_url)
    token = settings.bearer_token()
    if token is None:
        return OpenAccess()
    scheduler = settings.scheduler_token
    return TokenAccess(token.get_secret_value(),
                       scheduler.get_secret_value() if scheduler else None)


class RequireCaller:
    """The FastAPI dependency: the authenticated ``Caller`` of a request (or ``AuthError``)."""

    def __init__(self, auth: Authenticator, *, public: bool = False) -> None:
        self._auth = auth
        self._public = public

    async def __call__(self, request: Request, credentials: HTTPAuthorizationCredentials | None
                       = Depends(bearer)) -> Caller:
        hint = scheduler_hint(request)
        if self._public:
            request.state.caller = Caller("public")
            return request.state.caller
        token = credentials.credentials if credentials else None
        caller = await run_in_threadpool(self._auth.authenticate, token, hint)
        if hint and not caller.scheduler:
            log.info("scheduler_header_ignored", caller=caller.identity)
        request.state.caller = caller
        return caller


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def refuse_open_bind(host: str, auth: Authenticator, insecure: bool) -> str | None:
    """Why ``tipoff serve`` must not start on ``host`` (None: it may). Beyond loopback a
    credential is required unless ``insecure`` (which is then logged as a warning)."""
    if auth.required or host in LOOPBACK or host.startswith("127."):
        return None
    if insecure:
        log.warning("serving_without_credentials", host=host,
                    hint="anyone who can reach this port can start, force and fake batches")
        return None
    return (f"refusing to listen on {host} without a credential: set TIPOFF_API_TOKEN (or "
            f"--token-file), or TIPOFF_AUTH=oidc with TIPOFF_OIDC_AUDIENCE and "
            f"TIPOFF_OIDC_SERVICE_ACCOUNTS; --insecure-no-auth overrides")


def scheduler_hint(request: Request) -> bool:
    """Whether the request says it comes from the scheduler (a hint, not an identity)."""
    return any(request.headers.get(h, "").strip().lower() == "true" for h in SCHEDULER_HEADERS)


def _require(token: str | None) -> str:
    if not token:
        raise AuthError(401, "missing credential: send 'Authorization: Bearer <token>'")
    if len(token) > MAX_TOKEN or "\x00" in token:
        raise AuthError(401, "invalid bearer token")
    return token


def _emails(text: str) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in text.split(",") if e.strip())
