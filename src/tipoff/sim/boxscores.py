"""Import real NBA player box scores as analytics frames (SPEC.md §3); nothing is written here.

From one or more box score CSVs (one row per player per game, see ``REQUIRED``) and optionally a
tip-off times file, ``read_boxscores`` derives ``games``, ``player_game_logs``,
``team_game_stats`` and ``injury_reports``. Unusable rows are skipped and reported with their
line numbers.

Derivations:

- possessions of a team ≈ FGA + 0.44·FTA − OREB + TOV; a game's possessions are the mean of
  its two teams' estimates, so both teams share one pace;
- pace = 48 · possessions / game minutes, where the game length (48, plus 5 per overtime) is
  the team minutes / 5 snapped to whole periods, because box score minutes are rounded;
- off / def rating = 100 · points scored / allowed ÷ possessions;
- a DNP whose comment names an absence the league announces before tip-off (injury, illness,
  not with team, rest, personal, suspension …) becomes an ``out`` report two hours before
  tip-off. A coach's decision is taken during the game, so it is not a report;
- ``season_phase`` is ``playoffs`` for NBA game ids starting ``004``, else ``regular``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from tipoff.domain.analytics import COLUMNS, season_start_year
from tipoff.errors import InputError
from tipoff.sim.csvrows import (
    ImportResult,
    RowChecks,
    RowProblem,
    empty_frame,
    not_whole,
    parse_flags,
    parse_numbers,
    player_lookups,
    read_text_table,
)
from tipoff.sim.tipoffs import tipoff_instants

__all__ = ["ImportResult", "RowProblem", "read_boxscores", "REQUIRED", "PRE_GAME_ABSENCES"]

COUNTS = ("pts", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "reb", "ast", "tov")
REQUIRED = ("season", "game_id", "game_date", "player_name", "team", "opponent", "home",
            "starter", "dnp", "comment", "min", *COUNTS)
# (part, whole): the part can never exceed the whole.
_BOUNDS = (("fgm", "fga"), ("fg3m", "fg3a"), ("ftm", "fta"), ("fg3a", "fga"),
           ("fg3m", "fgm"), ("oreb", "reb"))
REPORT_LEAD = timedelta(hours=2)
REGULATION_MINUTES = 48
OVERTIME_MINUTES = 5

# Reasons the league lists on its pre-game injury report (word matches, lower case). NWT
# ("not with team") comments are absences whatever reason follows.
PRE_GAME_ABSENCES = ("injury", "illness", "concussion", "reconditioning", "health and safety",
                     "not with team", "personal", "rest", "suspension", "trade pending")
_ABSENCE_WORDS = re.compile(r"\b(?:" + "|".join(PRE_GAME_ABSENCES) + r")\b")
_DNP_CODE = re.compile(r"^(?:DNP|DND|NWT)[\s_\-]*", re.IGNORECASE)


@dataclass(frozen=True)
class _FileRows:
    rows: pd.DataFrame
    problems: list[RowProblem]
    rows_read: int
    rejected_games: Counter


def read_boxscores(paths: Sequence[Path], tipoffs: Path | None = None) -> ImportResult:
    """Parse box score CSVs (and tip-off times) into analytics frames and row problems.

    Raises ``InputError`` naming the file when a file is missing or unreadable, lacks a
    required column or has no valid row. Without ``tipoffs`` every game tips at 19:00 ET.
    """
    if not paths:
        raise InputError("no box score files given")
    parts = [_read_file(Path(path)) for path in paths]
    problems = [problem for part in parts for problem in part.problems]
    rejected = sum((part.rejected_games for part in parts), Counter())
    rows, found = _drop_duplicates(pd.concat([part.rows for part in parts], ignore_index=True))
    problems += found
    rows, found, dropped = _drop_disagreeing_rows(rows)
    problems += found
    rejected += dropped
    firsts = rows.drop_duplicates("game_id")
    tipoff_utc, found = tipoff_instants(firsts, tipoffs)
    problems += found
    team_stats, found = _team_game_stats(rows, firsts, rejected)
    problems += found
    games = _games(firsts, tipoff_utc)
    frames = {
        "games": games,
        "player_game_logs": _player_game_logs(rows),
        "team_game_stats": team_stats,
        "injury_reports": _injury_reports(rows, games),
        "prop_lines": empty_frame(COLUMNS["prop_lines"]),
        "synthetic_expected_points": empty_frame(COLUMNS["synthetic_expected_points"]),
    }
    rows_read = sum(part.rows_read for part in parts)
    return ImportResult(frames, sorted(problems, key=lambda p: (p.file, p.line)), rows_read)


# --- one file ------------------------------------------------------------------------------

def _read_file(path: Path) -> _FileRows:
    text = read_text_table(path, REQUIRED)
    checks = RowChecks(str(path), text)
    rows = pd.DataFrame({**_identity_columns(text, checks), **_stat_columns(text, checks)},
                        index=text.index)
    valid = checks.keep(rows)
    if valid.empty:
        raise InputError(f"{path}: no valid box score rows among {len(text)} read")
    valid = _typed(valid).assign(source_file=str(path), source_line=valid.index + 2)
    rejected_ids = text.loc[checks.rejected, "game_id"]
    return _FileRows(valid, checks.problems(), len(text), Counter(rejected_ids[rejected_ids != ""]))


def _identity_columns(text: pd.DataFrame, checks: RowChecks) -> dict[str, pd.Series]:
    """Season, game, player and team columns, flagging rows where they are unusable."""
    season_year = text["season"].map(_season_years(text["season"]))
    checks.flag(season_year.isna(), "season is not YYYY-YY", "season")
    stamps = pd.to_datetime(text["game_date"], format="%Y-%m-%d", errors="coerce")
    checks.flag(stamps.isna(), "game_date is not YYYY-MM-DD", "game_date")
    outside = stamps.notna() & season_year.notna() & ~(stamps.dt.year - season_year).isin([0, 1])
    checks.flag(outside, "game_date is not in the season", "game_date")
    lookups = player_lookups(text["player_name"])
    checks.flag(lookups == "", "player_name is missing or has no letters", "player_name")
    for column in ("game_id", "team", "opponent"):
        checks.flag(text[column] == "", f"{column} is missing")
    checks.flag((text["team"] != "") & (text["team"] == text["opponent"]),
                "team and opponent are the same", "team")
    flags = {column: parse_flags(text[column]) for column in ("home", "starter", "dnp")}
    for column, values in flags.items():
        checks.flag(values.isna(), f"{column} is not 0 or 1", column)
    return {"season": text["season"], "game_id": text["game_id"], "game_date": stamps.dt.date,
            "player_lookup": lookups, "player_name": text["player_name"], "team": text["team"],
            "opponent": text["opponent"], "is_home": flags["home"],
            "started": flags["starter"], "dnp": flags["dnp"], "comment": text["comment"]}


def _stat_columns(text: pd.DataFrame, checks: RowChecks) -> dict[str, pd.Series]:
    """Minutes and counting stats, flagging missing, negative or impossible values."""
    did_not_play = parse_flags(text["dnp"]).eq(True)
    minutes = parse_numbers(text["min"])
    checks.flag(~did_not_play & (text["min"] == ""), "min is missing for a player who played")
    checks.flag((text["min"] != "") & minutes.isna(), "min is not a number", "min")
    checks.flag(minutes < 0, "min is negative", "min")
    checks.flag(did_not_play & (minutes > 0), "dnp is 1 but min is positive", "min")
    counts = {column: parse_numbers(text[column]) for column in COUNTS}
    for column, values in counts.items():
        checks.flag(not_whole(values), f"{column} is missing or not a whole number", column)
        checks.flag(values < 0, f"{column} is negative", column)
    for part, whole in _BOUNDS:
        checks.flag(counts[part] > counts[whole], f"{part} exceeds {whole}")
    scored = 2 * counts["fgm"] + counts["fg3m"] + counts["ftm"]
    checks.flag(scored.notna() & counts["pts"].notna() & (counts["pts"] != scored),
                "pts is not 2·fgm + fg3m + ftm", "pts")
    return {"minutes": minutes.fillna(0.0), **counts}


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Valid rows with bool flags and integer counts."""
    flags = {column: rows[column].astype(bool) for column in ("is_home", "started", "dnp")}
    counts = {column: rows[column].astype("int64") for column in COUNTS}
    return rows.assign(**flags, **counts)


