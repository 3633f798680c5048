"""Tip-off times of imported games, from the optional ``game_tipoff_times_et.csv`` file.

The file has one row per game (``TIPOFF_COLUMNS``) with the start as an Eastern wall-clock time
such as ``7:30p``. A game the file does not list tips at 19:00 ET; a file date that disagrees
with the box scores is reported and the box score date kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from tipoff.domain.dates import eastern_instant
from tipoff.errors import InputError
from tipoff.sim.csvrows import RowChecks, RowProblem, parse_dates, parse_numbers, read_text_table

TIPOFF_COLUMNS = ("game_id", "game_date", "Start (ET)")
DEFAULT_TIPOFF_ET = (19, 0)
_CLOCK = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<half>[ap])\.?m?\.?$",
                    re.IGNORECASE)


def tipoff_instants(firsts: pd.DataFrame,
                    tipoffs: Path | None) -> tuple[pd.Series, list[RowProblem]]:
    """Tip-off instant (UTC) of each game in ``firsts``; 19:00 ET where none is known.

    ``firsts`` has one box score row per game (game_id, game_date, source_file, source_line).
    """
    hours = pd.Series(DEFAULT_TIPOFF_ET[0], index=firsts.index)
    minutes = pd.Series(DEFAULT_TIPOFF_ET[1], index=firsts.index)
    problems: list[RowProblem] = []
    if tipoffs is not None:
        clocks, problems = _read_tipoffs(tipoffs)
        listed = firsts["game_id"].isin(clocks.index)
        found = clocks.loc[firsts.loc[listed, "game_id"]]
        hours[listed], minutes[listed] = found["hour"].to_numpy(), found["minute"].to_numpy()
        problems += _unlisted_games(firsts[~listed], tipoffs)
        problems += _date_mismatches(firsts[listed], found, tipoffs)
    instants = [eastern_instant(day, int(hour), int(minute))
                for day, hour, minute in zip(firsts["game_date"], hours, minutes)]
    return pd.Series(pd.to_datetime(instants, utc=True), index=firsts.index), problems


def _read_tipoffs(path: Path) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Valid tip-off rows indexed by game_id (hour, minute, game_date, line) and problems."""
    text = read_text_table(path, TIPOFF_COLUMNS)
    checks = RowChecks(str(path), text)
    clock = text["Start (ET)"].str.extract(_CLOCK)
    hour, minute = parse_numbers(clock["hour"]), parse_numbers(clock["minute"])
    checks.flag(~hour.between(1, 12) | ~minute.between(0, 59),
                "Start (ET) is not a time like 7:30p", "Start (ET)")
    game_date = parse_dates(text["game_date"])
    checks.flag(game_date.isna(), "game_date is not YYYY-MM-DD", "game_date")
    checks.flag(text["game_id"] == "", "game_id is missing")
    checks.flag((text["game_id"] != "") & text["game_id"].duplicated(),
                "game_id is listed on an earlier line", "game_id")
    afternoon = clock["half"].str.lower() == "p"
    clocks = pd.DataFrame({"game_id": text["game_id"], "hour": hour % 12 + 12 * afternoon,
                           "minute": minute, "game_date": game_date, "line": text.index + 2})
    clocks = checks.keep(clocks)
    if clocks.empty:
        raise InputError(f"{path}: no valid tip-off rows among {len(text)} read")
    return clocks.set_index("game_id"), checks.problems()


def _unlisted_games(firsts: pd.DataFrame, tipoffs: Path) -> list[RowProblem]:
    return [RowProblem(file, line, f"game {game_id} is not in {tipoffs}; tip-off assumed "
                       f"{DEFAULT_TIPOFF_ET[0]}:{DEFAULT_TIPOFF_ET[1]:02d} ET")
            for game_id, file, line
            in zip(firsts["game_id"], firsts["source_file"], firsts["source_line"])]


def _date_mismatches(firsts: pd.DataFrame, found: pd.DataFrame, tipoffs: Path) -> list[RowProblem]:
    differs = firsts["game_date"].to_numpy() != found["game_date"].to_numpy()
    return [RowProblem(str(tipoffs), int(line), f"game {game_id} is dated {listed} here but "
                       f"{played} in the box scores; the box score date is used")
            for game_id, listed, played, line in zip(
                found.index[differs], found["game_date"][differs],
                firsts["game_date"][differs], found["line"][differs])]
