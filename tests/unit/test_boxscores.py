"""Importing real box scores: derived tables, row problems with line numbers, input errors."""

from __future__ import annotations

import csv
import time
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from tipoff.domain.analytics import COLUMNS
from tipoff.errors import InputError
from tipoff.sim.boxscores import read_boxscores

HEADER = ("season", "game_id", "game_date", "player_id", "player_name", "team", "opponent",
          "home", "starter", "position", "dnp", "comment", "min", "pts", "fgm", "fga", "fg3m",
          "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk", "tov", "pf",
          "plus_minus")
GAME = "0022300500"
DAY = date(2024, 1, 15)
ZEROS = dict(pts=0, fgm=0, fga=0, fg3m=0, fg3a=0, ftm=0, fta=0, oreb=0, dreb=0, reb=0, ast=0,
             stl=0, blk=0, tov=0, pf=0)
# Hand-worked toy game: HOM 40 points, AWY 36.
HOME_STARS = [
    dict(player_name="Home Scorer", starter=1, pts=28, fgm=10, fga=20, fg3m=2, fg3a=5, ftm=6,
         fta=8, oreb=2, reb=8, ast=5, tov=3),
    dict(player_name="Home Helper", starter=1, pts=12, fgm=5, fga=10, ftm=2, fta=2, oreb=1,
         reb=4, ast=2, tov=1),
]
AWAY_STARS = [
    dict(player_name="Away Scorer", starter=1, pts=24, fgm=8, fga=16, fg3m=4, fg3a=8, ftm=4,
         fta=4, oreb=1, reb=6, ast=3, tov=2),
    dict(player_name="Away Helper", starter=1, pts=12, fgm=6, fga=14, fg3a=1, oreb=1, reb=3,
         tov=2),
]


def box_row(**values) -> dict:
    """One box score row of the toy game (home side unless told otherwise)."""
    row = dict(season="2023-24", game_id=GAME, game_date=DAY.isoformat(), player_id="1",
               player_name="Some Player", team="HOM", opponent="AWY", home=1, starter=0,
               position="", dnp=0, comment="", min="48.0", plus_minus="0.0", **ZEROS)
    if values.get("team") == "AWY":
        row.update(opponent="HOM", home=0)
    row.update(values)
    return row


def toy_game(minutes: str = "48.0", game_id: str = GAME) -> list[dict]:
    """Five players a side; two with stats, three who played without any."""
    rows = []
    for team, stars in (("HOM", HOME_STARS), ("AWY", AWAY_STARS)):
        bench = [dict(player_name=f"{team} Bench {name}") for name in ("Ann", "Bo", "Cy")]
        rows += [box_row(team=team, game_id=game_id, min=minutes, **player)
                 for player in stars + bench]
    return rows


def write_csv(path: Path, rows: list[dict], header=HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_tipoffs(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["game_id,game_date,home,away,Start (ET)"]
    lines += [f"{game_id},{day},HOM,AWY,{start}" for game_id, day, start in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def box(tmp_path) -> Path:
    return write_csv(tmp_path / "box.csv", toy_game())


def utc(*parts: int) -> pd.Timestamp:
    return pd.Timestamp(datetime(*parts, tzinfo=timezone.utc))


# --- games and tip-offs ---------------------------------------------------------------------

def test_a_game_takes_teams_date_and_season_from_its_rows_and_tipoff_from_the_file(box, tmp_path):
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [(GAME, "2024-01-15", "7:30p")])
    result = read_boxscores([box], tipoffs)
    games = result.frames["games"]
    assert list(games.columns) == list(COLUMNS["games"])
    assert games.to_dict("records") == [dict(
        game_id=GAME, game_date=DAY, tipoff_utc=utc(2024, 1, 16, 0, 30), season="2023-24",
        season_phase="regular", home_team="HOM", away_team="AWY")]
    assert result.problems == []


def test_without_a_tipoff_file_every_game_tips_at_seven_pm_eastern(box):
    games = read_boxscores([box]).frames["games"]
    assert games["tipoff_utc"].tolist() == [utc(2024, 1, 16, 0, 0)]


@pytest.mark.parametrize(("start", "expected"), [
    ("12:00p", utc(2024, 1, 15, 17, 0)),
    ("1:00p", utc(2024, 1, 15, 18, 0)),
    ("3:30p", utc(2024, 1, 15, 20, 30)),
    ("10:00p", utc(2024, 1, 16, 3, 0)),
    ("11:30a", utc(2024, 1, 15, 16, 30)),
])
def test_tipoff_times_at_noon_in_the_afternoon_and_at_night_are_read(box, tmp_path, start,
                                                                    expected):
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [(GAME, "2024-01-15", start)])
    assert read_boxscores([box], tipoffs).frames["games"]["tipoff_utc"].tolist() == [expected]


def test_a_tipoff_during_daylight_saving_time_converts_with_the_summer_offset(tmp_path):
    rows = [dict(row, game_date="2024-04-10") for row in toy_game()]
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [(GAME, "2024-04-10", "7:00p")])
    games = read_boxscores([write_csv(tmp_path / "box.csv", rows)], tipoffs).frames["games"]
    assert games["tipoff_utc"].tolist() == [utc(2024, 4, 10, 23, 0)]


