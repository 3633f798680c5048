"""Importing sportsbook points lines: parsing, time zones, known players, row problems."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tipoff.domain.analytics import COLUMNS
from tipoff.errors import InputError
from tipoff.sim.lines import read_lines

HEADER = "game_date,player_name,team,bookmaker,line,over_price,under_price,captured_at"
GOOD = "2024-01-15,Nikola Jokić,DEN,draftkings,26.5,-110,-110,2024-01-15T16:00:00Z"


def write_lines(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_line_becomes_a_points_prop_line_with_an_ascii_lookup(tmp_path):
    result = read_lines(write_lines(tmp_path / "lines.csv", GOOD))
    frame = result.frames["prop_lines"]
    assert list(result.frames) == ["prop_lines"]
    assert list(frame.columns) == list(COLUMNS["prop_lines"])
    assert frame.to_dict("records") == [dict(
        game_date=date(2024, 1, 15), player_lookup="nikolajokic", market="points",
        bookmaker="draftkings", line=26.5, over_price=-110, under_price=-110,
        captured_at=pd.Timestamp(datetime(2024, 1, 15, 16, 0, tzinfo=timezone.utc)))]
    assert (result.problems, result.rows_read) == ([], 1)


def test_an_offset_capture_time_is_converted_to_utc(tmp_path):
    row = GOOD.replace("2024-01-15T16:00:00Z", "2024-01-15T11:00:00-05:00")
    frame = read_lines(write_lines(tmp_path / "lines.csv", row)).frames["prop_lines"]
    assert frame["captured_at"].tolist() == [pd.Timestamp("2024-01-15T16:00:00Z")]
    assert str(frame["captured_at"].dt.tz) == "UTC"


def test_plus_prices_are_read_as_whole_american_odds(tmp_path):
    row = GOOD.replace("-110,-110", "+105,-125")
    frame = read_lines(write_lines(tmp_path / "lines.csv", row)).frames["prop_lines"]
    assert frame[["over_price", "under_price"]].values.tolist() == [[105, -125]]
    assert str(frame["over_price"].dtype) == "int64"


def test_a_capture_time_without_a_zone_is_rejected_not_guessed(tmp_path):
    naive = GOOD.replace("2024-01-15T16:00:00Z", "2024-01-15T16:00:00")
    result = read_lines(write_lines(tmp_path / "lines.csv", GOOD, naive))
    [problem] = result.problems
    assert (problem.line, problem.file) == (3, str(tmp_path / "lines.csv"))
    assert "no time zone" in problem.message
    assert len(result.frames["prop_lines"]) == 1


@pytest.mark.parametrize(("row", "fragment"), [
    (GOOD.replace("2024-01-15,", "15/01/2024,", 1), "game_date is not YYYY-MM-DD"),
    (GOOD.replace("Nikola Jokić", ""), "player_name is missing"),
    (GOOD.replace("draftkings", ""), "bookmaker is missing"),
    (GOOD.replace("26.5", "abc"), "line is not a number"),
    (GOOD.replace("26.5", "0"), "line is not a number above 0"),
    (GOOD.replace("26.5", "-3.5"), "line is not a number above 0"),
    (GOOD.replace("-110,-110", "-50,-110"), "over_price is not American odds"),
    (GOOD.replace("-110,-110", "-110,evens"), "under_price is not American odds"),
    (GOOD.replace("-110,-110", "-110.5,-110"), "over_price is not American odds"),
    (GOOD.replace("2024-01-15T16:00:00Z", "yesterday"), "captured_at has no time zone"),
    (GOOD.replace("2024-01-15T16:00:00Z", "2024-01-15T25:00:00Z"), "captured_at is not an ISO"),
    (GOOD.replace("2024-01-15T16:00:00Z", ""), "captured_at is missing"),
])
def test_a_bad_line_row_is_skipped_and_reported_with_its_line_number(tmp_path, row, fragment):
    murray = GOOD.replace("Nikola Jokić", "Jamal Murray")
    path = write_lines(tmp_path / "lines.csv", murray, murray.replace("draftkings", "fanduel"), row)
    result = read_lines(path)
    [problem] = result.problems
    assert problem.line == 4 and fragment in problem.message
    assert len(result.frames["prop_lines"]) == 2 and result.rows_read == 3


def test_with_known_players_an_unknown_player_is_a_problem(tmp_path):
    stranger = GOOD.replace("Nikola Jokić", "Nobody Known")
    result = read_lines(write_lines(tmp_path / "lines.csv", GOOD, stranger),
                        known_players={"nikolajokic": "Nikola Jokić"})
    [problem] = result.problems
    assert problem.line == 3 and "Nobody Known" in problem.message
    assert result.frames["prop_lines"]["player_lookup"].tolist() == ["nikolajokic"]


def test_a_known_player_matches_whatever_accents_the_file_uses(tmp_path):
    plain = GOOD.replace("Nikola Jokić", "NIKOLA JOKIC")
    result = read_lines(write_lines(tmp_path / "lines.csv", plain),
                        known_players={"nikolajokic": "Nikola Jokić"})
    assert result.problems == []


def test_a_repeated_snapshot_is_reported_and_the_first_is_kept(tmp_path):
    repeat = GOOD.replace("26.5", "27.5")
    later = GOOD.replace("16:00:00Z", "17:00:00Z").replace("26.5", "27.5")
    result = read_lines(write_lines(tmp_path / "lines.csv", GOOD, later, repeat))
    [problem] = result.problems
    assert problem.line == 4 and "duplicate of line 2" in problem.message
    assert result.frames["prop_lines"]["line"].tolist() == [26.5, 27.5]


def test_the_team_column_is_optional(tmp_path):
    header = HEADER.replace("team,", "")
    row = GOOD.replace("DEN,", "")
    result = read_lines(write_lines(tmp_path / "lines.csv", row, header=header))
    assert len(result.frames["prop_lines"]) == 1


def test_a_file_missing_columns_is_an_input_error_naming_them(tmp_path):
    header = HEADER.replace(",captured_at", "")
    path = write_lines(tmp_path / "lines.csv", GOOD.rsplit(",", 1)[0], header=header)
    with pytest.raises(InputError, match="lines.csv.*captured_at"):
        read_lines(path)


def test_a_file_without_any_valid_row_is_an_input_error(tmp_path):
    path = write_lines(tmp_path / "lines.csv", GOOD.replace("26.5", "x"))
    with pytest.raises(InputError, match="lines.csv.*no valid points lines"):
        read_lines(path)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nowhere.csv"):
        read_lines(tmp_path / "nowhere.csv")


def test_a_header_only_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="lines.csv"):
        read_lines(write_lines(tmp_path / "lines.csv"))
