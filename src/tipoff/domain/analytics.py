"""Column names of the analytics inputs (SPEC.md §3), shared by generators, importers and stores."""

from __future__ import annotations

GAMES = (
    "game_id", "game_date", "tipoff_utc", "season", "season_phase", "home_team", "away_team",
)
PLAYER_GAME_LOGS = (
    "game_id", "game_date", "player_lookup", "player_name", "team", "opponent", "is_home",
    "started", "minutes", "points", "fga", "fgm", "fg3a", "fg3m", "fta", "ftm", "paint_fga",
    "mid_fga", "rebounds", "assists",
)
TEAM_GAME_STATS = ("game_id", "team", "game_date", "pace", "off_rating", "def_rating", "won")
INJURY_REPORTS = ("game_date", "player_lookup", "status", "reported_at")
PROP_LINES = (
    "game_date", "player_lookup", "market", "bookmaker", "line", "over_price", "under_price",
    "captured_at",
)
SYNTHETIC_EXPECTED_POINTS = ("game_id", "player_lookup", "game_date", "expected_points")

COLUMNS: dict[str, tuple[str, ...]] = {
    "games": GAMES,
    "player_game_logs": PLAYER_GAME_LOGS,
    "team_game_stats": TEAM_GAME_STATS,
    "injury_reports": INJURY_REPORTS,
    "prop_lines": PROP_LINES,
    "synthetic_expected_points": SYNTHETIC_EXPECTED_POINTS,
}

INJURY_STATUSES = ("available", "probable", "questionable", "doubtful", "out")
SEASON_PHASES = ("regular", "playoffs")
POINTS_MARKET = "points"


def season_start_year(season: str) -> int:
    """``"2025-26"`` → ``2025``; raise ValueError for anything not shaped ``YYYY-YY``."""
    head, _, tail = season.partition("-")
    if not (head.isdigit() and tail.isdigit() and len(head) == 4 and len(tail) == 2):
        raise ValueError(f"invalid season {season!r}: expected YYYY-YY, e.g. 2025-26")
    if (int(head) + 1) % 100 != int(tail):
        raise ValueError(f"invalid season {season!r}: the second year must follow the first")
    return int(head)
