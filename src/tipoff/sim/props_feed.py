"""Import the wide sportsbook props feed: one row per player-night with consensus, DraftKings
and FanDuel columns (the format of The Odds API exports in the development data).

Columns read (``REQUIRED``): game_date (ET), tip_et (HH:MM ET), game ("Away Team @ Home Team"),
player (the book's spelling), line_median, dk_line / dk_over / dk_under and fd_line / fd_over /
fd_under. Result columns (team, pts …) are ignored: only what a book knew before tip-off is read.

Each row gives up to three ``prop_lines`` rows: bookmaker ``consensus`` (the median line over
the books, priced at the standard -110 both ways because no book quoted that price),
``draftkings`` and ``fanduel`` with their American prices (a book without a line or a price is
left out). The feed does not say when a line was taken, only that it was before tip-off, so
``captured_at`` is ``CAPTURE_LEAD`` before the game's tip-off.

Players are matched to the store's ``player_lookup`` by `tipoff.sim.names`; the roster of a row
is every player whose latest game on or before that night (within ``ROSTER_DAYS``) was for one
of the game's two teams.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from tipoff.domain.analytics import COLUMNS, POINTS_MARKET
from tipoff.domain.dates import eastern_instant
from tipoff.errors import InputError
from tipoff.sim.csvrows import (
    ImportResult,
    RowChecks,
    RowProblem,
    parse_dates,
    parse_numbers,
    read_text_table,
)
from tipoff.sim.names import PlayerMatcher

REQUIRED = ("game_date", "tip_et", "game", "player", "line_median", "dk_line", "dk_over",
            "dk_under", "fd_line", "fd_over", "fd_under")
CONSENSUS, STANDARD_PRICE = "consensus", -110
BOOKS = (("draftkings", "dk"), ("fanduel", "fd"))
CAPTURE_LEAD = timedelta(hours=1)
ROSTER_DAYS = 400
DEFAULT_TIP = (19, 0)
MAX_LINE = 100.0

# Full team names (as books write them) → box score abbreviations.
TEAMS = {
    "Atlanta Hawks": "ATL", "Boston Celtics": "BOS", "Brooklyn Nets": "BKN",
    "Charlotte Hornets": "CHA", "Chicago Bulls": "CHI", "Cleveland Cavaliers": "CLE",
    "Dallas Mavericks": "DAL", "Denver Nuggets": "DEN", "Detroit Pistons": "DET",
    "Golden State Warriors": "GSW", "Houston Rockets": "HOU", "Indiana Pacers": "IND",
    "Los Angeles Clippers": "LAC", "LA Clippers": "LAC", "Los Angeles Lakers": "LAL",
    "Memphis Grizzlies": "MEM", "Miami Heat": "MIA", "Milwaukee Bucks": "MIL",
    "Minnesota Timberwolves": "MIN", "New Orleans Pelicans": "NOP", "New York Knicks": "NYK",
    "Oklahoma City Thunder": "OKC", "Orlando Magic": "ORL", "Philadelphia 76ers": "PHI",
    "Phoenix Suns": "PHX", "Portland Trail Blazers": "POR", "Sacramento Kings": "SAC",
    "San Antonio Spurs": "SAS", "Toronto Raptors": "TOR", "Utah Jazz": "UTA",
    "Washington Wizards": "WAS",
}


@dataclass(frozen=True)
class NameMatching:
    """How the feed's rows matched players: counts per step and the unmatched spellings."""

    rows: int
    matched: int
    by_method: dict[str, int]
    unmatched: dict[str, int] = field(default_factory=dict)  # "name (date, game)" → rows

    @property
    def matched_pct(self) -> float:
        return round(100.0 * self.matched / self.rows, 2) if self.rows else 100.0

    def to_dict(self) -> dict:
        return {"rows": self.rows, "matched": self.matched, "matched_pct": self.matched_pct,
                "by_method": self.by_method, "unmatched": self.unmatched}


def is_props_feed(columns) -> bool:
    """True when a header looks like this feed (rather than one row per bookmaker line)."""
    return {"line_median", "player", "game"} <= set(columns)


def read_props_feed(path: Path, logs: pd.DataFrame) -> tuple[ImportResult, NameMatching]:
    """Parse the feed into ``{"prop_lines": frame}`` with players matched against ``logs``
    (player_game_logs: player_lookup, player_name, team, game_date)."""
    path = Path(path)
    text = read_text_table(path, REQUIRED)
    checks = RowChecks(str(path), text)
    rows = _parse(text, checks)
    rows = checks.keep(rows)
    lookups, matching, unmatched = _match(rows, logs, str(path))
    rows = rows.assign(player_lookup=lookups)
    frame = _prop_lines(rows[rows["player_lookup"].notna()])
    if frame.empty:
        raise InputError(f"{path}: no points line could be matched to a known player among "
                         f"{len(text)} rows read")
    problems = sorted(checks.problems() + unmatched, key=lambda p: p.line)
    return ImportResult({"prop_lines": frame}, problems, len(text)), matching


