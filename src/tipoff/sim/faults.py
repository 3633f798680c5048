"""Fault specifications for ``tipoff simulate``: what goes wrong on which night, from a seed.

A spec is a comma-separated list of ``KIND[=RATE[:SIZE]]`` items, for example
``event_lost=0.1,phase4_late=0.1:20-90m,phase4_partial=0.05:0.5,write_fail=0.02``. A kind
without a rate happens every night (``slack_down`` = ``slack_down=1``). Kinds:

    event_lost           the night's phase4_complete event is never delivered
    phase4_late          stage 4 finishes SIZE (``MIN-MAXm``, default 20-90m) late
    phase4_missing       stage 4 never runs that night
    phase4_partial       stage 4 first has only SIZE (a fraction, default 0.5) of its ready
                         players ready; the rest follow 30-120 min later
    worker_crash         a worker dies mid-batch (per worker call); its requests are redelivered
    write_fail           a prediction or result write fails transiently (per write)
    slack_down           the Slack channel fails all night
    smtp_down            the e-mail channel fails all night
    duplicate_delivery   the bus delivers a message again (per delivery)
    bus_publish_fail     stage 4's publish of its event fails

Night-level faults are drawn once per game date; per-call faults (``worker_crash``,
``write_fail``, ``duplicate_delivery``) draw on every call from the night's own stream.
Every draw comes from ``(seed, game date, kind)``, so nights and kinds do not shift each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from tipoff.errors import InputError

NIGHT_KINDS = ("event_lost", "phase4_late", "phase4_missing", "phase4_partial", "slack_down",
               "smtp_down", "bus_publish_fail")
CALL_KINDS = ("worker_crash", "write_fail", "duplicate_delivery")
KINDS = NIGHT_KINDS + CALL_KINDS
_MINUTES = re.compile(r"^(\d+)-(\d+)m$")
DEFAULT_LATE = (20, 90)
DEFAULT_FRACTION = 0.5
PARTIAL_REST = (30, 120)  # minutes after the partial run until the rest of the slate is ready


@dataclass(frozen=True)
class Fault:
    """One kind of fault with its rate (0..1) and, where it has one, its size."""

    kind: str
    rate: float
    minutes: tuple[int, int] = DEFAULT_LATE
    fraction: float = DEFAULT_FRACTION


@dataclass(frozen=True)
class FaultSpec:
    """The parsed ``--faults`` option."""

    faults: dict[str, Fault] = field(default_factory=dict)

    def rate(self, kind: str) -> float:
        """How often ``kind`` happens (0 when it is not in the spec)."""
        fault = self.faults.get(kind)
        return fault.rate if fault else 0.0

    def describe(self) -> str:
        """The spec back as text, sizes included (empty: no faults)."""
        return ",".join(f"{k}={f.rate:g}{_size(f)}" for k, f in self.faults.items())


def _size(fault: Fault) -> str:
    if fault.kind == "phase4_late":
        return f":{fault.minutes[0]}-{fault.minutes[1]}m"
    if fault.kind == "phase4_partial":
        return f":{fault.fraction:g}"
    return ""


def parse_faults(text: str | None) -> FaultSpec:
    """Parse a spec; an unknown kind or a malformed rate or size is an ``InputError``."""
    faults: dict[str, Fault] = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if item:
            fault = _parse_item(item)
            faults[fault.kind] = fault
    return FaultSpec(faults)


def _parse_item(item: str) -> Fault:
    kind, _, value = item.partition("=")
    kind = kind.strip()
    if kind not in KINDS:
        raise InputError(f"unknown fault {kind!r} (known: {', '.join(KINDS)})")
    rate_text, _, size = value.partition(":")
    rate = _rate(kind, rate_text or "1")
    if kind == "phase4_late" and size:
        return Fault(kind, rate, minutes=_minutes(kind, size))
    if kind == "phase4_partial" and size:
        return Fault(kind, rate, fraction=_fraction(kind, size))
    if size:
        raise InputError(f"fault {kind} takes no size (got {size!r})")
    return Fault(kind, rate)


def _rate(kind: str, text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise InputError(f"fault {kind}: rate {text!r} is not a number") from None
    if not 0 <= rate <= 1:
        raise InputError(f"fault {kind}: rate {text} must be between 0 and 1")
    return rate


def _minutes(kind: str, text: str) -> tuple[int, int]:
    match = _MINUTES.match(text.strip())
    if not match or int(match[1]) > int(match[2]):
        raise InputError(f"fault {kind}: size {text!r} must be MIN-MAXm, e.g. 20-90m")
    return int(match[1]), int(match[2])


def _fraction(kind: str, text: str) -> float:
    fraction = _rate(kind, text)
    return fraction


@dataclass
class NightFaults:
    """What goes wrong on one night, and the stream per-call faults draw from.

    ``happened`` counts the faults actually injected (a late stage 4, each failed write …);
    the simulator reports them per night.
    """

    spec: FaultSpec
    streams: dict[str, np.random.Generator]
    event_lost: bool = False
    late: timedelta | None = None
    missing: bool = False
    partial: float | None = None  # the share of ready players ready at first
    partial_rest: timedelta = timedelta(0)
    slack_down: bool = False
    smtp_down: bool = False
    publish_fail: bool = False
    happened: dict[str, int] = field(default_factory=dict)

    def strikes(self, kind: str) -> bool:
        """Draw a per-call fault; True means inject it now (and count it)."""
        rate = self.spec.rate(kind)
        if rate <= 0 or self.streams[kind].random() >= rate:
            return False
        self.note(kind)
        return True

    def note(self, kind: str, detail: str | None = None) -> None:
        """Count an injected fault (``detail`` replaces the count, e.g. ``47m`` late)."""
        key = kind if detail is None else f"{kind}:{detail}"
        self.happened[key] = self.happened.get(key, 0) + 1

    def labels(self) -> list[str]:
        """The injected faults as report labels: ``kind``, ``kind xN`` or ``kind:detail``."""
        return [key if n == 1 else f"{key} x{n}" for key, n in sorted(self.happened.items())]


def night_faults(spec: FaultSpec, seed: int, game_date: date) -> NightFaults:
    """The faults of ``game_date``, drawn from ``(seed, date, kind)``."""
    streams = {kind: np.random.default_rng([seed, game_date.toordinal(), n])
               for n, kind in enumerate(KINDS)}
    night = NightFaults(spec, streams)
    hit = {kind: streams[kind].random() < spec.rate(kind) for kind in NIGHT_KINDS}
    night.missing = hit["phase4_missing"]
    night.event_lost = hit["event_lost"] and not night.missing
    night.publish_fail = hit["bus_publish_fail"] and not night.missing
    night.slack_down, night.smtp_down = hit["slack_down"], hit["smtp_down"]
    if hit["phase4_late"] and not night.missing:
        low, high = spec.faults["phase4_late"].minutes
        night.late = timedelta(minutes=int(streams["phase4_late"].integers(low, high + 1)))
    if hit["phase4_partial"] and not night.missing:
        night.partial = spec.faults["phase4_partial"].fraction
        rest = int(streams["phase4_partial"].integers(PARTIAL_REST[0], PARTIAL_REST[1] + 1))
        night.partial_rest = timedelta(minutes=rest)
    return night
