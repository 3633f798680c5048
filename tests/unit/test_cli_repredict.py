"""Predicting a night again after a model change: `tipoff backfill --force` as a user runs it.

The new model's rows replace the old model's as the active ones; the old rows stay, inactive,
each pointing at the row that superseded it; nothing is active twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from tests.unit.cli_helpers import run_main
from tests.unit.stage5_fixtures import small_model
from tipoff.bootstrap import model_store, open_store, system_clock
from tipoff.domain.systems import XGBOOST

NIGHT = date(2025, 11, 18)


def _backfill(monkeypatch, capsys, url: str, models: str, *extra: str):
    ran = run_main(monkeypatch, capsys, "backfill", "--from", str(NIGHT), "--to", str(NIGHT),
                   "--store", url, "--model-dir", models, "--json", *extra)
    assert ran.code == 0, ran
    return ran


def _rows(url: str) -> list[dict]:
    with open_store(url, system_clock(), create=False) as store:
        return store.read_predictions(NIGHT, active_only=False)


@pytest.fixture()
def predicted_once(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    ran = run_main(monkeypatch, capsys, "league", "generate", "--until", "2025-11-19",
                   "--store", url)
    assert ran.code == 0, ran
    models = str(tmp_path / "models")
    model_store(models).save(small_model(seed=3).artifact, XGBOOST)
    _backfill(monkeypatch, capsys, url, models)
    return url, models


def test_a_forced_repredict_after_a_model_change_supersedes_every_changed_row(
        predicted_once, monkeypatch, capsys):
    url, models = predicted_once
    before = {row["prediction_id"]: row for row in _rows(url)}
    assert before and all(row["is_active"] for row in before.values())

    _backfill(monkeypatch, capsys, url, models)  # same model, no --force: nothing new
    assert {row["prediction_id"] for row in _rows(url)} == set(before)

    model_store(models).save(small_model(seed=11).artifact, XGBOOST)
    _backfill(monkeypatch, capsys, url, models, "--force")
    after = _rows(url)
    active = [row for row in after if row["is_active"]]
    by_id = {row["prediction_id"]: row for row in after}

    def key(row: dict) -> tuple:
        return row["player_lookup"], row["system_id"], row["line"]

    assert Counter(key(row) for row in active).most_common(1)[0][1] == 1  # never active twice
    assert {key(row) for row in active} == {key(row) for row in before.values()}
    replaced = [row for pid, row in by_id.items() if pid in before and not row["is_active"]]
    systems = {row["system_id"] for row in replaced}
    assert XGBOOST in systems  # the model's own rows changed identity with its version
    for old in replaced:
        new = by_id[old["superseded_by"]]
        assert new["is_active"] and new["prediction_id"] not in before
        assert (new["player_lookup"], new["system_id"]) == (old["player_lookup"], old["system_id"])
    unchanged = set(before) & {row["prediction_id"] for row in active}
    assert len(unchanged) + len(replaced) == len(before)  # every old row: kept or superseded
