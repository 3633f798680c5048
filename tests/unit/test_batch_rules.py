"""Batch rules: stage 4 readiness thresholds, deterministic ids, estimated lines, coverage."""

from datetime import date

import pytest

from tipoff.domain import batches as b


@pytest.mark.parametrize(("slate", "needed"), [(450, 100), (600, 100), (100, 23), (45, 10), (3, 1)])
def test_the_ready_threshold_scales_with_the_slate(slate, needed):
    assert b.ready_threshold(slate) == needed


def test_eighty_percent_ready_is_enough_even_when_below_the_absolute_count():
    assert b.ready_threshold(10) == 3 and b.phase4_is_ready(10, 8)


def test_an_empty_slate_is_never_ready():
    assert not b.phase4_is_ready(0, 0)


def test_a_full_slate_with_one_hundred_ready_players_is_ready():
    assert b.phase4_is_ready(450, 100) and not b.phase4_is_ready(450, 99)


def test_prediction_ids_are_deterministic_and_distinguish_lines_and_models():
    key = (date(2026, 1, 15), "lebronjames", "xgboost_v1")
    assert b.prediction_id(*key, 24.5, "m1") == b.prediction_id(*key, 24.5, "m1")
    assert b.prediction_id(*key, 24.5, "m1") != b.prediction_id(*key, 25.5, "m1")
    assert b.prediction_id(*key, 24.5, "m1") != b.prediction_id(*key, 24.5, "m2")


@pytest.mark.parametrize(("average", "line"), [(17.3, 17.5), (17.2, 17.0), (9.76, 10.0)])
def test_an_estimated_line_is_the_recent_average_to_the_nearest_half_point(average, line):
    assert b.estimate_line(average) == line


def test_coverage_is_predicted_over_ready_and_zero_without_ready_players():
    assert b.coverage_pct(95, 100) == 95.0
    assert b.coverage_pct(0, 0) == 0.0


def test_a_batch_with_failed_requests_ends_partial():
    assert b.final_state(b.Progress(10, 9, 0, 1)) == b.PARTIAL
    assert b.final_state(b.Progress(10, 8, 2, 0)) == b.COMPLETE
    assert not b.Progress(10, 8, 1, 0).finished