def _parse(text: pd.DataFrame, checks: RowChecks) -> pd.DataFrame:
    game_date = parse_dates(text["game_date"])
    checks.flag(game_date.isna(), "game_date is not YYYY-MM-DD", "game_date")
    sides = text["game"].str.split(" @ ", n=1, expand=True).reindex(columns=[0, 1])
    away, home = sides[0].map(TEAMS), sides[1].map(TEAMS)
    checks.flag(away.isna() | home.isna(), "game is not 'Away Team @ Home Team' with known "
                "team names", "game")
    checks.flag(text["player"] == "", "player is missing")
    numbers = {c: parse_numbers(text[c]) for c in REQUIRED if c.endswith(("line", "over",
                                                                          "under", "median"))}
    any_line = pd.concat([numbers[c] for c in ("line_median", "dk_line", "fd_line")], axis=1)
    checks.flag(~any_line.gt(0).any(axis=1) | any_line.gt(MAX_LINE).any(axis=1),
                f"no line above 0 and at most {MAX_LINE:g}")
    captured = [_captured_at(day, tip) if isinstance(day, date) else pd.NaT
                for day, tip in zip(game_date, text["tip_et"])]
    return pd.DataFrame({"game_date": game_date, "player": text["player"],
                         "game": text["game"], "away": away, "home": home,
                         "captured_at": pd.to_datetime(captured, utc=True), **numbers},
                        index=text.index)


def _captured_at(day: date, tip: str):
    try:
        hour, minute = (int(part) for part in tip.split(":"))
    except ValueError:
        hour, minute = DEFAULT_TIP
    if not (0 <= hour < 24 and 0 <= minute < 60):
        hour, minute = DEFAULT_TIP
    return eastern_instant(day, hour, minute) - CAPTURE_LEAD


def _match(rows: pd.DataFrame, logs: pd.DataFrame,
           file: str) -> tuple[pd.Series, NameMatching, list[RowProblem]]:
    known = dict(zip(logs["player_lookup"], logs["player_name"]))
    matcher = PlayerMatcher(known)
    teams_by_date = {day: _latest_teams(logs, day) for day in rows["game_date"].unique()}
    found, methods, missing, problems = {}, Counter(), Counter(), []
    for label, row in rows.iterrows():
        latest = teams_by_date[row["game_date"]]
        roster = latest.index[latest.isin([row["away"], row["home"]])]
        match = matcher.match(row["player"], roster)
        found[label] = match.player_lookup
        if match.player_lookup is None:
            missing[f"{row['player']} ({row['game']})"] += 1
            problems.append(RowProblem(file, int(label) + 2, f"player {row['player']!r} "
                                       f"matches no known player of {row['game']}"))
        else:
            methods[match.method] += 1
    matching = NameMatching(len(rows), sum(methods.values()), dict(methods), dict(missing))
    return pd.Series(found, dtype=object).reindex(rows.index), matching, problems


def _latest_teams(logs: pd.DataFrame, day: date) -> pd.Series:
    """player_lookup → team of their latest game on or before ``day`` (within ROSTER_DAYS)."""
    dates = pd.to_datetime(logs["game_date"])
    window = logs[(dates <= pd.Timestamp(day))
                  & (dates > pd.Timestamp(day) - pd.Timedelta(days=ROSTER_DAYS))]
    latest = window.sort_values("game_date").drop_duplicates("player_lookup", keep="last")
    return latest.set_index("player_lookup")["team"]


def _prop_lines(rows: pd.DataFrame) -> pd.DataFrame:
    books = [_book(rows, CONSENSUS, rows["line_median"], None, None)]
    books += [_book(rows, name, rows[f"{p}_line"], rows[f"{p}_over"], rows[f"{p}_under"])
              for name, p in BOOKS]
    frame = pd.concat(books, ignore_index=True)
    frame = frame.drop_duplicates(["game_date", "player_lookup", "bookmaker", "captured_at"])
    frame = frame.sort_values(["game_date", "player_lookup", "bookmaker"], kind="stable")
    return frame[list(COLUMNS["prop_lines"])].reset_index(drop=True)


def _book(rows: pd.DataFrame, name: str, line: pd.Series, over: pd.Series | None,
          under: pd.Series | None) -> pd.DataFrame:
    over = pd.Series(float(STANDARD_PRICE), index=rows.index) if over is None else over
    under = pd.Series(float(STANDARD_PRICE), index=rows.index) if under is None else under
    usable = line.between(0, MAX_LINE, inclusive="right") & _american(over) & _american(under)
    kept = rows[usable]
    return pd.DataFrame({"game_date": kept["game_date"], "player_lookup": kept["player_lookup"],
                         "market": POINTS_MARKET, "bookmaker": name, "line": line[usable],
                         "over_price": over[usable].astype("int64"),
                         "under_price": under[usable].astype("int64"),
                         "captured_at": kept["captured_at"]})


def _american(price: pd.Series) -> pd.Series:
    return price.notna() & (price.abs() >= 100) & (price % 1 == 0)

