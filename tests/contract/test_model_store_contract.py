"""The ModelStore port: every adapter (files, the in-memory twin) keeps the same promises."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.stage5_fixtures import small_model
from tipoff.adapters.model_files import FileModelStore
from tipoff.domain.systems import XGBOOST, PredictionUnavailable
from tipoff.testing import MemoryModelStore


@pytest.fixture(scope="module")
def artifacts():
    first = small_model(seed=3).artifact
    later = small_model(seed=4).artifact
    return first, replace(later, trained_through=first.trained_through + timedelta(days=1))


@pytest.fixture(params=["files", "memory"])
def models(request, tmp_path):
    if request.param == "files":
        return FileModelStore(tmp_path / "models")
    return MemoryModelStore()


def corrupt(models, name: str) -> None:
    """Leave a half-written artefact under ``name``, as a crash mid-copy would."""
    if isinstance(models, FileModelStore):
        models.path(name).parent.mkdir(parents=True, exist_ok=True)
        models.path(name).write_text('{"format": "tipoff-xgb')
    else:
        models.put_text(name, '{"format": "tipoff-xgb')


def test_a_saved_artefact_loads_back_the_same(models, artifacts):
    first, _ = artifacts
    models.save(first, XGBOOST)
    loaded = models.load(XGBOOST)
    assert loaded.model_version == first.model_version
    assert loaded.trained_through == first.trained_through
    assert loaded.feature_names == first.feature_names and loaded.metrics == first.metrics
    assert models.exists(XGBOOST)


def test_saving_says_where_the_artefact_went_and_where_names_the_same_place(models, artifacts):
    first, _ = artifacts
    assert models.save(first, XGBOOST) == models.where(XGBOOST)
    assert XGBOOST in models.where(XGBOOST) and models.where(XGBOOST) != models.where("other")


def test_a_missing_artefact_is_unavailable_not_a_crash(models):
    assert not models.exists(XGBOOST)
    with pytest.raises(PredictionUnavailable):
        models.load(XGBOOST)


def test_a_corrupt_artefact_is_unavailable(models):
    corrupt(models, XGBOOST)
    with pytest.raises(PredictionUnavailable):
        models.load(XGBOOST)


def test_saving_again_replaces_the_artefact_and_readers_never_see_half_of_one(models, artifacts):
    first, later = artifacts
    models.save(first, XGBOOST)
    seen, errors, done = set(), [], threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.add(models.load(XGBOOST).trained_through)
            except PredictionUnavailable as exc:  # a torn read would land here
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        models.save(later, XGBOOST)
        models.save(first, XGBOOST)
    models.save(later, XGBOOST)
    done.set()
    reader.join()
    assert errors == []
    assert seen <= {first.trained_through, later.trained_through}
    assert models.load(XGBOOST).trained_through == later.trained_through
