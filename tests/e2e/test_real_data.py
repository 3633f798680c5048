"""Real NBA box scores (2023-24) through the importer and stage 4 (skips without shared data)."""

from __future__ import annotations

from datetime import date

import pytest

from tipoff.adapters.bus.memory import MemoryBus
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.domain.features import FEATURE_COUNT, FEATURE_VERSION
from tipoff.domain.messages import PHASE4_TOPIC
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.load_data import import_boxscores_into

SLATE = date(2024, 1, 15)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory, shared_data):
    from datetime import datetime, timezone

    from tipoff.testing import FakeClock

    clock = FakeClock(datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc))
    store = SqliteStore(f"sqlite:///{tmp_path_factory.mktemp('real') / 'nba.db'}", clock).open()
    import_boxscores_into(store, [shared_data / "player_box_2023_24_regular_season.csv"],
                          shared_data / "game_tipoff_times_et.csv")
    yield store, clock
    store.close()


@pytest.mark.slow
@pytest.mark.shared_data
def test_stage_4_for_2024_01_15_has_a_row_for_every_player_of_the_slate(real_store):
    store, clock = real_store
    bus = MemoryBus(clock)
    summary = build_features(store, bus, clock, SLATE)
    rows = store.read_features(SLATE, FEATURE_VERSION)
    games = store.read_analytics("games", start=SLATE, end=date(2024, 1, 16))
    teams = set(games["home_team"]) | set(games["away_team"])
    logs = store.read_analytics("player_game_logs", start=date(2023, 10, 1), end=SLATE)
    latest_team = logs.sort_values("game_date").groupby("player_lookup")["team"].last()
    expected = {player for player, team in latest_team.items() if team in teams}
    assert {r["player_lookup"] for r in rows} == expected
    assert summary.players == len(rows) and len(teams) == 2 * len(games)
    ready = [r for r in rows if r["is_production_ready"]]
    assert 0.4 <= len(ready) / len(rows) <= 0.9
    assert all(len(r["features"]) == FEATURE_COUNT for r in ready)
    # no paint/mid split in box scores: those two features are defaults, quality reflects it
    assert all(r["feature_sources"][18] == r["feature_sources"][19] == "default" for r in ready)
    assert all(r["quality_score"] < 100 for r in ready)
    assert bus.published_count(PHASE4_TOPIC) == 1
