"""Ensemble weights of two consecutive monthly retrains on the synthetic league: non-negative,
summing to 1, the market system weighed where lines exist, and little movement between them."""

from datetime import date

import pytest

from tests.unit.synthetic_league import league_store
from tipoff.pipeline.train import ENSEMBLE_INPUTS, train

pytestmark = pytest.mark.slow
MONTHS = (date(2025, 11, 30), date(2025, 12, 30))


@pytest.fixture(scope="module")
def retrains(tmp_path_factory):
    with league_store(tmp_path_factory.mktemp("retrain"), date(2025, 12, 31)) as (store, clock):
        yield [train(store, None, through, clock, max_nights=30).artifact for through in MONTHS]


def test_weights_are_non_negative_sum_to_one_and_cover_every_input(retrains):
    for artifact in retrains:
        weights = artifact.ensemble_weights
        assert set(weights) == set(ENSEMBLE_INPUTS)
        assert all(w >= 0 for w in weights.values())
        assert sum(weights.values()) == pytest.approx(1.0)
        assert artifact.metrics["market_weight_rows"] > 0  # the synthetic league has lines


def test_weights_move_little_from_one_monthly_retrain_to_the_next(retrains):
    before, after = (artifact.ensemble_weights for artifact in retrains)
    assert max(abs(before[sid] - after[sid]) for sid in ENSEMBLE_INPUTS) < 0.15