def test_a_game_missing_from_the_tipoff_file_is_reported_and_tips_at_seven_pm(box, tmp_path):
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [("0022300999", "2024-01-15", "7:30p")])
    result = read_boxscores([box], tipoffs)
    assert result.frames["games"]["tipoff_utc"].tolist() == [utc(2024, 1, 16, 0, 0)]
    [problem] = result.problems
    assert (problem.file, problem.line) == (str(box), 2)
    assert GAME in problem.message and "19:00 ET" in problem.message


def test_an_unreadable_tipoff_time_is_reported_with_its_line_in_the_tipoff_file(box, tmp_path):
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [("0022300001", "2024-01-15", "7:30p"),
                                                    (GAME, "2024-01-15", "19:30")])
    result = read_boxscores([box], tipoffs)
    assert [(p.file, p.line) for p in result.problems] == [(str(box), 2), (str(tipoffs), 3)]
    assert "Start (ET)" in result.problems[1].message


def test_a_tipoff_file_dated_differently_from_the_box_scores_is_reported(box, tmp_path):
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [(GAME, "2024-01-14", "7:30p")])
    result = read_boxscores([box], tipoffs)
    [problem] = result.problems
    assert (problem.file, problem.line) == (str(tipoffs), 2)
    assert result.frames["games"]["tipoff_utc"].tolist() == [utc(2024, 1, 16, 0, 30)]


def test_a_playoff_game_id_marks_the_game_as_playoffs(tmp_path):
    rows = toy_game(game_id="0042300101")
    games = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["games"]
    assert games["season_phase"].tolist() == ["playoffs"]


# --- player game logs -----------------------------------------------------------------------

def test_a_game_log_maps_the_box_score_columns_and_has_no_zone_split(box):
    logs = read_boxscores([box]).frames["player_game_logs"]
    assert list(logs.columns) == list(COLUMNS["player_game_logs"])
    scorer = logs[logs["player_lookup"] == "homescorer"].iloc[0]
    assert (scorer["team"], scorer["opponent"], scorer["is_home"], scorer["started"]) == (
        "HOM", "AWY", True, True)
    assert (scorer["minutes"], scorer["points"], scorer["rebounds"], scorer["assists"]) == (
        48.0, 28, 8, 5)
    assert (scorer["fga"], scorer["fgm"], scorer["fg3a"], scorer["fg3m"], scorer["fta"],
            scorer["ftm"]) == (20, 10, 5, 2, 8, 6)
    assert logs["paint_fga"].isna().all() and logs["mid_fga"].isna().all()
    assert str(logs["paint_fga"].dtype) == "Int64"
    assert logs["game_date"].tolist() == [DAY] * 10


def test_only_players_who_played_get_a_game_log(tmp_path):
    rows = toy_game() + [
        box_row(player_name="Sat Out", dnp=1, comment="DNP - Coach's Decision", min=""),
        box_row(player_name="Zero Minutes", min="0.0"),
    ]
    logs = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["player_game_logs"]
    assert len(logs) == 10
    assert not {"satout", "zerominutes"} & set(logs["player_lookup"])


