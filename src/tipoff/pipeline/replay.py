"""Replay past nights in memory: the analytics read once, stage 4 and history per date.

Training and the backtest use this; each night sees only what stage 4 would have seen (the
builder enforces the cut-off itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from tipoff.domain.history import past_games
from tipoff.domain.stage4.builder import Stage4Inputs, build_feature_rows
from tipoff.domain.systems import PastGame
from tipoff.ports import AnalyticsStore


@dataclass(frozen=True)
class Snapshot:
    """Every analytics table, loaded once."""

    games: pd.DataFrame
    logs: pd.DataFrame
    team_stats: pd.DataFrame
    injuries: pd.DataFrame
    lines: pd.DataFrame

    @classmethod
    def load(cls, store: AnalyticsStore, through: date | None = None) -> Snapshot:
        """Read the tables (results only up to ``through``, inclusive, when given)."""
        end = None if through is None else through + timedelta(days=1)
        return cls(
            games=store.read_analytics("games"),
            logs=store.read_analytics("player_game_logs", end=end),
            team_stats=store.read_analytics("team_game_stats", end=end),
            injuries=store.read_analytics("injury_reports", end=end),
            lines=store.read_analytics("prop_lines", end=end),
        )

    def game_dates(self, start: date | None = None, end: date | None = None) -> list[date]:
        """Dates with games in [start, end] (inclusive)."""
        dates = sorted(set(self.games["game_date"]))
        return [d for d in dates if (start is None or d >= start) and (end is None or d <= end)]

    def feature_rows(self, game_date: date, generated_at: datetime) -> list[dict]:
        """Stage 4 for ``game_date`` as it would have run that night."""
        injuries = self.injuries[self.injuries["game_date"] == game_date]
        return build_feature_rows(Stage4Inputs(game_date, self.games, self.logs, self.team_stats,
                                               injuries), generated_at)

    def history(self, game_date: date) -> dict[str, list[PastGame]]:
        """Every player's past games before ``game_date`` (for the similarity system)."""
        return past_games(self.logs, self.team_stats, game_date)

    def actual_points(self, game_date: date) -> dict[str, float]:
        """Points each player scored on ``game_date`` (players who played only)."""
        day = self.logs[self.logs["game_date"] == game_date]
        return dict(zip(day["player_lookup"], day["points"].astype(float)))

    def lines_on(self, game_date: date) -> pd.DataFrame:
        """Points lines captured for ``game_date``."""
        return self.lines[self.lines["game_date"] == game_date]
