"""Load analytics inputs into the store: the synthetic league and real-data imports.

Each load is one store transaction, so a failed import leaves nothing partial behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from tipoff.ports import AnalyticsStore


@dataclass(frozen=True)
class LoadReport:
    """Rows read, rows written per table, and the rows skipped with their reasons."""

    rows_read: int
    written: dict[str, int]
    problems: list = field(default_factory=list)
    matching: dict | None = None  # name matching figures of a props feed import


def _date_span(frames: dict[str, pd.DataFrame]) -> tuple[date, date] | None:
    games = frames.get("games")
    if games is None or games.empty:
        return None
    return min(games["game_date"]), max(games["game_date"])


def generate_league_into(store: AnalyticsStore, season: str, seed: int, until: date | None) -> dict[str, int]:
    """Generate a synthetic season and replace that season's dates in the store with it."""
    from tipoff.sim.league.season import generate_league

    frames = generate_league(season, seed, until=until)
    return store.replace_analytics(frames, dates=_date_span(frames))


def import_boxscores_into(store: AnalyticsStore, paths: Sequence[Path], tipoffs: Path | None) -> LoadReport:
    """Import real box scores (and tip-off times), replacing the dates they cover.

    Re-importing the same files is idempotent.
    """
    from tipoff.sim.boxscores import read_boxscores

    result = read_boxscores(list(paths), tipoffs)
    written = store.replace_analytics(result.frames, dates=_date_span(result.frames))
    return LoadReport(result.rows_read, written, list(result.problems))


LINE_FORMATS = ("auto", "lines", "props")


def import_lines_into(store: AnalyticsStore, path: Path, fmt: str = "auto") -> LoadReport:
    """Import points lines, matching players against the names already in the store.

    ``fmt``: ``lines`` (one row per bookmaker line, players by player_lookup), ``props`` (the
    wide consensus/DraftKings/FanDuel feed, names matched by `tipoff.sim.names`) or ``auto``
    (told apart by the header).
    """
    from tipoff.errors import InputError
    from tipoff.sim.csvrows import read_text_table
    from tipoff.sim.lines import read_lines
    from tipoff.sim.props_feed import is_props_feed, read_props_feed

    if fmt not in LINE_FORMATS:
        raise InputError(f"unknown lines format {fmt!r}: expected one of {', '.join(LINE_FORMATS)}")
    logs = store.read_analytics("player_game_logs")
    if fmt == "auto":
        fmt = "props" if is_props_feed(read_text_table(Path(path), ()).columns) else "lines"
    if fmt == "props":
        result, matching = read_props_feed(path, logs)
        written = store.replace_analytics(result.frames)
        return LoadReport(result.rows_read, written, list(result.problems), matching.to_dict())
    known = dict(zip(logs["player_lookup"], logs["player_name"]))
    result = read_lines(path, known_players=known or None)
    written = store.replace_analytics(result.frames)
    return LoadReport(result.rows_read, written, list(result.problems))
