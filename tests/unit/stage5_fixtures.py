"""Hand-made stage 4 output for stage 5 tests: ready rows, a recorded run, a small model."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from tipoff.domain.features import DEFAULTS, FEATURE_NAMES, FEATURE_VERSION, PROCESSOR
from tipoff.domain.systems import XGBoostSystem, train_model
from tipoff.domain.systems.model_inputs import MODEL_INPUT_NAMES
from tipoff.ports import RunRecord

GAME_DATE = date(2026, 1, 15)
# 00:31 PT on the game date: "today" in New York is the game date.
NIGHT = datetime(2026, 1, 15, 8, 31, tzinfo=timezone.utc)


def feature_vector(points: float) -> list[float]:
    values = dict(DEFAULTS)
    values.update(points_avg_last_5=points, points_avg_last_10=points, points_avg_season=points,
                  points_std_last_10=max(2.0, points * 0.25), games_in_last_7_days=3,
                  fatigue_score=90.0)
    return [float(values[name]) for name in FEATURE_NAMES]


def feature_row(n: int, at: datetime, *, ready: bool = True, quality: float = 95.0) -> dict:
    return {
        "player_lookup": f"player{chr(97 + n // 26)}{chr(97 + n % 26)}", "game_date": GAME_DATE,
        "feature_version": FEATURE_VERSION, "game_id": f"G{n // 26}",
        "player_name": f"Player {n}", "team": "BOS", "opponent": "NYK", "is_home": n % 2 == 0,
        "days_rest": 1, "features": feature_vector(8.0 + n % 20), "feature_sources": ["computed"] * 25,
        "quality_score": quality, "is_production_ready": ready,
        "data_quality_issues": [] if ready else ["completeness 5/10 below 90%"],
        "early_season_flag": False, "injury_status": "available",
        "data_source_summary": {"computed": 25}, "expected_games": 10, "actual_games": 10,
        "completeness_pct": 100.0, "feature_generated_at": at, "created_at": at,
        "content_hash": f"h{n}",
    }


def seed_phase4(store, at: datetime, players: int = 30, not_ready: int = 0) -> list[dict]:
    """Write a stage 4 result for GAME_DATE and record its successful run."""
    rows = [feature_row(n, at, ready=n >= not_ready) for n in range(players)]
    store.replace_features(GAME_DATE, FEATURE_VERSION, rows)
    ready = sum(r["is_production_ready"] for r in rows)
    store.record_run(RunRecord(
        run_id=f"phase4-test-{at.timestamp()}", processor=PROCESSOR, status="success",
        started_at=at - timedelta(seconds=2), finished_at=at, game_date=GAME_DATE,
        counts={"players_processed": players, "players_ready": ready, "players_failed": 0}))
    return rows


def small_model(seed: int = 3) -> XGBoostSystem:
    """A real (tiny) XGBoost model trained on points ≈ the recent averages (role inputs
    unknown: these players have no box-score history)."""
    rng = np.random.default_rng(seed)
    features = np.array([feature_vector(p) for p in rng.uniform(4, 30, 600)])
    roles = np.full((len(features), len(MODEL_INPUT_NAMES) - len(FEATURE_NAMES)), np.nan)
    rows = np.hstack([features, roles])
    target = rows[:, 0] + rng.normal(0, 2, len(rows))
    minutes = np.clip(8 + 0.9 * rows[:, 0] + rng.normal(0, 3, len(rows)), 1, 48)
    return XGBoostSystem(train_model(rows, target, minutes,
                                     trained_through=GAME_DATE - timedelta(days=1), seed=seed))