def test_accented_names_get_an_ascii_lookup_and_keep_their_spelling(tmp_path):
    rows = toy_game()
    rows[2]["player_name"] = "Nikola Jokić"
    rows[3]["player_name"] = "Kristaps Porziņģis"
    logs = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["player_game_logs"]
    named = dict(zip(logs["player_lookup"], logs["player_name"]))
    assert named["nikolajokic"] == "Nikola Jokić"
    assert named["kristapsporzingis"] == "Kristaps Porziņģis"


# --- team game stats ------------------------------------------------------------------------

def test_team_stats_match_the_formulas_worked_by_hand(box):
    stats = read_boxscores([box]).frames["team_game_stats"].set_index("team")
    # HOM: 30 FGA + 0.44·10 FTA − 3 OREB + 4 TOV = 35.4; AWY: 30 + 0.44·4 − 2 + 4 = 33.76.
    possessions = (35.4 + 33.76) / 2
    assert stats.loc["HOM", "pace"] == pytest.approx(possessions)
    assert stats.loc["AWY", "pace"] == pytest.approx(possessions)
    assert stats.loc["HOM", "off_rating"] == pytest.approx(100 * 40 / possessions)
    assert stats.loc["HOM", "def_rating"] == pytest.approx(100 * 36 / possessions)
    assert stats.loc["AWY", "off_rating"] == pytest.approx(100 * 36 / possessions)
    assert stats.loc["AWY", "def_rating"] == pytest.approx(100 * 40 / possessions)
    assert stats["won"].to_dict() == {"HOM": True, "AWY": False}
    assert stats["game_date"].tolist() == [DAY, DAY]


def test_overtime_is_read_from_team_minutes_and_lowers_the_pace(tmp_path):
    stats = read_boxscores([write_csv(tmp_path / "box.csv", toy_game("53.0"))])
    pace = stats.frames["team_game_stats"]["pace"]
    assert pace.tolist() == pytest.approx([48 * 34.58 / 53] * 2)


def test_rounded_minutes_do_not_change_the_game_length(tmp_path):
    rows = toy_game("48.0")
    rows[0]["min"] = "47.98"
    stats = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["team_game_stats"]
    assert stats["pace"].tolist() == pytest.approx([34.58, 34.58])


def test_a_game_with_rows_for_one_team_only_gets_no_team_stats(tmp_path):
    rows = [row for row in toy_game() if row["team"] == "HOM"]
    result = read_boxscores([write_csv(tmp_path / "box.csv", rows)])
    assert result.frames["team_game_stats"].empty
    assert len(result.frames["games"]) == 1
    [problem] = result.problems
    assert problem.line == 2 and "one team only" in problem.message


def test_a_game_with_a_rejected_row_gets_no_team_stats(tmp_path):
    other = toy_game(game_id="0022300501")
    rows = toy_game() + other
    rows[1]["pts"] = "x"
    result = read_boxscores([write_csv(tmp_path / "box.csv", rows)])
    assert set(result.frames["team_game_stats"]["game_id"]) == {"0022300501"}
    assert [(p.line, "no team stats" in p.message) for p in result.problems] == [
        (2, True), (3, False)]


# --- injury reports -------------------------------------------------------------------------

def test_a_dnp_with_an_injury_comment_becomes_an_out_report_two_hours_before_tipoff(tmp_path):
    rows = toy_game() + [box_row(player_name="Hurt Player", dnp=1, min="",
                                 comment="DND - Injury/Illness")]
    tipoffs = write_tipoffs(tmp_path / "tips.csv", [(GAME, "2024-01-15", "7:30p")])
    reports = read_boxscores([write_csv(tmp_path / "box.csv", rows)], tipoffs).frames[
        "injury_reports"]
    assert list(reports.columns) == list(COLUMNS["injury_reports"])
    assert reports.to_dict("records") == [dict(
        game_date=DAY, player_lookup="hurtplayer", status="out",
        reported_at=utc(2024, 1, 15, 22, 30))]


