"""Keeping secrets out of error messages built from SDK errors and server answers."""

from __future__ import annotations

MASK = "********"


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by a mask, longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
