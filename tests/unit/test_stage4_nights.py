"""Stage 4 for many nights in one pass over all the data gives exactly the rows live stage 4
builds for each night alone from what it reads (`Snapshot.feature_rows`: the night's 400-day
input window): no night sees another night's facts or history beyond its window.

Every field is compared (features exactly, after the builder's rounding; sources, readiness
issues, completeness, injury status, days_rest, content_hash) on two synthetic seasons (early
season, the trade deadline, injury reports, a season's last nights, the next season's
placeholders) and, when the shared data is there, on sampled real nights chosen for their edge
cases.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.stage4.nights import build_nights
from tipoff.pipeline.load_data import generate_league_into, import_boxscores_into
from tipoff.pipeline.replay import Snapshot
from tipoff.sim.league.teams import trade_deadline
from tipoff.testing import FakeClock

NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
SEASON_START = date(2025, 10, 21)  # the synthetic 2025-26 opening night


def assert_same_rows(snapshot: Snapshot, dates: list[date]) -> list[dict]:
    """Compare the many-night rows with each night built alone; returns the rows."""
    many = snapshot.feature_rows_many(dates, NOW)
    assert list(many) == list(dates)
    compared = []
    for day in dates:
        live = snapshot.feature_rows(day, NOW)
        assert [r["player_lookup"] for r in many[day]] == [r["player_lookup"] for r in live], day
        for got, want in zip(many[day], live):
            different = sorted(key for key in want if got.get(key) != want[key])
            assert got == want, (day, want["player_lookup"], different,
                                 [(key, got.get(key), want[key]) for key in different][:3])
        compared.extend(live)
    return compared


def traded(snapshot: Snapshot, rows: list[dict]) -> list[tuple[str, date]]:
    """(player, night) of rows whose player played for two teams in the 120 days before."""
    nights = pd.DataFrame([(r["player_lookup"], r["game_date"]) for r in rows
                           if not r["early_season_flag"]], columns=["player_lookup", "night"])
    logs = snapshot.logs[["player_lookup", "game_date", "team"]]
    joined = nights.merge(logs, on="player_lookup")
    recent = joined[(joined["game_date"] < joined["night"])
                    & (joined["game_date"] >= joined["night"] - timedelta(days=120))]
    teams = recent.groupby(["player_lookup", "night"])["team"].nunique()
    return list(teams.index[teams > 1])


# --- synthetic league ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    clock = FakeClock(NOW)
    store = SqliteStore(f"sqlite:///{tmp_path_factory.mktemp('nights') / 's.db'}", clock).open()
    generate_league_into(store, "2024-25", 7, None)
    generate_league_into(store, "2025-26", 7, date(2026, 2, 20))
    yield Snapshot.load(store)
    store.close()


def synthetic_nights(snapshot: Snapshot) -> list[date]:
    """Last nights of 2024-25, the first 12 of 2025-26 (placeholders, then the first real
    nights), a stride through the season, and the nights around the trade deadline."""
    previous = snapshot.game_dates(end=date(2025, 6, 30))[-3:]
    season = snapshot.game_dates(SEASON_START, date(2026, 2, 19))
    deadline = trade_deadline(2025)
    around = [d for d in season
              if deadline - timedelta(days=2) <= d <= deadline + timedelta(days=8)]
    return sorted({*previous, *season[:12], *season[12::9], *around})


def test_every_sampled_synthetic_night_gets_the_builders_rows(synthetic):
    dates = synthetic_nights(synthetic)
    rows = assert_same_rows(synthetic, dates)
    assert any(r["early_season_flag"] for r in rows)
    assert any(r["is_production_ready"] for r in rows)
    assert {"out", "questionable"} <= {r["injury_status"] for r in rows}
    assert traded(synthetic, [r for r in rows if r["game_date"] > trade_deadline(2025)])


def test_early_season_rows_are_placeholders_with_players_from_last_season(synthetic):
    opening = synthetic.feature_rows_many([SEASON_START], NOW)[SEASON_START]
    assert opening and all(r["features"] is None for r in opening)
    assert all(r["data_quality_issues"] == ["early season"] for r in opening)


def test_a_date_without_games_gives_no_rows_and_dates_keep_their_order(synthetic):
    quiet = date(2025, 8, 1)
    nights = synthetic.feature_rows_many([date(2025, 11, 20), quiet, date(2025, 11, 3)], NOW)
    assert list(nights) == [date(2025, 11, 20), quiet, date(2025, 11, 3)]
    assert nights[quiet] == [] and nights[date(2025, 11, 20)]


def test_a_naive_generation_time_is_refused(synthetic):
    with pytest.raises(ValueError):
        build_nights(synthetic.games, synthetic.logs, synthetic.team_stats, synthetic.injuries,
                     [date(2025, 11, 20)], datetime(2025, 11, 20, 9))


def test_facts_after_the_night_change_nothing(synthetic):
    night = date(2025, 12, 10)
    cut = Snapshot(games=synthetic.games,
                   logs=synthetic.logs[synthetic.logs["game_date"] < night],
                   team_stats=synthetic.team_stats[synthetic.team_stats["game_date"] < night],
                   injuries=synthetic.injuries[synthetic.injuries["game_date"] <= night],
                   lines=synthetic.lines)
    assert cut.feature_rows_many([night], NOW) == synthetic.feature_rows_many([night], NOW)


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory, shared_data):
    store = SqliteStore(f"sqlite:///{tmp_path_factory.mktemp('real') / 'nba.db'}",
                        FakeClock(NOW)).open()
    files = ["player_box_2022_23_regular_season.csv", "player_box_2023_24_regular_season.csv",
             "player_box_2025_26_through_2025_11_09.csv"]
    import_boxscores_into(store, [shared_data / name for name in files],
                          shared_data / "game_tipoff_times_et.csv")
    yield Snapshot.load(store)
    store.close()


def real_nights(snapshot: Snapshot) -> list[date]:
    """Each season's first night, its last placeholder night and the two after, a season's
    last nights, nights after trades, returns from short absences and the nights with the
    most injury reports."""
    played = sorted(set(snapshot.logs["game_date"]))
    chosen: set[date] = set()
    for season, games in snapshot.games.groupby("season"):
        dates = [d for d in sorted(set(games["game_date"])) if d in set(played)]
        start = dates[0]
        chosen |= {start, *[d for d in dates if start + timedelta(days=6) <= d
                             <= start + timedelta(days=8)], *dates[-2:]}
    chosen |= set(_after_trades(snapshot.logs)[:4]) | set(_returns(snapshot.logs)[:3])
    reports = snapshot.injuries.groupby("game_date").size().sort_values(ascending=False)
    chosen |= set(reports.index[:2])
    return sorted(d for d in chosen if d in set(played))


def _after_trades(logs: pd.DataFrame) -> list[date]:
    """The first game for the new team, and the player's next game, of traded players."""
    ordered = logs.sort_values(["player_lookup", "game_date"])
    moved = ordered["team"] != ordered.groupby("player_lookup")["team"].shift()
    gap = pd.to_datetime(ordered["game_date"]).groupby(ordered["player_lookup"]).diff().dt.days
    nights = []
    for index in ordered.index[moved & (gap <= 30)][:2]:
        player = ordered.loc[index, "player_lookup"]
        after = ordered[(ordered["player_lookup"] == player)
                        & (ordered["game_date"] >= ordered.loc[index, "game_date"])]
        nights += list(after["game_date"].iloc[:2])
    return nights


