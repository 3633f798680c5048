"""The synthetic league: deterministic, shaped like the analytics inputs, and basketball-like."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tipoff.domain.analytics import COLUMNS, INJURY_STATUSES
from tipoff.domain.dates import EASTERN, UTC
from tipoff.domain.players import player_lookup
from tipoff.sim.league.season import generate_league

SEASON, SEED = "2025-26", 7
COUNTS = ("points", "fga", "fgm", "fg3a", "fg3m", "fta", "ftm", "paint_fga", "mid_fga",
          "rebounds", "assists")


@pytest.fixture(scope="module")
def league() -> dict[str, pd.DataFrame]:
    return generate_league(SEASON, SEED)


@pytest.fixture(scope="module")
def logs(league) -> pd.DataFrame:
    return league["player_game_logs"]


@pytest.fixture(scope="module")
def team_days(league) -> pd.DataFrame:
    games = league["games"]
    sides = [games[["game_date", side]].rename(columns={side: "team"})
             for side in ("home_team", "away_team")]
    return pd.concat(sides, ignore_index=True).sort_values(["team", "game_date"])


def assert_leagues_equal(one: dict[str, pd.DataFrame], other: dict[str, pd.DataFrame]) -> None:
    assert list(one) == list(other)
    for name in one:
        pd.testing.assert_frame_equal(one[name], other[name], obj=name)


# --- determinism and shape --------------------------------------------------------------------

def test_same_seed_gives_an_identical_league(league):
    assert_leagues_equal(generate_league(SEASON, SEED), league)


def test_a_different_seed_gives_a_different_league(league):
    other = generate_league(SEASON, SEED + 1)
    assert not other["games"].equals(league["games"])
    assert not other["player_game_logs"].equals(league["player_game_logs"])


def test_every_table_has_exactly_the_analytics_columns_in_order(league):
    assert list(league) == list(COLUMNS)
    for name, frame in league.items():
        assert tuple(frame.columns) == COLUMNS[name], name


def test_values_have_the_store_types(league, logs):
    games = league["games"]
    assert all(type(day) is date for day in games["game_date"])
    assert all(type(day) is date for day in logs["game_date"])
    for name, column in (("games", "tipoff_utc"), ("injury_reports", "reported_at"),
                         ("prop_lines", "captured_at")):
        assert str(league[name][column].dt.tz) == "UTC", name
    assert logs["is_home"].dtype == bool and logs["started"].dtype == bool
    assert league["team_game_stats"]["won"].dtype == bool
    assert all(pd.api.types.is_integer_dtype(logs[column]) for column in COUNTS)
    assert league["prop_lines"]["over_price"].dtype.kind == "i"


def test_an_invalid_season_raises_value_error():
    for season in ("2025", "2025-27", "25-26", "abcd-ef", "2025/26"):
        with pytest.raises(ValueError):
            generate_league(season, SEED)


def test_a_negative_seed_raises_value_error():
    with pytest.raises(ValueError):
        generate_league(SEASON, -1)


def test_other_seasons_are_generated_too():
    games = generate_league("2023-24", SEED)["games"]
    assert games["game_date"].min() == date(2023, 10, 24)
    assert games["season"].eq("2023-24").all()


# --- schedule -----------------------------------------------------------------------------------

def test_a_season_has_1230_games_with_82_per_team_and_41_at_home(league):
    games = league["games"]
    assert len(games) == 1230
    assert games["game_id"].is_unique
    assert games["home_team"].value_counts().eq(41).all()
    assert games["away_team"].value_counts().eq(41).all()
    assert games["home_team"].nunique() == 30
    assert (games["home_team"] != games["away_team"]).all()
    assert games["season_phase"].eq("regular").all() and games["season"].eq(SEASON).all()


def test_the_season_runs_from_a_late_october_tuesday_to_mid_april(league):
    days = league["games"]["game_date"]
    assert days.min() == date(2025, 10, 21) and days.min().weekday() == 1
    assert date(2026, 4, 8) <= days.max() <= date(2026, 4, 18)


def test_nightly_game_counts_stay_within_1_to_15_and_follow_the_week(league):
    nightly = league["games"].groupby("game_date").size()
    assert nightly.between(1, 15).all()
    by_weekday = nightly.groupby([day.weekday() for day in nightly.index]).mean()
    assert by_weekday[2] > by_weekday[0] and by_weekday[2] > by_weekday[3]
    assert by_weekday[4] > by_weekday[3]
    assert nightly.std() > 1.5


def test_thanksgiving_christmas_eve_and_the_all_star_break_have_no_games(league):
    days = set(league["games"]["game_date"])
    assert not days & {date(2025, 11, 27), date(2025, 12, 24), date(2026, 2, 15)}
    assert date(2025, 12, 25) in days


def test_no_team_plays_twice_on_one_day(team_days):
    assert not team_days.duplicated(["team", "game_date"]).any()


def test_back_to_backs_happen_but_never_three_nights_in_a_row(team_days):
    ordinals = team_days.assign(day=[day.toordinal() for day in team_days["game_date"]])
    gaps = ordinals.groupby("team")["day"].diff()
    back_to_backs = (gaps == 1).groupby(ordinals["team"]).sum()
    assert 9 <= back_to_backs.mean() <= 17
    span_of_three = ordinals.groupby("team")["day"].diff(2)
    assert not (span_of_three == 2).any()


def test_tip_offs_are_evening_or_weekend_afternoon_eastern_times_on_the_game_date(league):
    games = league["games"]
    local = [instant.astimezone(EASTERN) for instant in games["tipoff_utc"]]
    assert [instant.date() for instant in local] == list(games["game_date"])
    hours = pd.Series([instant.hour + instant.minute / 60 for instant in local])
    assert hours.between(12.0, 23.0).all()
    weekend = pd.Series([instant.weekday() >= 5 for instant in local])
    assert (hours[~weekend] >= 19.0).all() and (hours[weekend] < 19.0).any()
    assert hours.between(22.0, 23.0).any()  # West Coast home games


# --- players and box scores ---------------------------------------------------------------------

def test_player_lookups_are_normalised_and_unique_per_player(logs):
    names = logs.groupby("player_lookup")["player_name"].unique()
    assert names.map(len).eq(1).all()
    assert all(key == player_lookup(name[0]) for key, name in names.items())
    assert 400 <= len(names) <= 460
    assert logs.groupby(["game_id", "team"])["player_lookup"].nunique().between(8, 15).all()


def test_box_score_counts_add_up(logs):
    assert (logs[list(COUNTS)] >= 0).all().all()
    assert (logs["fgm"] <= logs["fga"]).all()
    assert (logs["fg3m"] <= logs["fg3a"]).all() and (logs["fg3m"] <= logs["fgm"]).all()
    assert (logs["ftm"] <= logs["fta"]).all()
    assert (logs["paint_fga"] + logs["mid_fga"] + logs["fg3a"] == logs["fga"]).all()
    points = 2 * (logs["fgm"] - logs["fg3m"]) + 3 * logs["fg3m"] + logs["ftm"]
    assert (points == logs["points"]).all()


def test_each_side_has_five_starters_and_240_minutes(logs):
    sides = logs.groupby(["game_id", "team"])
    assert sides["started"].sum().eq(5).all()
    assert np.allclose(sides["minutes"].sum(), 240.0, atol=1.0)
    assert logs["minutes"].between(1.0, 44.0).all()


def test_team_game_stats_agree_with_the_players_points(league, logs):
    stats = league["team_game_stats"].set_index(["game_id", "team"])
    points = logs.groupby(["game_id", "team"])["points"].sum().reindex(stats.index)
    assert np.allclose(stats["off_rating"] * stats["pace"] / 100.0, points, atol=0.01)
    assert stats["won"].groupby(level="game_id").sum().eq(1).all()
    opponent = points.groupby(level="game_id").transform("sum") - points
    assert (stats["won"] == (points > opponent)).all()
    assert np.allclose(stats["def_rating"] * stats["pace"] / 100.0, opponent, atol=0.01)
    assert stats["pace"].between(85, 115).all()


def test_scoring_levels_look_like_the_nba(logs, league):
    team_points = logs.groupby(["game_id", "team"])["points"].sum()
    assert 105 <= team_points.mean() <= 120
    season = logs.groupby("player_lookup").agg(ppg=("points", "mean"), mpg=("minutes", "mean"))
    assert 22 <= season["ppg"].max() <= 38
    assert season["mpg"].max() <= 40
    home = league["games"].merge(league["team_game_stats"], on="game_id")
    assert 0.5 < home.loc[home["team"] == home["home_team"], "won"].mean() < 0.65


def test_points_spread_grows_with_scoring_level(logs):
    season = logs.groupby("player_lookup")["points"].agg(["mean", "std", "size"])
    regulars = season[season["size"] >= 40]
    scorers = regulars[regulars["mean"] >= 22]
    reserves = regulars[regulars["mean"].between(4, 8)]
    assert 5.5 <= scorers["std"].mean() <= 10.0
    assert 2.5 <= reserves["std"].mean() <= 5.0
    assert np.corrcoef(regulars["mean"], regulars["std"])[0, 1] > 0.8


def test_expected_points_cover_every_played_game_and_match_actual_points_on_average(league, logs):
    expected = league["synthetic_expected_points"]
    keys = ["game_id", "player_lookup"]
    both = logs.merge(expected, on=keys + ["game_date"], validate="one_to_one")
    assert len(both) == len(logs) == len(expected)
    assert abs((both["points"] - both["expected_points"]).mean()) < 0.3
    assert np.corrcoef(both["points"], both["expected_points"])[0, 1] > 0.7


def test_back_to_backs_cost_points(league, logs, team_days):
    days = team_days.assign(rest=team_days.groupby("team")["game_date"].diff())
    tired = days[days["rest"] == timedelta(days=1)].set_index(["team", "game_date"]).index
    teams = logs[["game_id", "player_lookup", "team"]]
    expected = league["synthetic_expected_points"].merge(teams)
    sides = expected.groupby(["team", "game_date"])["expected_points"].sum()
    on_back_to_back = sides.index.isin(tired)
    assert sides[on_back_to_back].mean() < sides[~on_back_to_back].mean()


def test_a_few_players_change_team_at_the_trade_deadline(logs):
    teams = logs.groupby("player_lookup")["team"].nunique()
    traded = teams[teams > 1].index
    assert 2 <= len(traded) <= 4 and teams.max() == 2
    moves = logs[logs["player_lookup"].isin(traded)].sort_values("game_date")
    switch = moves.groupby("player_lookup")["team"].apply(lambda team: (team != team.shift()).sum())
    assert switch.eq(2).all()  # one team, then the other, never back


# --- injuries and lines -------------------------------------------------------------------------

def test_injury_reports_are_filed_hours_before_tip_off(league):
    reports = league["injury_reports"]
    assert set(reports["status"]) <= set(INJURY_STATUSES) - {"available"}
    assert {"out", "doubtful", "questionable", "probable"} <= set(reports["status"])
    tipoff = reports.merge(_player_tipoffs(league), on=["game_date", "player_lookup"])
    lead = tipoff["tipoff_utc"] - tipoff["reported_at"]
    assert len(tipoff) > 500
    assert lead.between(pd.Timedelta(hours=1), pd.Timedelta(hours=8)).all()
    assert reports.groupby("game_date").size().min() >= 1


def test_players_reported_out_do_not_play(league, logs):
    out = league["injury_reports"].query("status == 'out'")
    played = out.merge(logs, on=["game_date", "player_lookup"])
    assert len(out) > 500 and played.empty


def test_doubtful_players_mostly_sit_and_probable_ones_mostly_play(league, logs):
    mpg = logs.groupby("player_lookup")["minutes"].mean()
    regulars = mpg[mpg >= 18].index  # deep-bench players also sit by the coach's decision
    reports = league["injury_reports"].query("player_lookup in @regulars")
    played = reports.merge(logs[["game_date", "player_lookup"]], how="left", indicator=True)
    rate = (played["_merge"] == "both").groupby(played["status"]).mean()
    assert rate["doubtful"] < 0.3 and rate["probable"] > 0.8
    assert 0.3 < rate["questionable"] < 0.7


def test_some_injuries_keep_a_player_out_for_several_games(league):
    out = league["injury_reports"].query("status == 'out'")
    streaks = out.groupby("player_lookup").size()
    assert (streaks >= 5).sum() >= 20


def test_lines_are_half_points_at_prices_around_minus_110(league):
    lines = league["prop_lines"]
    assert (lines["line"] % 1 == 0.5).all()
    assert lines["market"].eq("points").all()
    assert set(lines["bookmaker"]) == {"draftkings", "fanduel", "betmgm"}
    assert lines.groupby(["game_date", "player_lookup"])["bookmaker"].nunique().between(1, 3).all()
    for side in ("over_price", "under_price"):
        assert lines[side].between(-125, -105).all()
    assert not lines.duplicated(["game_date", "player_lookup", "bookmaker"]).any()


def test_lines_are_captured_hours_before_tip_off(league):
    lines = league["prop_lines"].merge(_player_tipoffs(league), on=["game_date", "player_lookup"])
    lead = lines["tipoff_utc"] - lines["captured_at"]
    assert len(lines) > 0.95 * len(league["prop_lines"])
    assert lead.between(pd.Timedelta(hours=1), pd.Timedelta(hours=6)).all()


def test_lines_only_price_rotation_players_who_are_not_ruled_out(league, logs):
    lines = league["prop_lines"]
    ruled_out = league["injury_reports"].query("status in ['out', 'doubtful']")
    assert lines.merge(ruled_out, on=["game_date", "player_lookup"]).empty
    mpg = logs.groupby("player_lookup")["minutes"].mean().reindex(lines["player_lookup"])
    assert mpg.min() >= 8.0  # a reserve is priced only on nights injuries promote him
    assert (mpg >= 18.0).mean() > 0.95
    nightly = lines.groupby("game_date")["player_lookup"].nunique()
    games = league["games"].groupby("game_date").size()
    assert (nightly / games.reindex(nightly.index)).between(6, 20).all()


def test_lines_sit_near_the_true_expected_points(league):
    lines = league["prop_lines"].merge(
        league["synthetic_expected_points"], on=["game_date", "player_lookup"]
    )
    miss = lines["line"] - lines["expected_points"]
    assert abs(miss.mean()) < 0.5
    assert (miss.abs() <= 0.35 * lines["expected_points"] + 2.0).mean() > 0.99


# --- until -------------------------------------------------------------------------------------

def test_until_gives_a_prefix_of_the_full_season(league):
    until = date(2026, 1, 15)
    known = generate_league(SEASON, SEED, until=until)
    pd.testing.assert_frame_equal(known["games"], league["games"])
    for name, keep in (("player_game_logs", "<"), ("team_game_stats", "<"),
                       ("synthetic_expected_points", "<"), ("injury_reports", "<="),
                       ("prop_lines", "<=")):
        full = league[name]
        mask = full["game_date"] < until if keep == "<" else full["game_date"] <= until
        pd.testing.assert_frame_equal(known[name], full[mask].reset_index(drop=True), obj=name)
        assert 0 < len(known[name]) < len(full)
    assert known["player_game_logs"]["game_date"].max() < until
    assert known["prop_lines"]["game_date"].max() == until


def test_until_before_opening_night_knows_only_the_schedule():
    known = generate_league(SEASON, SEED, until=date(2025, 10, 1))
    assert len(known["games"]) == 1230
    for name in COLUMNS:
        if name != "games":
            assert known[name].empty and tuple(known[name].columns) == COLUMNS[name]


def test_until_must_be_a_date_not_a_datetime():
    with pytest.raises(TypeError):
        generate_league(SEASON, SEED, until=datetime(2026, 1, 15, tzinfo=UTC))


def _player_tipoffs(league: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(game_date, player_lookup, tipoff_utc) of every game a player played."""
    played = league["player_game_logs"][["game_id", "game_date", "player_lookup"]]
    tipoffs = played.merge(league["games"][["game_id", "tipoff_utc"]], on="game_id")
    return tipoffs.drop(columns="game_id")
