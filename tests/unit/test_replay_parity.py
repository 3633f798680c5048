"""A replayed night (backtest, training) reads and builds exactly what the live path does."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.synthetic_league import league_store
from tipoff.domain.features import FEATURE_VERSION
from tipoff.domain.history import history_window, past_games
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.replay import Snapshot

# Opening night + 7 days is the first non-placeholder night; then mid season.
NIGHTS = (date(2025, 10, 29), date(2025, 11, 18))


@pytest.fixture(scope="module")
def league(tmp_path_factory):
    with league_store(tmp_path_factory.mktemp("parity"), date(2025, 11, 20)) as league:
        yield league


@pytest.mark.parametrize("night", NIGHTS)
def test_a_replayed_night_builds_the_rows_a_backfill_writes(league, night):
    store, clock = league
    build_features(store, None, clock, night)
    written = {r["player_lookup"]: r["content_hash"]
               for r in store.read_features(night, FEATURE_VERSION)}
    replayed = {r["player_lookup"]: r["content_hash"]
                for r in Snapshot.load(store).feature_rows(night, clock.now())}
    assert written and replayed == written


def test_the_one_pass_replay_of_many_nights_builds_the_rows_a_backfill_writes(league):
    store, clock = league
    written = {}
    for night in NIGHTS:
        build_features(store, None, clock, night)
        written[night] = {r["player_lookup"]: r["content_hash"]
                          for r in store.read_features(night, FEATURE_VERSION)}
    replayed = Snapshot.load(store).feature_rows_many(list(NIGHTS), clock.now())
    assert {night: {r["player_lookup"]: r["content_hash"] for r in rows}
            for night, rows in replayed.items()} == written
    assert all(written.values())


def test_a_replayed_night_gives_similarity_the_history_the_live_worker_reads(league):
    store, _ = league
    night = NIGHTS[1]
    start, end = history_window(night)
    live = past_games(store.read_analytics("player_game_logs", start=start, end=end),
                      store.read_analytics("team_game_stats", start=start, end=end), night)
    snapshot = Snapshot.load(store)
    assert snapshot.history(night) == live
    some = sorted(live)[:5]
    assert snapshot.history(night, some) == {player: live[player] for player in some}


def test_the_worker_reads_the_minutes_and_starts_the_replay_builds_from(league):
    from tipoff.domain.history import HISTORY_COLUMNS

    store, _ = league
    night = NIGHTS[1]
    start, end = history_window(night)
    live = past_games(store.read_analytics("player_game_logs", start=start, end=end,
                                           columns=HISTORY_COLUMNS),
                      store.read_analytics("team_game_stats", start=start, end=end), night)
    assert Snapshot.load(store).history(night) == live
    games = [game for player_games in live.values() for game in player_games]
    assert all(game.minutes > 0 for game in games)
    assert any(game.started for game in games) and not all(game.started for game in games)


@pytest.mark.parametrize("night", NIGHTS)
def test_a_replayed_night_gives_minutes_role_the_slate_the_live_worker_reads(league, night):
    from tipoff.domain.systems.minutes_role import slate_roles

    store, clock = league
    build_features(store, None, clock, night)
    live = slate_roles(store.read_features(night, FEATURE_VERSION))
    replayed = slate_roles(Snapshot.load(store).feature_rows(night, clock.now()))
    assert live and replayed == live
    assert any(role.freed_points > 0 for role in live.values())  # the league rules players out
