"""Game dates and local wall-clock times.

The game date is the NBA slate date in America/New_York; schedules are wall-clock times in
America/Los_Angeles. Instants are always timezone-aware UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
PACIFIC = ZoneInfo("America/Los_Angeles")
UTC = timezone.utc


def require_aware(instant: datetime) -> datetime:
    """Return ``instant`` in UTC; refuse naive datetimes."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: instants must be timezone-aware")
    return instant.astimezone(UTC)


def game_date_at(instant: datetime) -> date:
    """The slate date (America/New_York) that ``instant`` falls on."""
    return require_aware(instant).astimezone(EASTERN).date()


def eastern_instant(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time on ``day`` in America/New_York."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)
    return local.astimezone(UTC)


def pacific_instant(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time on ``day`` in America/Los_Angeles."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PACIFIC)
    return local.astimezone(UTC)


def parse_game_date(text: str) -> date:
    """Parse ``YYYY-MM-DD``; raise ValueError with the offending text otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"invalid game date {text!r}: expected YYYY-MM-DD") from exc


def days_between(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