@pytest.mark.parametrize(("comment", "reported"), [
    ("DNP - Injury/Illness", True),
    ("DND - Injury/Illness", True),
    ("NWT - Injury/Illness", True),
    ("NWT - Not With Team", True),
    ("NWT - Personal", True),
    ("NWT - Trade Pending", True),
    ("NWT - League Suspension", True),
    ("DND_LEAGUE_SUSPENSION", True),
    ("NWT_TEAM_SUSPENSION", True),
    ("DND-Return to Competition Reconditioning", True),
    ("DNP - Concussion Protocol", True),
    ("NWT - Health and Safety Protocols", True),
    ("DND - Rest", True),
    ("DNP - Personal", True),
    ("DNP - Coach's Decision", False),
    ("DND - Coach's Decision", False),
    ("", False),
])
def test_only_absences_known_before_tipoff_become_out_reports(tmp_path, comment, reported):
    rows = toy_game() + [box_row(player_name="Bench Guy", dnp=1, min="", comment=comment)]
    reports = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["injury_reports"]
    assert (len(reports) == 1) is reported


def test_an_injury_comment_on_a_player_who_played_is_not_a_report(tmp_path):
    rows = toy_game()
    rows[2]["comment"] = "DNP - Injury/Illness"
    reports = read_boxscores([write_csv(tmp_path / "box.csv", rows)]).frames["injury_reports"]
    assert reports.empty


# --- bad rows -------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "fragment"), [
    (dict(game_date="2024-13-01"), "game_date is not YYYY-MM-DD"),
    (dict(game_date="2019-01-15"), "game_date is not in the season"),
    (dict(season="2023"), "season is not YYYY-YY"),
    (dict(game_id=""), "game_id is missing"),
    (dict(player_name=""), "player_name is missing"),
    (dict(player_name="42"), "player_name is missing or has no letters"),
    (dict(team=""), "team is missing"),
    (dict(opponent="HOM"), "team and opponent are the same"),
    (dict(home="yes"), "home is not 0 or 1"),
    (dict(dnp="2"), "dnp is not 0 or 1"),
    (dict(min=""), "min is missing for a player who played"),
    (dict(min="abc"), "min is not a number"),
    (dict(min="-3"), "min is negative"),
    (dict(dnp=1, min="12"), "dnp is 1 but min is positive"),
    (dict(pts="abc"), "pts is missing or not a whole number: 'abc'"),
    (dict(ast="2.5"), "ast is missing or not a whole number"),
    (dict(ast="-1"), "ast is negative: '-1'"),
    (dict(fgm=3, fga=2, pts=6), "fgm exceeds fga"),
    (dict(ftm=3, fta=2, pts=3), "ftm exceeds fta"),
    (dict(fg3m=1, fg3a=0, fgm=1, fga=1, pts=3), "fg3m exceeds fg3a"),
    (dict(oreb=2, reb=1), "oreb exceeds reb"),
    (dict(fgm=1, fga=1, pts=5), "pts is not 2·fgm + fg3m + ftm"),
])
def test_a_bad_row_is_skipped_and_reported_with_its_line_number(tmp_path, change, fragment):
    rows = toy_game()
    rows.insert(3, box_row(**{"player_name": "Bad Row", **change}))
    path = write_csv(tmp_path / "box.csv", rows)
    result = read_boxscores([path])
    bad = [p for p in result.problems if p.line == 5]
    assert len(bad) == 1 and bad[0].file == str(path)
    assert fragment in bad[0].message
    assert "badrow" not in set(result.frames["player_game_logs"]["player_lookup"])
    assert result.rows_read == 11


def test_a_row_with_several_faults_is_reported_once_with_every_reason(tmp_path):
    rows = toy_game()
    rows[0].update(pts="x", ast="-1")
    result = read_boxscores([write_csv(tmp_path / "box.csv", rows)])
    bad = [p for p in result.problems if p.line == 2]
    assert len(bad) == 1
    assert "pts is missing" in bad[0].message and "ast is negative" in bad[0].message


def test_a_duplicate_player_row_is_reported_and_the_first_is_kept(tmp_path):
    rows = toy_game()
    rows.append(dict(rows[0], min="30.0"))
    path = write_csv(tmp_path / "box.csv", rows)
    result = read_boxscores([path])
    [problem] = result.problems
    assert problem.line == 12 and "duplicate" in problem.message and "line 2" in problem.message
    logs = result.frames["player_game_logs"]
    assert logs.loc[logs["player_lookup"] == "homescorer", "minutes"].tolist() == [48.0]


