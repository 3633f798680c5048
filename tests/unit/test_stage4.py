"""Stage 4 feature builder: formulas, windows and sources, readiness, leakage and determinism.

Every scenario is a tiny hand-made league: AAA (ann) hosts BBB (bob) on D, after a run of
games between the two. Expected values are worked out by hand in each test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable

import pandas as pd
import pytest

from tipoff.adapters.store.sql.schema import feature_store
from tipoff.domain import analytics
from tipoff.domain.features import DEFAULTS, FEATURE_INDEX, quality_score
from tipoff.domain.stage4.builder import Stage4Inputs, build_feature_rows
from tipoff.domain.stage4.readiness import readiness_issues

UTC = timezone.utc
D = date(2025, 12, 1)
SEASON_START = date(2025, 10, 21)
GENERATED = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
FIRST_TIP = datetime(2025, 12, 2, 0, 0, tzinfo=UTC)  # 19:00 ET on D

# A consistent box line: 2·(5−2) + 3·2 + 2 = 14 points.
LOG = dict(
    started=True, minutes=30.0, points=14, fga=10, fgm=5, fg3a=4, fg3m=2, fta=2, ftm=2,
    paint_fga=4, mid_fga=2, rebounds=5, assists=3,
)
# bob's line: 2·(4−1) + 3·1 + 2 = 11 points.
BOB = dict(LOG, points=11, fgm=4, fg3a=2, fg3m=1, paint_fga=6, mid_fga=2)
STAT = dict(pace=100.0, off_rating=110.0, def_rating=110.0)

Overrides = Callable[[int], dict]


@dataclass
class League:
    """Rows of the four analytics inputs, built game by game."""

    games: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    stats: list[dict] = field(default_factory=list)
    injuries: list[dict] = field(default_factory=list)

    def game(self, day: date, home: str = "AAA", away: str = "BBB", phase: str = "regular",
             season: str = "2025-26") -> str:
        game_id = f"{day:%Y%m%d}{away}{home}"
        tip = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=24)
        self.games.append(dict(
            game_id=game_id, game_date=day, tipoff_utc=tip, season=season, season_phase=phase,
            home_team=home, away_team=away,
        ))
        return game_id

    def _game(self, game_id: str) -> dict:
        return next(g for g in self.games if g["game_id"] == game_id)

    def log(self, game_id: str, player: str, team: str, **over) -> None:
        g = self._game(game_id)
        home = g["home_team"] == team
        opponent = g["away_team"] if home else g["home_team"]
        self.logs.append(dict(
            LOG, game_id=game_id, game_date=g["game_date"], player_lookup=player,
            player_name=player.title(), team=team, opponent=opponent, is_home=home,
        ) | over)

    def stat(self, game_id: str, team: str, **over) -> None:
        g = self._game(game_id)
        won = g["home_team"] == team
        self.stats.append(dict(STAT, game_id=game_id, team=team, game_date=g["game_date"], won=won)
                          | over)

    def injury(self, player: str, status: str, reported_at: datetime, day: date = D) -> None:
        self.injuries.append(dict(game_date=day, player_lookup=player, status=status,
                                  reported_at=reported_at))

    def inputs(self, day: date = D) -> Stage4Inputs:
        def frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
            return pd.DataFrame(rows, columns=list(columns))

        return Stage4Inputs(
            game_date=day,
            games=frame(self.games, analytics.GAMES),
            logs=frame(self.logs, analytics.PLAYER_GAME_LOGS),
            team_stats=frame(self.stats, analytics.TEAM_GAME_STATS),
            injuries=frame(self.injuries, analytics.INJURY_REPORTS),
        )

    def rows(self, day: date = D) -> dict[str, dict]:
        return {row["player_lookup"]: row for row in build_feature_rows(self.inputs(day), GENERATED)}


def nothing(k: int) -> dict:
    return {}


def days_back(n: int, every: int = 2) -> list[date]:
    """``n`` game dates before D, newest first: D−every, D−2·every, …"""
    return [D - timedelta(days=every * (k + 1)) for k in range(n)]


def base_league(
    n: int = 15,
    ann: Overrides = nothing,
    bob: Overrides = nothing,
    aaa: Overrides = nothing,
    bbb: Overrides = nothing,
    dates: list[date] | None = None,
) -> League:
    """Season opened by CCC–DDD; AAA hosts BBB on ``dates`` (k = 0 newest) and again on D."""
    league = League()
    league.game(SEASON_START, "CCC", "DDD")
    for k, day in enumerate(dates or days_back(n)):
        game_id = league.game(day)
        league.log(game_id, "ann", "AAA", **ann(k))
        league.log(game_id, "bob", "BBB", **(BOB | bob(k)))
        league.stat(game_id, "AAA", **aaa(k))
        league.stat(game_id, "BBB", **bbb(k))
    league.game(D)
    return league


def newest_first(values: list, key: str) -> Overrides:
    return lambda k: {key: values[k]} if k < len(values) else {}


def feature(row: dict, name: str) -> tuple[float, str]:
    i = FEATURE_INDEX[name]
    return row["features"][i], row["feature_sources"][i]


# --- row shape ----------------------------------------------------------------------------


def test_rows_have_exactly_the_feature_store_columns_and_are_ordered_by_player():
    rows = build_feature_rows(base_league().inputs(), GENERATED)
    assert [r["player_lookup"] for r in rows] == ["ann", "bob"]
    assert all(set(r) == {c.name for c in feature_store.columns} for r in rows)
    ann = rows[0]
    assert (ann["game_id"], ann["team"], ann["opponent"], ann["is_home"]) == (
        "20251201BBBAAA", "AAA", "BBB", True)
    assert ann["game_date"] == D and ann["feature_version"] == "v1_25"
    assert ann["feature_generated_at"] == ann["created_at"] == GENERATED
    assert len(ann["features"]) == len(ann["feature_sources"]) == 25
    assert all(type(v) is float for v in ann["features"])


def test_a_fully_known_player_is_computed_everywhere_and_ready():
    ann = base_league().rows()["ann"]
    assert set(ann["feature_sources"]) == {"computed"}
    assert ann["quality_score"] == 100.0
    assert ann["data_source_summary"] == {"computed": 25, "partial": 0, "default": 0}
    assert ann["is_production_ready"] and ann["data_quality_issues"] == []
    assert (ann["expected_games"], ann["actual_games"], ann["completeness_pct"]) == (10, 10, 100.0)
    assert not ann["early_season_flag"]


def test_no_games_on_the_date_gives_no_rows():
    assert base_league().rows(D + timedelta(days=1)) == {}


def test_a_naive_generation_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        build_feature_rows(base_league().inputs(), datetime(2025, 12, 1, 9))


# --- scoring windows ------------------------------------------------------------------------

POINTS = [30, 20, 10, 20, 30, 10, 10, 10, 10, 10, 40, 40]


def test_points_averages_and_spread_use_the_last_5_last_10_and_season():
    ann = base_league(12, ann=newest_first(POINTS, "points")).rows()["ann"]
    assert feature(ann, "points_avg_last_5") == (22.0, "computed")
    assert feature(ann, "points_avg_last_10") == (16.0, "computed")
    assert feature(ann, "points_avg_season") == (20.0, "computed")
    # deviations from 16: 14, 4, −6, 4, 14, −6×5 → Σ² = 640; √(640/9)
    assert feature(ann, "points_std_last_10") == (8.4327, "computed")


def test_short_windows_are_partial():
    ann = base_league(3, ann=newest_first([10, 20, 30], "points")).rows()["ann"]
    assert feature(ann, "points_avg_last_5") == (20.0, "partial")
    assert feature(ann, "points_avg_last_10") == (20.0, "partial")
    assert feature(ann, "points_avg_season") == (20.0, "partial")
    assert feature(ann, "points_std_last_10") == (10.0, "partial")


def test_the_spread_of_a_single_game_is_the_default():
    ann = base_league(1).rows()["ann"]
    assert feature(ann, "points_std_last_10") == (DEFAULTS["points_std_last_10"], "default")
    assert feature(ann, "points_avg_season") == (14.0, "partial")


def test_games_from_an_earlier_season_are_not_in_the_season_windows():
    league = base_league(10, ann=lambda k: {"points": 20})
    old = league.game(date(2025, 4, 1), season="2024-25")
    league.log(old, "ann", "AAA", points=80)
    ann = league.rows()["ann"]
    assert feature(ann, "points_avg_season") == (20.0, "computed")


def test_recent_trend_compares_the_newest_2_with_the_oldest_3_of_the_last_5():
    rising = base_league(10, ann=newest_first([17, 17, 15, 15, 15] + [15] * 5, "points"))
    # 10·(17 − 15) / max(15.4, 5)
    assert feature(rising.rows()["ann"], "recent_trend") == (1.2987, "computed")
    falling = base_league(5, ann=newest_first([2, 2, 4, 4, 4], "points"))
    # 10·(2 − 4) / max(3.2, 5) = −4, clamped
    assert feature(falling.rows()["ann"], "recent_trend") == (-2.0, "computed")


def test_recent_trend_needs_5_games():
    ann = base_league(4).rows()["ann"]
    assert feature(ann, "recent_trend") == (0.0, "default")


# --- workload -------------------------------------------------------------------------------

WEEK = [D - timedelta(days=d) for d in (1, 2, 4, 6, 7, 9)]


def test_games_in_last_7_days_and_fatigue_count_back_to_back_and_heavy_minutes():
    league = base_league(dates=WEEK, ann=newest_first([36, 34, 32], "minutes"))
    ann = league.rows()["ann"]
    assert feature(ann, "games_in_last_7_days") == (5.0, "computed")
    # 100 − 15 (played D−1) − 5·(5 − 3) − 1.5·(34 − 30)
    assert feature(ann, "fatigue_score") == (69.0, "computed")


def test_fatigue_with_fewer_than_3_games_is_partial():
    league = base_league(dates=[D - timedelta(days=3), D - timedelta(days=5)],
                         ann=lambda k: {"minutes": 40.0})
    # 100 − 1.5·(40 − 30); no back-to-back, 2 games in 7 days
    assert feature(league.rows()["ann"], "fatigue_score") == (85.0, "partial")


def test_fatigue_is_clamped_at_zero():
    dates = [D - timedelta(days=d) for d in range(1, 8)]
    league = base_league(dates=dates, ann=lambda k: {"minutes": 99.0})
    # 100 − 15 − 5·4 − 1.5·69 < 0
    assert feature(league.rows()["ann"], "fatigue_score") == (0.0, "computed")


def _usage_league(n: int) -> League:
    league = base_league(n, ann=lambda k: {"fga": 15 if k < 3 else 10, "fta": 5})
    for g in league.games[1:-1]:
        league.log(g["game_id"], "amy", "AAA", fga=10, fta=0)
    return league


def test_usage_spike_compares_the_last_3_shot_shares_with_the_season():
    ann = _usage_league(12).rows()["ann"]
    # shares (fga + 0.44·fta)/team: 17.2/27.2 (last 3), 12.2/22.2 (9 older)
    assert feature(ann, "usage_spike_score") == (1.089, "computed")


def test_usage_spike_windows_are_partial_from_3_and_default_below():
    assert feature(_usage_league(5).rows()["ann"], "usage_spike_score")[1] == "partial"
    assert feature(_usage_league(3).rows()["ann"], "usage_spike_score") == (0.0, "partial")
    assert feature(_usage_league(2).rows()["ann"], "usage_spike_score") == (0.0, "default")


def test_minutes_change_steps_at_10_and_20_percent():
    up = base_league(15, ann=lambda k: {"minutes": 36.0 if k < 10 else 24.0})
    assert feature(up.rows()["ann"], "minutes_change") == (1.0, "computed")  # 36 vs 32: +12.5%
    exact = base_league(20, ann=lambda k: {"minutes": 44.0 if k < 10 else 36.0})
    assert feature(exact.rows()["ann"], "minutes_change") == (1.0, "computed")  # 44 vs 40: +10%
    down = base_league(15, ann=lambda k: {"minutes": 20.0 if k < 10 else 50.0})
    assert feature(down.rows()["ann"], "minutes_change") == (-2.0, "computed")  # 20 vs 30


def test_minutes_change_is_zero_and_computed_with_exactly_10_games():
    league = base_league(10, ann=newest_first([40.0] * 5 + [20.0] * 5, "minutes"))
    assert feature(league.rows()["ann"], "minutes_change") == (0.0, "computed")


def test_minutes_change_is_partial_from_3_games_and_default_below():
    assert feature(base_league(5).rows()["ann"], "minutes_change") == (0.0, "partial")
    assert feature(base_league(2).rows()["ann"], "minutes_change") == (0.0, "default")


# --- shot mix and matchup -------------------------------------------------------------------


def test_shot_mix_is_summed_over_the_last_10():
    ann = base_league(12, ann=lambda k: {"fga": 20, "paint_fga": 4} if k >= 10 else {}).rows()["ann"]
    assert feature(ann, "pct_paint") == (0.4, "computed")
    assert feature(ann, "pct_mid_range") == (0.2, "computed")
    assert feature(ann, "pct_three") == (0.4, "computed")
    assert feature(ann, "pct_free_throw") == (0.1429, "computed")  # 2/14


def test_free_throw_share_is_clamped_at_half():
    ann = base_league(3, ann=lambda k: {"ftm": 10, "points": 12}).rows()["ann"]
    assert feature(ann, "pct_free_throw") == (0.5, "partial")


def test_a_game_without_zone_data_makes_paint_and_mid_range_default():
    ann = base_league(12, ann=newest_first([None], "paint_fga")).rows()["ann"]
    assert feature(ann, "pct_paint") == (DEFAULTS["pct_paint"], "default")
    assert feature(ann, "pct_mid_range") == (DEFAULTS["pct_mid_range"], "default")
    assert feature(ann, "pct_three") == (0.4, "computed")


def test_no_shots_make_the_shot_mix_default():
    ann = base_league(4, ann=lambda k: dict(fga=0, fgm=0, fg3a=0, fg3m=0, paint_fga=0,
                                            mid_fga=0, ftm=0, points=0)).rows()["ann"]
    for name in ("pct_paint", "pct_mid_range", "pct_three", "pct_free_throw"):
        assert feature(ann, name) == (DEFAULTS[name], "default")


def test_shot_zone_mismatch_weighs_what_the_opponent_allows_against_the_league():
    rows = base_league(15).rows()
    # League 2P% 6/14, 3P% 3/6, paint share 10/20. BBB allows ann's line: 3/6, 2/4, 0.4.
    # ann: 100·0.6·(0.5 − 6/14) + 10·0.4·(0.4 − 0.5)
    assert feature(rows["ann"], "shot_zone_mismatch_score") == (3.8857, "computed")
    # AAA allows bob's line 3/8, 1/2, 0.6; bob: 100·0.8·(3/8 − 6/14) + 10·0.6·(0.6 − 0.5)
    assert feature(rows["bob"], "shot_zone_mismatch_score") == (-3.6857, "computed")


def test_shot_zone_mismatch_uses_only_the_opponents_last_15_games():
    league = base_league(20, ann=lambda k: {"fg3m": 4, "fgm": 7} if k >= 15 else {})
    assert feature(league.rows()["ann"], "shot_zone_mismatch_score") == (3.8857, "computed")


def test_shot_zone_mismatch_is_partial_when_the_opponent_window_lacks_zone_data():
    league = base_league(15, ann=lambda k: {"paint_fga": None} if k == 14 else {})
    # paint shares over zoned logs only: BBB 56/140, league 146/290
    assert feature(league.rows()["ann"], "shot_zone_mismatch_score") == (3.8719, "partial")


def test_shot_zone_mismatch_drops_the_paint_term_when_the_player_lacks_zone_data():
    league = base_league(15, ann=newest_first([None], "paint_fga"))
    assert feature(league.rows()["ann"], "shot_zone_mismatch_score") == (4.2857, "partial")


def test_shot_zone_mismatch_is_partial_on_short_windows():
    assert feature(base_league(5).rows()["ann"], "shot_zone_mismatch_score") == (3.8857, "partial")


def _pace_league(n: int) -> League:
    league = base_league(n, aaa=lambda k: {"pace": 104.0}, bbb=lambda k: {"pace": 96.0})
    other = league.game(D - timedelta(days=3), "EEE", "FFF")
    league.stat(other, "EEE", pace=90.0)
    league.stat(other, "FFF", pace=90.0)
    return league


def test_pace_score_compares_the_expected_pace_with_the_league():
    ann = _pace_league(15).rows()["ann"]
    # league mean (15·104 + 15·96 + 2·90)/32 = 99.375; ((104 + 96)/2 − 99.375)/1.5
    assert feature(ann, "pace_score") == (0.4167, "computed")
    assert feature(ann, "team_pace") == (104.0, "computed")
    assert feature(ann, "opponent_pace") == (96.0, "computed")


def test_pace_score_with_fewer_than_10_games_is_partial():
    # league mean (5·104 + 5·96 + 180)/12 = 98.333…; (100 − 98.333)/1.5
    assert feature(_pace_league(5).rows()["ann"], "pace_score") == (1.1111, "partial")


def test_team_and_opponent_ratings_use_their_last_10_and_15_games():
    league = base_league(20, aaa=lambda k: {"off_rating": 110.0 + k},
                         bbb=lambda k: {"def_rating": 100.0 + k})
    ann = league.rows()["ann"]
    assert feature(ann, "team_off_rating") == (114.5, "computed")  # mean 110..119
    assert feature(ann, "opponent_def_rating") == (107.0, "computed")  # mean 100..114


def test_short_team_windows_are_partial():
    ann = base_league(4, bbb=lambda k: {"def_rating": 100.0 + k}).rows()["ann"]
    assert feature(ann, "opponent_def_rating") == (101.5, "partial")
    assert feature(ann, "team_off_rating") == (110.0, "partial")


def test_team_win_pct_is_wins_over_games_this_season():
    league = base_league(12, aaa=lambda k: {"won": k < 7})
    assert feature(league.rows()["ann"], "team_win_pct") == (0.5833, "computed")


def test_team_win_pct_is_a_half_with_fewer_than_5_games():
    assert feature(base_league(4).rows()["ann"], "team_win_pct") == (0.5, "partial")


def test_a_team_without_stats_gets_default_team_and_opponent_features():
    league = base_league(12)
    for k in range(12):
        league.log(league.game(D - timedelta(days=2 * k + 3), "CCC", "EEE"), "carl", "CCC")
    league.game(D, "CCC", "ZZZ")  # CCC has no team stats; ZZZ has never played
    carl = league.rows()["carl"]
    for name in ("opponent_def_rating", "opponent_pace", "team_pace", "team_off_rating",
                 "pace_score", "shot_zone_mismatch_score", "rest_advantage"):
        assert feature(carl, name) == (DEFAULTS[name], "default"), name
    assert feature(carl, "team_win_pct") == (0.5, "default")
    assert "no opponent team data" in carl["data_quality_issues"]


# --- rest, schedule and context -------------------------------------------------------------


def test_rest_advantage_compares_player_and_opponent_rest():
    league = base_league(12)
    league.game(D - timedelta(days=1), "BBB", "CCC")  # schedule only: BBB on a back-to-back
    rows = league.rows()
    assert rows["ann"]["days_rest"] == 1 and rows["bob"]["days_rest"] == 1
    assert feature(rows["ann"], "rest_advantage") == (1.0, "computed")  # 1 − 0
    assert feature(rows["ann"], "back_to_back") == (0.0, "computed")


def test_rest_is_capped_at_7_days_and_the_advantage_at_2():
    league = base_league(12)
    league.game(D - timedelta(days=1), "BBB", "CCC")
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] > D - timedelta(days=20))]
    # ann last played on D−20: 19 days of rest, capped; BBB is on a back-to-back
    ann = league.rows()["ann"]
    assert ann["days_rest"] == 7
    assert feature(ann, "rest_advantage") == (2.0, "computed")


def test_back_to_back_comes_from_the_schedule():
    league = base_league(12)
    league.game(D - timedelta(days=1), "CCC", "AAA")
    rows = league.rows()
    assert feature(rows["ann"], "back_to_back") == (1.0, "computed")
    assert feature(rows["bob"], "back_to_back") == (0.0, "computed")


def test_home_away_and_playoff_game_describe_the_game_on_d():
    league = base_league(12)
    league.games[-1]["season_phase"] = "playoffs"
    rows = league.rows()
    assert feature(rows["ann"], "home_away") == (1.0, "computed")
    assert feature(rows["bob"], "home_away") == (0.0, "computed")
    assert feature(rows["bob"], "playoff_game") == (1.0, "computed")


def test_injury_risk_uses_the_latest_report_before_the_first_tipoff():
    league = base_league(12)
    league.injury("ann", "questionable", datetime(2025, 12, 1, 15, tzinfo=UTC))
    league.injury("ann", "probable", datetime(2025, 12, 1, 20, tzinfo=UTC))
    league.injury("ann", "out", FIRST_TIP)  # at tip-off: too late
    league.injury("bob", "out", datetime(2025, 11, 29, 20, tzinfo=UTC), day=D - timedelta(days=2))
    rows = league.rows()
    assert feature(rows["ann"], "injury_risk") == (1.0, "computed")
    assert rows["ann"]["injury_status"] == "probable"
    assert feature(rows["bob"], "injury_risk") == (0.0, "computed")
    assert rows["bob"]["injury_status"] == "available"


def test_an_unknown_injury_status_is_an_error():
    league = base_league(12)
    league.injury("ann", "hurt", datetime(2025, 12, 1, 15, tzinfo=UTC))
    with pytest.raises(ValueError, match="hurt"):
        league.rows()


# --- roster and completeness ----------------------------------------------------------------


def test_a_short_absence_lowers_completeness_but_the_player_stays_ready():
    league = base_league(12)
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] in days_back(12)[:2])]
    ann = league.rows()["ann"]
    assert (ann["expected_games"], ann["actual_games"], ann["completeness_pct"]) == (10, 8, 80.0)
    assert ann["is_production_ready"]
    assert ann["data_quality_issues"] == []


def test_a_player_whose_last_game_is_over_30_days_old_is_not_ready():
    assert readiness_issues(expected=10, actual=0, season_games=20, quality=90.0,
                            injury_status="available", opponent_data=True,
                            days_since_last=31) == ["last game 31 days ago (need within 30)"]
    assert readiness_issues(expected=10, actual=0, season_games=20, quality=90.0,
                            injury_status="available", opponent_data=True,
                            days_since_last=30) == []


def test_early_in_the_season_two_games_are_enough_and_one_is_not():
    ready = dict(expected=3, actual=2, season_games=2, quality=90.0, injury_status="available",
                 opponent_data=True, days_since_last=2)
    assert readiness_issues(**ready) == []
    assert readiness_issues(**{**ready, "season_games": 1, "actual": 1}) == [
        "only 1 season game (need 2 while the team has played fewer than 10)"]
    # Once the team has played 10 games, five of the player's own are needed.
    assert readiness_issues(**{**ready, "expected": 10}) == ["only 2 season games (need 5)"]
    assert readiness_issues(**{**ready, "expected": 10, "season_games": 5}) == []


def test_nine_of_ten_games_is_complete_enough():
    league = base_league(12)
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] == days_back(12)[4])]
    ann = league.rows()["ann"]
    assert (ann["actual_games"], ann["completeness_pct"]) == (9, 90.0)
    assert ann["is_production_ready"]


def test_a_traded_player_counts_for_the_new_team_and_for_games_with_both():
    league = base_league(12)
    for k, day in enumerate(days_back(4)):
        league.log(league.games[k + 1]["game_id"], "tom", "AAA")
    for day in (D - timedelta(days=d) for d in (11, 13, 15, 17, 19)):
        league.log(league.game(day, "CCC", "DDD"), "tom", "CCC")
    league.game(D, "CCC", "DDD")
    tom = league.rows()["tom"]
    assert (tom["team"], tom["opponent"]) == ("AAA", "BBB")
    # AAA's 10th most recent game is D−20: 4 games for AAA + 5 for CCC since then
    assert (tom["expected_games"], tom["actual_games"]) == (10, 9)
    assert tom["is_production_ready"]


def test_a_player_whose_team_is_not_on_the_slate_gets_no_row():
    league = base_league(12)
    league.log(league.game(D - timedelta(days=3), "CCC", "DDD"), "carl", "CCC")
    assert set(league.rows()) == {"ann", "bob"}


def test_with_fewer_than_10_team_games_2_season_games_are_enough():
    ready = base_league(6).rows()["ann"]
    assert (ready["expected_games"], ready["actual_games"]) == (6, 6)
    assert ready["is_production_ready"]
    league = base_league(6)
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] in days_back(6)[:2])]
    ann = league.rows()["ann"]
    assert (ann["expected_games"], ann["actual_games"], ann["completeness_pct"]) == (6, 4, 66.67)
    assert ann["is_production_ready"]
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] in days_back(6)[2:4])]
    ann = league.rows()["ann"]
    assert ann["actual_games"] == 2 and ann["is_production_ready"]
    league.logs = [r for r in league.logs if not (r["player_lookup"] == "ann"
                                                 and r["game_date"] == days_back(6)[4])]
    ann = league.rows()["ann"]
    assert "only 1 season game (need 2 while the team has played fewer than 10)" in ann[
        "data_quality_issues"]


# --- quality and readiness ------------------------------------------------------------------


def test_quality_score_is_the_mean_source_weight():
    ann = base_league(3).rows()["ann"]
    summary = ann["data_source_summary"]
    assert ann["quality_score"] == quality_score(ann["feature_sources"])
    expected = (100 * summary["computed"] + 75 * summary["partial"] + 40 * summary["default"]) / 25
    assert ann["quality_score"] == pytest.approx(expected)
    assert sum(summary.values()) == 25 and summary["default"] == 1  # recent_trend


def test_low_quality_is_not_ready():
    league = base_league(2, ann=lambda k: {"paint_fga": None})
    league.stats = [s for s in league.stats if s["team"] != "BBB"]
    ann = league.rows()["ann"]
    # default: std? no (2 games), usage, trend, minutes, opp def, opp pace, pace, paint, mid
    assert ann["data_source_summary"]["default"] == 8
    assert ann["quality_score"] == quality_score(ann["feature_sources"]) < 70
    assert f"quality {ann['quality_score']:g} below 70" in ann["data_quality_issues"]
    assert not ann["is_production_ready"]


def test_an_out_player_is_not_ready():
    league = base_league(12)
    league.injury("bob", "out", datetime(2025, 12, 1, 18, tzinfo=UTC))
    bob = league.rows()["bob"]
    assert bob["injury_status"] == "out" and feature(bob, "injury_risk") == (3.0, "computed")
    assert bob["data_quality_issues"] == ["injury status out"]
    assert not bob["is_production_ready"]


def test_readiness_issues_list_every_failed_rule_in_plain_words():
    issues = readiness_issues(expected=10, actual=6, season_games=20, quality=64.4,
                              injury_status="out", opponent_data=False)
    assert issues == ["quality 64.4 below 70", "injury status out", "no opponent team data"]
    assert readiness_issues(expected=10, actual=9, season_games=9, quality=70.0,
                            injury_status="doubtful", opponent_data=True) == []
    assert readiness_issues(expected=10, actual=4, season_games=4, quality=90.0,
                            injury_status="available", opponent_data=True) == [
        "only 4 season games (need 5)"]


# --- early season ---------------------------------------------------------------------------


def _early_league(day: date) -> League:
    league = League()
    last_season = league.game(date(2025, 4, 10), "AAA", "BBB", season="2024-25")
    league.log(last_season, "ann", "AAA")
    league.log(last_season, "bob", "BBB")
    league.log(last_season, "tim", "BBB")
    league.game(SEASON_START, "CCC", "DDD")
    opener = league.game(SEASON_START + timedelta(days=1), "CCC", "BBB")
    league.log(opener, "tim", "CCC")  # moved from BBB to CCC over the summer
    league.game(day)
    return league


def test_the_first_7_days_of_the_season_give_placeholder_rows():
    rows = _early_league(SEASON_START + timedelta(days=6)).rows(SEASON_START + timedelta(days=6))
    assert set(rows) == {"ann", "bob"}  # tim now plays for CCC
    for row in rows.values():
        assert row["early_season_flag"] and not row["is_production_ready"]
        assert row["features"] is None and row["feature_sources"] is None
        assert row["quality_score"] == 0.0 and row["data_quality_issues"] == ["early season"]
    assert rows["bob"]["team"] == "BBB" and rows["bob"]["days_rest"] == 7


def test_from_the_7th_day_the_season_logs_decide_the_roster():
    day = SEASON_START + timedelta(days=7)
    rows = _early_league(day).rows(day)
    assert set(rows) == set()  # nobody has played for AAA or BBB this season
    league = _early_league(day)
    league.log(league.games[2]["game_id"], "bob", "BBB")
    bob = league.rows(day)["bob"]
    assert not bob["early_season_flag"] and bob["features"] is not None


# --- leakage and determinism ----------------------------------------------------------------


def _with_the_future(league: League) -> League:
    """The same league after D has been played and later games were reported."""
    today = league.games[-1]["game_id"]
    league.log(today, "ann", "AAA", points=99)
    league.log(today, "bob", "BBB", points=99, minutes=48.0)
    league.stat(today, "AAA", pace=130.0, won=False)
    league.stat(today, "BBB", def_rating=150.0)
    later = league.game(D + timedelta(days=1), "BBB", "AAA")
    league.log(later, "ann", "AAA", points=1)
    league.stat(later, "BBB", pace=70.0)
    league.injury("ann", "out", FIRST_TIP + timedelta(minutes=5))
    league.injury("bob", "doubtful", FIRST_TIP + timedelta(days=1), day=D + timedelta(days=1))
    return league


def test_games_on_or_after_d_and_late_reports_do_not_leak_into_d():
    before = base_league(12).rows()
    after = _with_the_future(base_league(12)).rows()
    assert after == before


def test_changing_or_deleting_future_facts_leaves_the_rows_identical():
    league = _with_the_future(base_league(12))
    first = league.rows()
    league.logs = [r for r in league.logs if r["game_date"] <= D]
    for row in league.logs:
        if row["game_date"] >= D:
            row["points"] = 3
    for row in league.stats:
        if row["game_date"] >= D:
            row["pace"] = 80.0
    league.games = [g for g in league.games if g["game_date"] <= D]
    league.injuries = []
    assert league.rows() == first


def test_the_same_inputs_give_identical_rows_and_hashes():
    first = build_feature_rows(base_league(12).inputs(), GENERATED)
    again = build_feature_rows(base_league(12).inputs(), GENERATED + timedelta(hours=1))
    assert [r["content_hash"] for r in first] == [r["content_hash"] for r in again]
    for old, new in zip(first, again, strict=True):
        assert {k: v for k, v in old.items() if not k.endswith("_at")} == {
            k: v for k, v in new.items() if not k.endswith("_at")}
    assert len(first[0]["content_hash"]) == 64


def test_the_row_order_of_the_inputs_does_not_matter():
    league = base_league(15)
    first = league.rows()
    for rows in (league.games, league.logs, league.stats):
        random.Random(7).shuffle(rows)
    assert league.rows() == first


def test_changing_one_game_before_d_changes_the_hash():
    first = base_league(12).rows()
    changed = base_league(12, ann=newest_first([15], "points")).rows()
    assert changed["ann"]["content_hash"] != first["ann"]["content_hash"]
    assert changed["bob"]["content_hash"] == first["bob"]["content_hash"]