def _season_years(seasons: pd.Series) -> dict[str, float]:
    years = {}
    for season in seasons.unique():
        try:
            years[season] = float(season_start_year(season))
        except ValueError:
            years[season] = np.nan
    return years


# --- across files --------------------------------------------------------------------------

def _where(file: str, other_file: str, other_line: int) -> str:
    return f"line {other_line}" if file == other_file else f"{other_file} line {other_line}"


def _drop_duplicates(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Keep the first row of each (game, player); report the others."""
    key = ["game_id", "player_lookup"]
    repeated = rows.duplicated(key, keep="first")
    origin = rows.groupby(key, sort=False)[["source_file", "source_line"]].transform("first")
    problems = [
        RowProblem(row.source_file, row.source_line, f"duplicate row for {row.player_name} in "
                   f"game {row.game_id} (first on {_where(row.source_file, file, line)})")
        for row, file, line in zip(rows[repeated].itertuples(),
                                   origin.loc[repeated, "source_file"],
                                   origin.loc[repeated, "source_line"])
    ]
    return rows[~repeated], problems


def _drop_disagreeing_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem], Counter]:
    """Drop rows whose date, season or teams contradict what most rows of their game say.

    Returns the agreeing rows (with home_team and away_team), one problem per dropped row and
    the number of dropped rows per game.
    """
    claims = rows.assign(home_team=rows["team"].where(rows["is_home"], rows["opponent"]),
                         away_team=rows["opponent"].where(rows["is_home"], rows["team"]))
    facts = ["game_date", "season", "home_team", "away_team"]
    support = claims.groupby(["game_id", *facts], sort=False)["source_line"].transform("size")
    # The most supported version of each game wins; ties go to the earliest row.
    consensus = claims.assign(support=support).sort_values("support", ascending=False,
                                                           kind="stable")
    consensus = consensus.drop_duplicates("game_id").set_index("game_id")
    expected = consensus.loc[claims["game_id"], facts].set_axis(claims.index)
    agrees = (claims[facts] == expected).all(axis=1)
    problems = [_disagreement(row, consensus.loc[row.game_id])
                for row in claims[~agrees].itertuples()]
    return claims[agrees], problems, Counter(rows.loc[~agrees, "game_id"])


def _disagreement(row, game: pd.Series) -> RowProblem:
    """The problem of a row that contradicts its game, naming what differs."""
    differences = [f"{fact} {getattr(row, fact)}" for fact in ("game_date", "season")
                   if getattr(row, fact) != game[fact]]
    if (row.home_team, row.away_team) != (game["home_team"], game["away_team"]):
        differences.append(f"{row.team} against {row.opponent} with home={int(row.is_home)}")
    where = _where(row.source_file, game["source_file"], game["source_line"])
    return RowProblem(row.source_file, row.source_line, (
        f"contradicts game {row.game_id}, {game['away_team']} at {game['home_team']} on "
        f"{game['game_date']} ({game['season']}) as most of its rows say (e.g. {where}): "
        f"{'; '.join(differences)}"))


# --- derived tables ------------------------------------------------------------------------

def _games(firsts: pd.DataFrame, tipoff_utc: pd.Series) -> pd.DataFrame:
    playoffs = firsts["game_id"].str.startswith("004")
    games = firsts.assign(tipoff_utc=tipoff_utc,
                          season_phase=playoffs.map({True: "playoffs", False: "regular"}))
    return _by_date(games, COLUMNS["games"])


def _player_game_logs(rows: pd.DataFrame) -> pd.DataFrame:
    played = rows[~rows["dnp"] & (rows["minutes"] > 0)]
    no_zones = pd.array([pd.NA] * len(played), dtype="Int64")
    logs = played.rename(columns={"pts": "points", "reb": "rebounds", "ast": "assists"})
    logs = logs.assign(paint_fga=no_zones, mid_fga=no_zones)
    return _by_date(logs, COLUMNS["player_game_logs"])


def _by_date(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    ordered = frame.sort_values(["game_date", "game_id"], kind="stable")
    return ordered[list(columns)].reset_index(drop=True)


def _is_pre_game_absence(comment: str) -> bool:
    """True for DNP comments the league would have announced before tip-off."""
    if comment.upper().startswith("NWT"):
        return True
    reason = _DNP_CODE.sub("", comment).replace("_", " ").lower()
    return bool(_ABSENCE_WORDS.search(reason))


def _injury_reports(rows: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    comments = rows["comment"]
    absent = comments.map({text: _is_pre_game_absence(text) for text in comments.unique()})
    outs = rows[rows["dnp"] & absent]
    tipoff = outs["game_id"].map(games.set_index("game_id")["tipoff_utc"])
    reports = pd.DataFrame({"game_date": outs["game_date"], "player_lookup": outs["player_lookup"],
                            "status": "out", "reported_at": tipoff - REPORT_LEAD})
    reports = reports.drop_duplicates(["game_date", "player_lookup", "reported_at"])
    return reports.sort_values(["game_date", "player_lookup"]).reset_index(drop=True)


def _team_game_stats(rows: pd.DataFrame, firsts: pd.DataFrame,
                     rejected: Counter) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Pace and ratings per team and game, skipping games whose rows are incomplete."""
    totals = _team_totals(rows)
    per_game = totals.groupby("game_id").agg(
        teams=("team", "size"), possessions=("possessions", "mean"),
        team_minutes=("minutes", "mean"), points=("points", "sum"))
    unusable = _unusable_games(per_game, rejected)
    kept = totals[~totals["game_id"].isin(unusable.index)]
    game = per_game.loc[kept["game_id"]]
    possessions = game["possessions"].to_numpy()
    stats = pd.DataFrame({
        "game_id": kept["game_id"].to_numpy(), "team": kept["team"].to_numpy(),
        "game_date": kept["game_date"].to_numpy(),
        "pace": REGULATION_MINUTES * possessions / _game_minutes(game["team_minutes"].to_numpy()),
        "off_rating": 100 * kept["points"].to_numpy() / possessions,
        "def_rating": 100 * (game["points"].to_numpy() - kept["points"].to_numpy()) / possessions,
        "won": kept["points"].to_numpy() * 2 > game["points"].to_numpy(),
    })
    located = firsts.set_index("game_id").loc[unusable.index]
    problems = [RowProblem(file, line, f"game {game_id}: no team stats because {reason}")
                for game_id, reason, file, line
                in zip(unusable.index, unusable, located["source_file"], located["source_line"])]
    return _by_date(stats, COLUMNS["team_game_stats"]), problems


def _team_totals(rows: pd.DataFrame) -> pd.DataFrame:
    totals = rows.groupby(["game_id", "team"], sort=False).agg(
        game_date=("game_date", "first"), points=("pts", "sum"), fga=("fga", "sum"),
        fta=("fta", "sum"), oreb=("oreb", "sum"), tov=("tov", "sum"),
        minutes=("minutes", "sum")).reset_index()
    totals["possessions"] = totals["fga"] + 0.44 * totals["fta"] - totals["oreb"] + totals["tov"]
    return totals


def _unusable_games(per_game: pd.DataFrame, rejected: Counter) -> pd.Series:
    """Why a game's team stats cannot be trusted, by game_id (games that are fine are absent)."""
    reasons = {game_id: reason for game_id, teams, possessions
               in zip(per_game.index, per_game["teams"], per_game["possessions"])
               if (reason := _unusable_reason(teams, possessions, rejected[game_id]))}
    return pd.Series(reasons, dtype=object)


def _unusable_reason(teams: int, possessions: float, rejected_rows: int) -> str | None:
    if teams != 2:
        return "it has rows for one team only"
    if rejected_rows:
        return f"{rejected_rows} of its rows were rejected"
    if possessions <= 0:
        return "its possession estimate is not positive"
    return None


def _game_minutes(team_minutes: np.ndarray) -> np.ndarray:
    """Game length in minutes: regulation plus whole overtimes, read from team minutes / 5."""
    overtimes = np.maximum(0, np.round((team_minutes / 5 - REGULATION_MINUTES) / OVERTIME_MINUTES))
    return REGULATION_MINUTES + OVERTIME_MINUTES * overtimes