def test_a_row_that_contradicts_its_game_is_reported(tmp_path):
    rows = toy_game()
    rows[4].update(game_date="2024-01-16")
    rows[7].update(home=1)
    result = read_boxscores([write_csv(tmp_path / "box.csv", rows)])
    lines = [p.line for p in result.problems if "contradicts game" in p.message]
    assert lines == [6, 9]
    assert len(result.frames["player_game_logs"]) == 8


def test_when_the_first_row_of_a_game_is_the_odd_one_out_it_is_the_one_reported(tmp_path):
    rows = toy_game()
    rows[0].update(game_date="2024-01-14")
    result = read_boxscores([write_csv(tmp_path / "box.csv", rows)])
    assert [p.line for p in result.problems if "contradicts game" in p.message] == [2]
    assert result.frames["games"]["game_date"].tolist() == [DAY]


def test_blank_lines_keep_the_line_numbers_of_the_rows_after_them(tmp_path):
    rows = toy_game()
    rows[3]["ast"] = "-1"
    path = write_csv(tmp_path / "box.csv", rows)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(2, "")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = read_boxscores([path])
    assert [p.line for p in result.problems if "ast is negative" in p.message] == [6]
    assert result.rows_read == 10


def test_two_files_are_combined_and_a_cross_file_duplicate_names_the_other_file(tmp_path):
    first = write_csv(tmp_path / "a.csv", toy_game())
    second = write_csv(tmp_path / "b.csv", toy_game(game_id="0022300501") + [toy_game()[0]])
    result = read_boxscores([first, second])
    assert result.rows_read == 21
    assert len(result.frames["games"]) == 2
    [problem] = result.problems
    assert (problem.file, problem.line) == (str(second), 12)
    assert f"{first} line 2" in problem.message


def test_lines_and_expected_points_are_empty_frames_with_their_columns(box):
    frames = read_boxscores([box]).frames
    for name in ("prop_lines", "synthetic_expected_points"):
        assert frames[name].empty and list(frames[name].columns) == list(COLUMNS[name])


# --- input errors ---------------------------------------------------------------------------

def test_a_file_without_any_valid_row_is_an_input_error_naming_it(tmp_path):
    path = write_csv(tmp_path / "bad.csv", [box_row(pts="x"), box_row(min="")])
    with pytest.raises(InputError, match="bad.csv.*no valid box score rows"):
        read_boxscores([path])


def test_a_file_missing_columns_is_an_input_error_naming_them(tmp_path):
    header = [name for name in HEADER if name not in ("pts", "tov")]
    path = write_csv(tmp_path / "narrow.csv", toy_game(), header=header)
    with pytest.raises(InputError, match=r"narrow.csv.*pts, tov"):
        read_boxscores([path])


def test_a_missing_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match="absent.csv"):
        read_boxscores([tmp_path / "absent.csv"])


def test_a_tipoff_file_missing_its_start_column_is_an_input_error(box, tmp_path):
    tipoffs = tmp_path / "tips.csv"
    tipoffs.write_text(f"game_id,game_date\n{GAME},2024-01-15\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"tips.csv.*Start \(ET\)"):
        read_boxscores([box], tipoffs)


def test_no_files_is_an_input_error():
    with pytest.raises(InputError):
        read_boxscores([])


# --- the real data --------------------------------------------------------------------------

@pytest.mark.shared_data
def test_a_real_season_imports_quickly_with_plausible_counts(shared_data):
    started = time.perf_counter()
    result = read_boxscores([shared_data / "player_box_2023_24_regular_season.csv"],
                            shared_data / "game_tipoff_times_et.csv")
    elapsed = time.perf_counter() - started
    games = result.frames["games"]
    assert 1200 <= len(games) <= 1240
    per_team = Counter(games["home_team"]) + Counter(games["away_team"])
    assert len(per_team) == 30 and all(78 <= n <= 84 for n in per_team.values())
    assert (games["game_date"] == date(2024, 1, 15)).sum() > 0
    assert len(result.frames["team_game_stats"]) == 2 * len(games)
    assert result.frames["team_game_stats"]["pace"].between(80, 125).all()
    assert result.rows_read > 30_000 and len(result.frames["injury_reports"]) > 100
    assert "nikolajokic" in set(result.frames["player_game_logs"]["player_lookup"])
    assert elapsed < 10
