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


def import_lines_into(store: AnalyticsStore, path: Path) -> LoadReport:
    """Import points lines, matching players against the names already in the store."""
    from tipoff.sim.lines import read_lines

    logs = store.read_analytics("player_game_logs")
    known = dict(zip(logs["player_lookup"], logs["player_name"]))
    result = read_lines(path, known_players=known or None)
    written = store.replace_analytics(result.frames)
    return LoadReport(result.rows_read, written, list(result.problems))
