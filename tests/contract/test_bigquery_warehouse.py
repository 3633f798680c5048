"""BigQueryWarehouse against a local BigQuery (crucible emulator): DDL, MERGE, arrays, reads."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from tests.bigquery_emulator import bigquery_emulator  # noqa: F401  (the session fixture)
from tipoff.adapters.store.sql.store import SqliteStore
from tipoff.bootstrap import open_warehouse
from tipoff.domain.features import FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION
from tipoff.pipeline.build_features import build_features
from tipoff.pipeline.warehouse_sync import import_from_warehouse, publish_to_warehouse
from tipoff.ports import RunRecord
from tipoff.sim.league.season import generate_league

# Two weeks and a bit of the synthetic season: past the early-season placeholders, still fast.
FIRST = date(2025, 10, 21)
GAME_DATE = FIRST + timedelta(days=15)
VOLATILE = ("created_at", "feature_generated_at")
# Stage 4 reads injuries and lines of the night itself only: older ones just slow the emulator.
ONLY_TONIGHT = ("injury_reports", "prop_lines")


@pytest.fixture
def warehouse(bigquery_emulator):  # noqa: F811
    dataset = f"tipoff_{uuid.uuid4().hex[:10]}"
    opened = open_warehouse(bigquery_emulator.url(dataset))
    opened.ensure_tables()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def league() -> dict[str, pd.DataFrame]:
    frames = generate_league("2025-26", seed=7, until=GAME_DATE)
    return {name: _dated(frame, GAME_DATE if name in ONLY_TONIGHT else FIRST)
            for name, frame in frames.items() if name != "synthetic_expected_points"}


def _dated(frame: pd.DataFrame, first: date) -> pd.DataFrame:
    keep = (frame["game_date"] >= first) & (frame["game_date"] <= GAME_DATE)
    return frame[keep].reset_index(drop=True)


def _store(tmp_path, clock, name: str) -> SqliteStore:
    return SqliteStore(f"sqlite:///{tmp_path / name}", clock).open()


def _stable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]


def test_tables_are_created_partitioned_and_a_second_ensure_changes_nothing(warehouse):
    first = warehouse.ensure_tables()
    assert warehouse.ensure_tables() == first
    assert {"features", "predictions", "run_history", "games", "prop_lines"} <= set(first)
    assert warehouse.count_rows("features") == 0


def test_stage4_from_bigquery_inputs_builds_the_same_rows_as_from_the_store(
        warehouse, league, tmp_path, clock):
    warehouse.write_analytics(league)
    via_warehouse, direct = _store(tmp_path, clock, "w.db"), _store(tmp_path, clock, "d.db")
    written = import_from_warehouse(warehouse, via_warehouse, FIRST, GAME_DATE)
    direct.replace_analytics(league, dates=(FIRST, GAME_DATE))
    assert written["player_game_logs"] == len(league["player_game_logs"]) > 0
    for store in (via_warehouse, direct):
        build_features(store, None, clock, GAME_DATE)
    rows = via_warehouse.read_features(GAME_DATE, FEATURE_VERSION)
    assert len(rows) > 50 and any(r["is_production_ready"] for r in rows)
    assert _stable(rows) == _stable(direct.read_features(GAME_DATE, FEATURE_VERSION))


def test_publishing_a_date_twice_adds_no_rows(warehouse, league, sqlite_store, clock):
    sqlite_store.replace_analytics(league, dates=(FIRST, GAME_DATE))
    build_features(sqlite_store, None, clock, GAME_DATE)
    sent = publish_to_warehouse(sqlite_store, warehouse, GAME_DATE)
    counts = {t: warehouse.count_rows(t) for t in ("features", "predictions", "run_history")}
    assert publish_to_warehouse(sqlite_store, warehouse, GAME_DATE) == sent
    assert {t: warehouse.count_rows(t) for t in counts} == counts
    assert counts["features"] == sent["features"] > 50 and counts["run_history"] == 1


def test_an_array_of_25_features_round_trips_with_its_names(warehouse, sqlite_store, league, clock):
    sqlite_store.replace_analytics(league, dates=(FIRST, GAME_DATE))
    build_features(sqlite_store, None, clock, GAME_DATE)
    stored = [r for r in sqlite_store.read_features(GAME_DATE, FEATURE_VERSION) if r["features"]]
    warehouse.publish_features(GAME_DATE, stored[:3])
    published = warehouse.read_features(GAME_DATE)
    assert [r["features"] for r in published] == [r["features"] for r in stored[:3]]
    assert all(len(r["features"]) == FEATURE_COUNT for r in published)
    assert published[0]["feature_names"] == list(FEATURE_NAMES)
    assert published[0]["feature_version"] == FEATURE_VERSION


def test_a_rerun_updates_the_published_run_in_place(warehouse):
    started = datetime(2026, 1, 15, 5, 0, tzinfo=timezone.utc)
    run = RunRecord(run_id="r1", processor="ml_feature_store_v2", status="running",
                    started_at=started, game_date=date(2026, 1, 15), reason="it's \"quoted\"\n")
    warehouse.publish_runs([run])
    warehouse.publish_runs([RunRecord(**{**run.__dict__, "status": "success",
                                         "finished_at": started + timedelta(minutes=2)})])
    assert warehouse.count_rows("run_history") == 1
    assert warehouse.run_statuses() == {"r1": "success"}


def test_the_publish_command_sends_a_date_and_a_repeat_sends_the_same_counts(
        bigquery_emulator, tmp_path, clock):  # noqa: F811
    import json
    import subprocess
    import sys
    from pathlib import Path

    store = _store(tmp_path, clock, "cli.db")
    store.record_run(RunRecord(run_id="cli-run", processor="coordinator", status="success",
                               started_at=clock.now(), game_date=GAME_DATE))
    store.close()
    command = [str(Path(sys.executable).with_name("tipoff")), "warehouse", "publish",
               "--date", GAME_DATE.isoformat(), "--json", "--store",
               f"sqlite:///{tmp_path / 'cli.db'}", "--warehouse",
               bigquery_emulator.url(f"cli_{uuid.uuid4().hex[:8]}")]
    runs = [subprocess.run(command, capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first == second == {"game_date": GAME_DATE.isoformat(), "features": 0,
                               "predictions": 0, "run_history": 1}


def test_a_prediction_published_twice_is_one_row_and_missing_values_are_nulls(warehouse):
    row = {"prediction_id": "p1", "system_id": "ensemble_v1", "player_lookup": "lebronjames",
           "game_id": "g1", "predicted_points": 24.5, "confidence_score": 71.0,
           "recommendation": "PASS", "line": None, "line_source": "estimate",
           "bookmaker": None, "line_margin": float("nan"), "components": {"weights": [0.5, 0.5]},
           "feature_quality": 92.0, "batch_id": "b1", "model_version": "m1", "is_active": True,
           "superseded_by": None, "created_at": datetime(2026, 1, 15, 6, tzinfo=timezone.utc)}
    for _ in range(2):
        assert warehouse.publish_predictions(date(2026, 1, 15), [row]) == 1
    assert warehouse.count_rows("predictions") == 1


def test_the_import_command_copies_a_date_range_and_refuses_a_reversed_one(
        bigquery_emulator, warehouse, tmp_path, clock):  # noqa: F811
    import subprocess
    import sys
    from pathlib import Path

    games = pd.DataFrame([{"game_id": "g1", "game_date": date(2026, 1, 15), "season": "2025-26",
                           "tipoff_utc": datetime(2026, 1, 16, 0, 30, tzinfo=timezone.utc),
                           "season_phase": "regular", "home_team": "LAL", "away_team": "BOS"}])
    warehouse.write_analytics({"games": games})
    url = f"{bigquery_emulator.url(warehouse.dataset)}"
    command = [str(Path(sys.executable).with_name("tipoff")), "warehouse", "import",
               "--store", f"sqlite:///{tmp_path / 'i.db'}", "--warehouse", url]
    env = {"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    copied = subprocess.run([*command, "--from", "2026-01-14", "--to", "2026-01-16"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert copied.returncode == 0 and "games" in copied.stdout, copied.stderr
    with closing(_store(tmp_path, clock, "i.db")) as store:
        assert store.read_analytics("games")["game_id"].tolist() == ["g1"]
    reversed_ = subprocess.run([*command, "--from", "2026-01-16", "--to", "2026-01-14"],
                               capture_output=True, text=True, timeout=300, env=env)
    lines = reversed_.stderr.strip().splitlines()
    assert reversed_.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:")
