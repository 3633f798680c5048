"""Player identity: the normalised ``player_lookup`` key."""

from __future__ import annotations

import re
import unicodedata

_NOT_LETTERS = re.compile(r"[^a-z]")


def player_lookup(name: str) -> str:
    """Lowercase ascii letters only, accents removed: ``"Nikola Jokić"`` → ``"nikolajokic"``."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return _NOT_LETTERS.sub("", ascii_only.lower())
