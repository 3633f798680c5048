"""What the appliers share: client options, Google error translation, the apply outcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tipoff.errors import ConfigurationError, PermanentError, TransientError


@dataclass
class Applied:
    """The resource names an applier created or updated (``changed``) or left alone."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def note(self, name: str, changed: bool) -> None:
        (self.changed if changed else self.unchanged).append(name)

    def extend(self, other: Applied) -> None:
        self.changed.extend(other.changed)
        self.unchanged.extend(other.unchanged)


def rest_options(endpoint: str | None) -> dict[str, Any]:
    """Client keyword arguments: the REST transport; a local ``endpoint`` gets anonymous
    credentials, otherwise Application Default Credentials are used."""
    if endpoint is None:
        return {"transport": "rest"}
    from google.auth.credentials import AnonymousCredentials
    return {"transport": "rest", "client_options": {"api_endpoint": endpoint},
            "credentials": AnonymousCredentials()}


@contextmanager
def google_errors(action: str, role: str) -> Iterator[None]:
    """Translate Google errors of ``action`` into the error tree; a refusal names ``role``."""
    from google.api_core import exceptions as api
    from google.auth.exceptions import DefaultCredentialsError, TransportError
    try:
        yield
    except (api.PermissionDenied, api.Forbidden) as exc:
        raise PermanentError(f"permission denied {action}: the caller needs {role} "
                             f"({_message(exc)})") from exc
    except api.Unauthenticated as exc:
        raise ConfigurationError(f"not authenticated {action}: run `gcloud auth "
                                 f"application-default login` ({_message(exc)})") from exc
    except DefaultCredentialsError as exc:
        raise ConfigurationError("no Google credentials: run `gcloud auth application-default "
                                 "login` or set GOOGLE_APPLICATION_CREDENTIALS") from exc
    except (api.TooManyRequests, api.ServerError, api.DeadlineExceeded, api.RetryError,
            TransportError, OSError) as exc:
        raise TransientError(f"Google Cloud unavailable {action}: {_message(exc)}") from exc
    except api.GoogleAPIError as exc:
        raise PermanentError(f"Google Cloud refused {action}: {_message(exc)}") from exc


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split())[:300]