def _returns(logs: pd.DataFrame) -> list[date]:
    """Nights players came back after missing 5–20 days."""
    ordered = logs.sort_values(["player_lookup", "game_date"])
    gap = pd.to_datetime(ordered["game_date"]).groupby(ordered["player_lookup"]).diff().dt.days
    return sorted(set(ordered.loc[gap.between(5, 20), "game_date"]))[::40]


@pytest.mark.slow
@pytest.mark.shared_data
def test_sampled_real_nights_get_the_builders_rows(real):
    rows = assert_same_rows(real, real_nights(real))
    assert any(r["early_season_flag"] for r in rows)
    assert any(r["injury_status"] == "out" for r in rows)
    assert traded(real, rows)
    assert any(r["days_rest"] == 7 and r["is_production_ready"] for r in rows)
    assert any(r["actual_games"] < r["expected_games"] == 10 and r["is_production_ready"]
               for r in rows)


def test_unhashed_rows_are_the_same_rows_without_their_content_hash(synthetic):
    nights = [SEASON_START, date(2025, 11, 20), date(2026, 1, 10)]
    every = synthetic.feature_rows_many(nights, NOW)
    unhashed = synthetic.feature_rows_many(nights, NOW, hashed=False)
    assert unhashed == {day: [{k: v for k, v in r.items() if k != "content_hash"} for r in rows]
                        for day, rows in every.items()}
    assert every[date(2026, 1, 10)] and all("content_hash" in r for r in every[date(2026, 1, 10)])
