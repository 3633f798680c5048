"""Counts that add up: one main reason per not-ready player, one top-edge row per player."""

from __future__ import annotations

from datetime import date

from tipoff.domain import reasons as r
from tipoff.domain.alerts import coverage_alert, phase4_not_ready_alert
from tipoff.pipeline.demo import _top_edges


def _row(ready: bool, *issues: str) -> dict:
    return {"is_production_ready": ready, "data_quality_issues": list(issues),
            "early_season_flag": False}


ROWS = [
    _row(True),
    _row(False, "completeness 6/10 below 90%"),
    _row(False, "completeness 4/10 below 90%", "injury status out"),
    _row(False, "quality 60 below 70", "completeness 5/10 below 90%"),
    _row(False, "injury status out"),
    {"is_production_ready": False, "data_quality_issues": [], "early_season_flag": True},
]


def test_each_not_ready_player_counts_once_under_its_main_reason():
    counts = r.not_ready_by_main_reason(ROWS)
    assert sum(counts.values()) == 5  # the not-ready players, no more
    assert counts == {r.INJURED: 2, r.COMPLETENESS: 2, r.EARLY_SEASON: 1}


def test_every_reason_is_kept_for_the_json_output():
    assert r.not_ready_all_reasons(ROWS) == {r.COMPLETENESS: 3, r.INJURED: 2, r.LOW_QUALITY: 1,
                                             r.EARLY_SEASON: 1}


def test_an_unknown_issue_keeps_its_words_without_figures():
    assert r.reason_kind("minutes restriction 12 of 30") == "minutes restriction of"
    assert r.main_reason(["no opponent team data", "quality 50 below 70"]) == r.NO_OPPONENT


def _prediction(player: str, bookmaker: str, line: float, margin: float) -> dict:
    return {"system_id": "ensemble_v1", "player_lookup": player, "bookmaker": bookmaker,
            "line": line, "line_source": "sportsbook", "line_margin": margin,
            "predicted_points": line + margin, "confidence_score": 70.0,
            "recommendation": "OVER" if margin > 0 else "UNDER"}


def test_top_edges_list_each_player_once_with_the_best_line_and_the_others_beside():
    predictions = [_prediction("ann", "fanduel", 20.5, 4.0), _prediction("ann", "betmgm", 21.5, 3.0),
                   _prediction("bob", "fanduel", 10.5, -3.5), _prediction("cy", "draftkings", 8.5, 1.0)]
    edges = _top_edges(predictions, {"ann": "Ann A"}, count=2)
    assert [(e["player"], e["bookmaker"], e["edge"]) for e in edges] == [
        ("Ann A", "fanduel", 4.0), ("bob", "fanduel", -3.5)]
    assert [o["bookmaker"] for o in edges[0]["other_lines"]] == ["betmgm"]


def test_alerts_name_the_backfill_that_works_once_the_night_is_over():
    day = date(2026, 1, 14)
    backfill = "`tipoff backfill --from 2026-01-14 --to 2026-01-14"
    assert backfill in coverage_alert(day, 0, 0, batch_exists=False).body
    assert backfill in coverage_alert(day, 10, 100, batch_exists=True).body
    assert backfill + " --force`" in phase4_not_ready_alert(day, "late").body
