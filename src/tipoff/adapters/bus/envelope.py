"""What every bus adapter shares: the JSON payload rule and how errors are described."""

from __future__ import annotations

import json
from typing import Any

from tipoff.errors import PermanentError


def describe(exc: BaseException) -> str:
    """An exception as ``Type: message`` (dead letters and logs)."""
    return f"{type(exc).__name__}: {exc}"


def encode(data: dict[str, Any]) -> str:
    """The JSON text of ``data``; ``PermanentError`` if it is not a JSON-serialisable dict."""
    if not isinstance(data, dict):
        raise PermanentError(f"message data must be a dict, got {type(data).__name__}")
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"message data is not JSON-serialisable: {exc}") from exc
