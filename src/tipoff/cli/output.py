"""Human output: values as people read them (no Python reprs), and field lists.

``--json`` prints the machine form; everything else goes through ``human``, so ``None`` is
"—", floats are rounded, instants are short UTC times and mappings read "a 3, b 1".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from rich.console import Console
from rich.markup import escape

NONE = "—"


def human(value: object, digits: int = 1) -> str:
    """``value`` as a person reads it."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, str) and _looks_like_instant(value):
        return _instant(datetime.fromisoformat(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {human(v, digits)}" for k, v in value.items()) or NONE
    if isinstance(value, (list, tuple, set)):
        return ", ".join(human(v, digits) for v in value) or NONE
    return str(value)


def label(key: str) -> str:
    """A field name as words: ``players_ready`` → ``players ready``."""
    return key.replace("_", " ")


def print_fields(console: Console, fields: Mapping[str, object], *, skip: tuple[str, ...] = (),
                 labels: Mapping[str, str] | None = None) -> None:
    """One ``label: value`` line per field, values through ``human``; nested mappings are
    indented below their label."""
    names = labels or {}
    for key, value in fields.items():
        if key in skip:
            continue
        name = names.get(key, label(key))
        if isinstance(value, Mapping) and value and any(isinstance(v, Mapping) for v in value.values()):
            console.print(f"{escape(name)}:", highlight=False)
            for inner, item in value.items():
                console.print(f"  {escape(label(str(inner)))}: {escape(human(item))}", highlight=False)
        else:
            console.print(f"{escape(name)}: {escape(human(value))}", highlight=False)


def duration(seconds: float | None) -> str:
    """``0.42 s``, ``12 s``, ``3.5 min`` — or "—"."""
    if seconds is None:
        return NONE
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _looks_like_instant(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[10] == "T" and text[13] == ":"


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat(sep=" ", timespec="seconds")
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
