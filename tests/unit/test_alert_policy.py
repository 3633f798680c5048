"""The alert policy of SPEC.md §7 at every threshold boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tipoff.domain.alerts import (
    COVERAGE,
    DEAD_LETTERS,
    LATENCY,
    NO_BATCH,
    NO_PREDICTIONS,
    PARTIAL_GAP,
    PHASE4_NOT_READY,
    PHASE4_PUBLISH_FAILED,
    Alert,
    Severity,
    coverage_alert,
    dead_letters_alert,
    latency_alert,
    partial_gap_alert,
    partial_gap_threshold,
    phase4_not_ready_alert,
    publish_failed_alert,
)

D = date(2026, 1, 15)


@pytest.mark.parametrize(("expected", "threshold"), [
    (0, 20), (100, 20), (400, 20), (401, 21), (420, 21), (421, 22), (1000, 50),
])
def test_the_partial_gap_threshold_is_the_larger_of_five_percent_rounded_up_and_twenty(expected, threshold):
    assert partial_gap_threshold(expected) == threshold


@pytest.mark.parametrize(("expected", "predicted", "fires"), [
    (100, 80, False),   # missing 20 = floor of 20: tolerated
    (100, 79, True),    # missing 21
    (1000, 950, False),  # missing 50 = 5 %
    (1000, 949, True),  # missing 51
    (401, 380, False),  # missing 21 = ceil(20.05)
    (401, 379, True),   # missing 22
    (10, 0, False),     # a tiny slate never reaches 20 missing
    (100, 120, False),  # more predictions than expected is no gap
])
def test_a_partial_gap_alerts_only_when_missing_exceeds_the_threshold(expected, predicted, fires):
    alert = partial_gap_alert(D, expected, predicted)
    assert (alert is not None) is fires
    if fires:
        assert alert.type == PARTIAL_GAP and alert.severity is Severity.WARNING
        assert alert.details["missing"] == expected - predicted
        assert f"tipoff retry --date {D}" in alert.body


@pytest.mark.parametrize(("latency", "severity"), [
    (timedelta(0), None),
    (timedelta(minutes=10), None),
    (timedelta(minutes=10, seconds=1), Severity.WARNING),
    (timedelta(minutes=60), Severity.WARNING),
    (timedelta(minutes=60, microseconds=1), Severity.CRITICAL),
    (timedelta(hours=5), Severity.CRITICAL),
])
def test_latency_warns_above_ten_minutes_and_is_critical_above_sixty(latency, severity):
    alert = latency_alert(D, latency)
    assert (None if alert is None else alert.severity) is severity
    if alert is not None:
        assert alert.type == LATENCY and alert.game_date == D
        assert alert.details["latency_seconds"] == latency.total_seconds()


def test_a_slow_hand_off_on_a_night_the_safety_net_covered_is_a_warning_not_a_page():
    alert = latency_alert(D, timedelta(hours=5, minutes=30), covered=True)
    assert alert.severity is Severity.WARNING and alert.details["covered"] is True


def test_no_batch_at_the_seven_oclock_check_is_critical_and_says_how_to_start():
    alert = coverage_alert(D, predicted=0, ready=300, batch_exists=False)
    assert alert.type == NO_BATCH and alert.severity is Severity.CRITICAL
    assert f"tipoff start --date {D} --force" in alert.body


@pytest.mark.parametrize("ready", [0, 300])
def test_zero_predictions_with_a_batch_is_critical(ready):
    alert = coverage_alert(D, predicted=0, ready=ready, batch_exists=True)
    assert alert.type == NO_PREDICTIONS and alert.severity is Severity.CRITICAL


@pytest.mark.parametrize(("predicted", "ready", "severity"), [
    (100, 100, None),
    (90, 100, None),                 # exactly 90 %: fine
    (89, 100, Severity.WARNING),
    (50, 100, Severity.WARNING),     # exactly 50 %: only a warning
    (49, 100, Severity.CRITICAL),
    (1, 100, Severity.CRITICAL),
    (9, 10, None),
    (899, 1000, Severity.WARNING),
    (499, 1000, Severity.CRITICAL),
    (5, 0, None),                    # nothing ready, yet predictions: no coverage problem
])
def test_coverage_warns_below_ninety_percent_and_is_critical_below_fifty(predicted, ready, severity):
    alert = coverage_alert(D, predicted=predicted, ready=ready, batch_exists=True)
    assert (None if alert is None else alert.severity) is severity
    if alert is not None:
        assert alert.type == COVERAGE
        assert alert.details == {"predicted": predicted, "ready": ready,
                                 "coverage_pct": round(100 * predicted / ready, 1)}


def test_a_coverage_alert_also_tells_the_coverage_of_the_priced_players():
    alert = coverage_alert(D, predicted=200, ready=300, batch_exists=True, lined=(90, 120))
    assert alert.details["lined_coverage_pct"] == 75.0
    assert (alert.details["lined_predicted"], alert.details["lined"]) == (90, 120)
    assert "90 of 120 players" in alert.body


def test_stage4_not_ready_after_the_wait_is_critical_and_carries_the_reason():
    alert = phase4_not_ready_alert(D, "120 of 300 players ready")
    assert alert.type == PHASE4_NOT_READY and alert.severity is Severity.CRITICAL
    assert "120 of 300 players ready" in alert.body
    assert f"tipoff start --date {D} --force" in alert.body


def test_a_stage4_publish_failure_is_a_warning_that_names_the_backup_path():
    alert = publish_failed_alert(D, "bus unavailable")
    assert alert.type == PHASE4_PUBLISH_FAILED and alert.severity is Severity.WARNING
    assert "bus unavailable" in alert.body and f"tipoff start --date {D}" in alert.body


def test_dead_letters_alert_only_when_there_are_some():
    assert dead_letters_alert(D, "prediction-requests", 0) is None
    alert = dead_letters_alert(D, "prediction-requests", 3)
    assert alert.type == DEAD_LETTERS and alert.details == {"topic": "prediction-requests", "count": 3}


def test_an_alert_is_immutable_and_its_subject_shows_severity_and_title():
    alert = Alert(type=LATENCY, severity=Severity.CRITICAL, title="late", body="b", game_date=D)
    assert alert.subject == "[tipoff CRITICAL] late"
    with pytest.raises(AttributeError):
        alert.title = "other"  # type: ignore[misc]
