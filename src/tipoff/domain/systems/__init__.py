"""The five stage 5 prediction systems (SPEC.md §6) as pure functions, plus shared rules.

Each system takes a feature vector in ``features.FEATURE_NAMES`` order (or a ``FeatureView``)
and the player's line (or None) and returns a ``Prediction``, or raises
``PredictionUnavailable`` when it cannot predict. ``EDGE_AND_FLOOR`` holds each system's
recommendation edge and confidence floor; the worker orchestrates the systems and the breakers.
"""

from tipoff.domain.systems.base import (
    EDGE_AND_FLOOR,
    ENSEMBLE,
    MOVING_AVERAGE,
    OVER,
    PASS,
    SIMILARITY,
    SYSTEM_IDS,
    UNDER,
    XGBOOST,
    ZONE_MATCHUP,
    FeatureView,
    Prediction,
    PredictionUnavailable,
    clamp_confidence,
    clamp_points,
    recommend,
)
from tipoff.domain.systems.breaker import (
    BreakerState,
    allow,
    record_failure,
    record_success,
)
from tipoff.domain.systems.ensemble import ensemble_predict, fit_ensemble_weights
from tipoff.domain.systems.moving_average import moving_average_predict
from tipoff.domain.systems.similarity import PastGame, similarity_predict
from tipoff.domain.systems.xgboost_model import ModelArtifact, XGBoostSystem, train_model
from tipoff.domain.systems.zone_matchup import zone_matchup_predict

__all__ = [
    "EDGE_AND_FLOOR", "ENSEMBLE", "MOVING_AVERAGE", "OVER", "PASS", "SIMILARITY", "SYSTEM_IDS",
    "UNDER", "XGBOOST", "ZONE_MATCHUP", "BreakerState", "FeatureView", "ModelArtifact",
    "PastGame", "Prediction", "PredictionUnavailable", "XGBoostSystem", "allow",
    "clamp_confidence", "clamp_points", "ensemble_predict", "fit_ensemble_weights",
    "moving_average_predict", "record_failure", "record_success", "recommend",
    "similarity_predict", "train_model", "zone_matchup_predict",
]
