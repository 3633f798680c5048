"""Replay past nights in memory: the analytics read once, stage 4 and history per date.

Training and the backtest use this; each night sees exactly the slices the live path reads
(stage 4's ``input_windows``, the similarity history's ``history_window``), so a replayed night
computes what a live or backfilled night writes (stage 4 enforces the cut-off itself).
Many nights' stage 4 rows come from one pass (``feature_rows_many``, the same rows as
``feature_rows`` night by night).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from tipoff.domain.history import history_window, past_games
from tipoff.domain.stage4.builder import Stage4Inputs, build_feature_rows
from tipoff.domain.stage4.nights import build_nights
from tipoff.domain.systems import PastGame
from tipoff.domain.systems.model_inputs import LONG_WINDOW_DAYS
from tipoff.pipeline.build_features import HISTORY_WINDOW, input_windows
from tipoff.ports import AnalyticsStore

CONSENSUS = "consensus"  # the bookmaker name of a feed's consensus (median) line


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
            games=_by_date(store.read_analytics("games")),
            logs=_by_date(store.read_analytics("player_game_logs", end=end)),
            team_stats=_by_date(store.read_analytics("team_game_stats", end=end)),
            injuries=_by_date(store.read_analytics("injury_reports", end=end)),
            lines=store.read_analytics("prop_lines", end=end),
        )

    def slice(self, table: str, start: date, end: date) -> pd.DataFrame:
        """Rows of ``table`` with ``start <= game_date < end``, as the store would read them."""
        frame = {"games": self.games, "player_game_logs": self.logs,
                 "team_game_stats": self.team_stats, "injury_reports": self.injuries}[table]
        dates = frame["game_date"].to_numpy()
        first, last = dates.searchsorted(start), dates.searchsorted(end)
        return frame.iloc[first:last]

    def stage4_inputs(self, game_date: date) -> Stage4Inputs:
        """What live stage 4 reads for ``game_date`` (``build_features.load_inputs``)."""
        parts = {table: self.slice(table, *window)
                 for table, window in input_windows(game_date).items()}
        return Stage4Inputs(game_date, parts["games"], parts["player_game_logs"],
                            parts["team_game_stats"], parts["injury_reports"])

    def game_dates(self, start: date | None = None, end: date | None = None) -> list[date]:
        """Dates with games in [start, end] (inclusive)."""
        dates = sorted(set(self.games["game_date"]))
        return [d for d in dates if (start is None or d >= start) and (end is None or d <= end)]

    def feature_rows(self, game_date: date, generated_at: datetime) -> list[dict]:
        """Stage 4 for ``game_date`` as it would have run that night."""
        return build_feature_rows(self.stage4_inputs(game_date), generated_at)

    def feature_rows_many(self, dates: Sequence[date], generated_at: datetime, *,
                          hashed: bool = True) -> dict[date, list[dict]]:
        """``feature_rows`` of every date, built in one vectorised pass (the same rows; without
        their ``content_hash`` when not ``hashed``)."""
        return build_nights(self.games, self.logs, self.team_stats, self.injuries, dates,
                            generated_at, history_days=HISTORY_WINDOW.days, hashed=hashed)

    def history(self, game_date: date, players: Collection[str] | None = None, *,
                days: int = LONG_WINDOW_DAYS) -> dict[str, list[PastGame]]:
        """Each player's past games of the ``days`` before ``game_date`` (by default the year
        a live worker reads); only ``players``' when given (a player's history depends on
        their own games only)."""
        start, end = history_window(game_date)
        logs = self.slice("player_game_logs", start, end)
        if players is not None:
            logs = logs[logs["player_lookup"].isin(set(players))]
        return past_games(logs, self.slice("team_game_stats", start, end), game_date, days=days)

    def actual_points(self, game_date: date) -> dict[str, float]:
        """Points each player scored on ``game_date`` (players who played only)."""
        day = self.logs[self.logs["game_date"] == game_date]
        return dict(zip(day["player_lookup"], day["points"].astype(float)))

    def lines_on(self, game_date: date) -> pd.DataFrame:
        """Points lines captured for ``game_date``."""
        return self.lines[self.lines["game_date"] == game_date]

    def market_lines(self, game_date: date) -> dict[str, float]:
        """player → the market's line that night: the latest ``consensus`` line when the feed
        gives one, else the median of the books' latest lines."""
        frame = self.lines_on(game_date)
        if frame.empty:
            return {}
        latest = frame.sort_values("captured_at").groupby(["player_lookup", "bookmaker"],
                                                          as_index=False).last()
        consensus = latest[latest["bookmaker"] == CONSENSUS].set_index("player_lookup")["line"]
        median = latest.groupby("player_lookup")["line"].median()
        return {player: float(consensus.get(player, line)) for player, line in median.items()}


def _by_date(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by game_date (stably, so rows of one date keep the store's order)."""
    return frame.sort_values("game_date", kind="stable").reset_index(drop=True)
