"""Translate google-cloud-pubsub (api_core, gRPC) failures into tipoff's error tree."""

from __future__ import annotations

import concurrent.futures

from google.api_core import exceptions as gexc

from tipoff.adapters.bus.envelope import describe
from tipoff.errors import AdapterError, PermanentError, TransientError

# Waiting can fix these: the service is busy, restarting or slow.
_TRANSIENT = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError,
              gexc.TooManyRequests, gexc.Aborted, gexc.Unknown, gexc.RetryError,
              gexc.GatewayTimeout, gexc.ResourceExhausted, gexc.Cancelled)
TRANSLATABLE = (gexc.GoogleAPIError, OSError, concurrent.futures.TimeoutError, TimeoutError)


def translate(exc: BaseException, doing: str) -> AdapterError:
    """The tipoff error for an SDK failure while ``doing`` something."""
    if isinstance(exc, AdapterError):
        return exc
    message = f"Pub/Sub {doing} failed: {describe(exc)}"
    if isinstance(exc, gexc.GoogleAPICallError) and not isinstance(exc, _TRANSIENT):
        return PermanentError(message)  # bad request, not found, forbidden: retrying cannot help
    return TransientError(message)
