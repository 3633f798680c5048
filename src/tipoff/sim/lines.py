"""Import sportsbook player points lines from a CSV file as the ``prop_lines`` frame.

Columns (``REQUIRED``): game_date (the ET slate date, YYYY-MM-DD), player_name, bookmaker, line,
over_price and under_price (American odds such as -110 or +105) and captured_at. A ``team``
column may be present; it is not needed. Every line is a ``points`` market line.

captured_at must be ISO-8601 with a zone (``Z`` or an offset such as ``-05:00``). A naive time
is rejected, not guessed: it could be UTC, Eastern or the scraper's local time, and a wrong
guess can move a line across the stage 4 cut-off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tipoff.domain.analytics import COLUMNS, POINTS_MARKET
from tipoff.errors import InputError
from tipoff.sim.csvrows import (
    ImportResult,
    RowChecks,
    RowProblem,
    line_of,
    not_whole,
    parse_dates,
    parse_numbers,
    player_lookups,
    read_text_table,
)

__all__ = ["ImportResult", "RowProblem", "read_lines", "REQUIRED"]

REQUIRED = ("game_date", "player_name", "bookmaker", "line", "over_price", "under_price",
            "captured_at")
MAX_LINE = 100.0
MIN_AMERICAN_PRICE = 100  # American odds are never between -100 and +100
_ZONE_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_KEY = ["game_date", "player_lookup", "bookmaker", "captured_at"]


def read_lines(path: Path, known_players: Mapping[str, str] | None = None) -> ImportResult:
    """Parse a points lines CSV into ``{"prop_lines": frame}`` and row problems.

    With ``known_players`` (player_lookup → name), rows for any other player are problems.
    Raises ``InputError`` naming the file when it is missing or unreadable, lacks a required
    column or has no valid row.
    """
    path = Path(path)
    text = read_text_table(path, REQUIRED)
    checks = RowChecks(str(path), text)
    lines = _parse(text, checks)
    if known_players is not None:
        unknown = ~lines["player_lookup"].isin(set(known_players)) & (lines["player_lookup"] != "")
        checks.flag(unknown, "player is not a known player", "player_name")
    lines, duplicates = _drop_duplicates(checks.keep(lines), str(path))
    if lines.empty:
        raise InputError(f"{path}: no valid points lines among {len(text)} read")
    problems = sorted(checks.problems() + duplicates, key=lambda problem: problem.line)
    return ImportResult({"prop_lines": _prop_lines(lines)}, problems, len(text))


def _parse(text: pd.DataFrame, checks: RowChecks) -> pd.DataFrame:
    """Typed columns of every row, flagging the rows that cannot be used."""
    game_date = parse_dates(text["game_date"])
    checks.flag(game_date.isna(), "game_date is not YYYY-MM-DD", "game_date")
    lookups = player_lookups(text["player_name"])
    checks.flag(lookups == "", "player_name is missing or has no letters", "player_name")
    checks.flag(text["bookmaker"] == "", "bookmaker is missing")
    line = parse_numbers(text["line"])
    checks.flag(~line.between(0, MAX_LINE, inclusive="right"),
                f"line is not a number above 0 and at most {MAX_LINE:g}", "line")
    prices = {column: _american_price(text, column, checks)
              for column in ("over_price", "under_price")}
    captured_at = _captured_at(text, checks)
    return pd.DataFrame({"game_date": game_date, "player_lookup": lookups,
                         "bookmaker": text["bookmaker"], "line": line, **prices,
                         "captured_at": captured_at}, index=text.index)


def _american_price(text: pd.DataFrame, column: str, checks: RowChecks) -> pd.Series:
    price = parse_numbers(text[column])
    unusable = not_whole(price) | (price.abs() < MIN_AMERICAN_PRICE)
    checks.flag(unusable, f"{column} is not American odds (≤ -100 or ≥ +100)", column)
    return price


def _captured_at(text: pd.DataFrame, checks: RowChecks) -> pd.Series:
    raw = text["captured_at"]
    zoned = raw.str.contains(_ZONE_SUFFIX)
    checks.flag((raw != "") & ~zoned, "captured_at has no time zone (add Z or an offset)",
                "captured_at")
    stamps = pd.to_datetime(raw.where(zoned, ""), format="ISO8601", utc=True, errors="coerce")
    checks.flag(zoned & stamps.isna(), "captured_at is not an ISO-8601 time", "captured_at")
    checks.flag(raw == "", "captured_at is missing")
    return stamps


def _drop_duplicates(lines: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Keep the first snapshot of each key; report the repeats."""
    repeated = lines.duplicated(_KEY, keep="first")
    firsts = pd.Series(lines.index, index=lines.index).groupby(
        [lines[column] for column in _KEY], sort=False).transform("first")
    problems = [RowProblem(file, line_of(label), f"duplicate of line {line_of(first)} (same "
                           "date, player, bookmaker and captured_at)")
                for label, first in firsts[repeated].items()]
    return lines[~repeated], problems


def _prop_lines(lines: pd.DataFrame) -> pd.DataFrame:
    frame = lines.assign(market=POINTS_MARKET,
                         over_price=lines["over_price"].astype("int64"),
                         under_price=lines["under_price"].astype("int64"))
    frame = frame.sort_values(["game_date", "player_lookup", "captured_at"], kind="stable")
    return frame[list(COLUMNS["prop_lines"])].reset_index(drop=True)
