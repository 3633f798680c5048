"""Gradient-boosted model (``xgboost_v1``, edge 1.5, floor 60): training, artefact, prediction.

Its inputs are ``model_inputs.MODEL_INPUT_NAMES``: the 25 features, then role inputs from the
player's box-score history and tonight's slate (minutes, scoring and shooting per minute,
starts, teammates out, the matchup gap, rest; NaN where unknown). A model is three boosters on
those inputs: one for points, one for minutes and one for points per minute; it predicts
0.5 x points + 0.5 x minutes x points per minute. (Chosen nested in time, boosted on earlier
nights: the points booster alone / the blend 0.9790x, 0.9733x, 0.9747x on 2023-02 … 04,
2023-11 … 12 and 2023-01; minutes x rate alone 0.9782x, 0.9702x, 0.9732x; the half-and-half
0.9769x, 0.9700x, 0.9720x.) Beside the boosters sits a linear part (``linear_part``: a
least-absolute-error line in the same inputs); the model predicts 0.7 x the boosters' points +
0.3 x the line's (the same splits: 0.9770x, 0.9701x, 0.9712x → 0.9758x, 0.9691x, 0.9694x;
0.2 … 0.4 within 0.0004). Training (``train_model``) fits each booster as an
``xgboost.XGBRegressor`` on absolute error, 600 trees at most, depth 3, learning rate 0.03
(0.06 for minutes and points per minute), at least 20 rows of weight per leaf, subsample 0.8,
colsample 0.9, one thread each (two boosters at a time) and the caller's seed, on rows in
chronological order: the last 20 % are the validation tail used for early stopping (50
rounds; 25 at the quicker rate) and for the metrics. Each fitted booster is cut to its best
iteration, so the artefact holds exactly the trees it predicts with; ``refit_on_all_rows``
then boosts that many trees on every row (and fits the line again on every row). Metrics:
validation MAE of the model, of its points booster alone, of its line alone, of the naive
blend 0.5·L5 + 0.3·L10 + 0.2·season and of the training mean on the same rows.

Confidence = 85 - min(30, 10·z) - min(25, 40·CV) - 5·injury_risk, where
z = |prediction - L10| / max(std10, 2) (a model far from recent form, in units of the player's
own volatility, is extrapolating) and CV = std10 / max(L10, 1).

An artefact is one JSON document: tipoff metadata plus xgboost's own JSON models under
``"boosters"`` and the line's coefficients under ``"linear"`` (no pickle). A missing model,
one built for other features or an artefact of an earlier format makes this system raise
``PredictionUnavailable`` (the latter two say "retrain"); the other systems are unaffected.
xgboost is imported on first use so that importing the domain stays cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, cast

import numpy as np

from tipoff.domain.features import FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION
from tipoff.domain.systems.base import (
    XGBOOST,
    Prediction,
    PredictionUnavailable,
    finish,
)
from tipoff.domain.systems.linear_part import LinearPart, fit_linear_part
from tipoff.domain.systems.model_inputs import MODEL_INPUT_NAMES
from tipoff.domain.systems.moving_average import WEIGHTS as BLEND  # the naive yardstick
from tipoff.errors import InputError

ARTIFACT_FORMAT = "tipoff.xgboost_model/3"
# One booster (/1); three boosters without the linear part (/2).
EARLIER_FORMATS = ("tipoff.xgboost_model/1", "tipoff.xgboost_model/2")
POINTS_SHARE = 0.5  # of the boosters' points; the rest is minutes x points per minute
LINEAR_SHARE = 0.3  # of the prediction; the rest is the boosters'
# How a prediction's components record each part.
PART_LABELS = {"points": "points_booster", "minutes": "minutes",
               "points_per_minute": "points_per_minute", "linear": "linear"}
FITS_AT_ONCE = 2  # boosters trained side by side, one thread each (this host has 2 cores)
MAX_ROUNDS = 600
EARLY_STOPPING_ROUNDS = 50
PARAMS = {  # XGBRegressor hyper-parameters
    # Points are right-skewed: the median (absolute error) beats the mean on MAE (2023-10..12,
    # trained on 2022-23: 0.997x the blend against 1.004x with squared error). Shallower,
    # slower trees with heavier leaves suit the 46 inputs (0.982x → 0.980x on 2023-11 … 12,
    # 0.982x → 0.979x on 2023-02 … 04, both boosted on earlier nights).
    "objective": "reg:absoluteerror",
    "n_estimators": MAX_ROUNDS,
    "max_depth": 3,
    "learning_rate": 0.03,
    "min_child_weight": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.9,
    "tree_method": "hist",
    "n_jobs": 1,  # the same trees as 2 threads; on a busy 2-core host 3–10× faster (BENCHMARKS.md)
    "eval_metric": "mae",
    "early_stopping_rounds": EARLY_STOPPING_ROUNDS,
}
# The minutes and points-per-minute boosters learn twice as fast and stop sooner: as good (the
# half-and-half 0.9770x, 0.9701x, 0.9712x on the three splits above, against 0.9769x, 0.9700x,
# 0.9720x) in half the time.
QUICKER = {**PARAMS, "learning_rate": 0.06, "early_stopping_rounds": 25}
PARAMS_OF = {"points": PARAMS, "minutes": QUICKER, "points_per_minute": QUICKER}
VALIDATION_SHARE = 0.2
MIN_TRAINING_ROWS = 50
CONFIDENCE_BASE = 85.0
DISTANCE_WEIGHT, DISTANCE_CAP, MIN_STD = 10.0, 30.0, 2.0
VOLATILITY_WEIGHT, VOLATILITY_CAP = 40.0, 25.0
PER_INJURY_LEVEL = 5.0


def _xgboost() -> Any:
    import xgboost

    return xgboost


@dataclass(frozen=True, eq=False)
class Boosters:
    """A model's three ``xgboost.Booster``s, each on the model inputs."""

    points: Any
    minutes: Any
    points_per_minute: Any

    def named(self) -> dict[str, Any]:
        """The boosters by name (the order of the fields)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def parts(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each booster's predictions for ``rows``."""
        return {name: np.asarray(booster.inplace_predict(rows), dtype=np.float64)
                for name, booster in self.named().items()}

    def digest(self, *more: bytes) -> str:
        """A hash of the three models (and of ``more``)."""
        digest = hashlib.sha256()
        for booster in self.named().values():
            digest.update(bytes(booster.save_raw("json")))
        for extra in more:
            digest.update(extra)
        return digest.hexdigest()[:10]


def _parts(boosters: Boosters, linear: LinearPart, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {**boosters.parts(rows), "linear": linear.predict(rows)}


def combined(parts: Mapping[str, np.ndarray]) -> np.ndarray:
    """The model's points from its parts' predictions (``ModelArtifact.parts``)."""
    boosters = (POINTS_SHARE * parts["points"]
                + (1.0 - POINTS_SHARE) * parts["minutes"] * parts["points_per_minute"])
    return (1.0 - LINEAR_SHARE) * boosters + LINEAR_SHARE * parts["linear"]


@dataclass(frozen=True, eq=False)
class ModelArtifact:
    """Trained boosters and linear part with the feature contract they were trained on and
    their metrics."""

    boosters: Boosters
    linear: LinearPart
    feature_version: str
    feature_names: tuple[str, ...]
    trained_through: date
    metrics: Mapping[str, float]
    model_version: str
    ensemble_weights: Mapping[str, float] | None = None
    calibration: Mapping[str, Any] | None = None  # ``Calibration.to_dict()`` of the ensemble

    def parts(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each booster's and the linear part's predictions for ``rows``."""
        return _parts(self.boosters, self.linear, rows)

    def with_calibration(self, calibration: Mapping[str, Any] | None) -> ModelArtifact:
        """A copy carrying the ensemble's confidence calibration."""
        return replace(self, calibration=None if calibration is None else dict(calibration))

    def with_ensemble_weights(self, weights: Mapping[str, float] | None) -> ModelArtifact:
        """A copy carrying learned ensemble weights."""
        return replace(self, ensemble_weights=None if weights is None else dict(weights))

    def to_json(self) -> str:
        """The artefact as one JSON document (xgboost's JSON model embedded)."""
        return json.dumps({
            "format": ARTIFACT_FORMAT,
            "system_id": XGBOOST,
            "model_version": self.model_version,
            "feature_version": self.feature_version,
            "feature_names": list(self.feature_names),
            "trained_through": self.trained_through.isoformat(),
            "metrics": dict(self.metrics),
            "ensemble_weights": None if self.ensemble_weights is None
            else dict(self.ensemble_weights),
            "calibration": None if self.calibration is None else dict(self.calibration),
            "boosters": {name: json.loads(bytes(booster.save_raw("json")))
                         for name, booster in self.boosters.named().items()},
            "linear": self.linear.to_dict(),
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelArtifact:
        """Rebuild an artefact; anything unreadable raises ``PredictionUnavailable``."""
        try:
            doc = json.loads(text)
            if doc.get("format") in EARLIER_FORMATS:
                raise PredictionUnavailable(
                    f"model artefact format {doc['format']!r} is from an earlier tipoff (this "
                    f"one reads {ARTIFACT_FORMAT!r}); retrain")
            if doc.get("format") != ARTIFACT_FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            return cls(
                boosters=Boosters(**{f.name: _booster_from(doc["boosters"][f.name])
                                     for f in fields(Boosters)}),
                linear=LinearPart.from_dict(doc["linear"], len(doc["feature_names"])),
                feature_version=str(doc["feature_version"]),
                feature_names=tuple(doc["feature_names"]),
                trained_through=date.fromisoformat(doc["trained_through"]),
                metrics={k: float(v) for k, v in doc["metrics"].items()},
                model_version=str(doc["model_version"]),
                ensemble_weights=doc.get("ensemble_weights"),
                calibration=doc.get("calibration"),
            )
        except PredictionUnavailable:
            raise
        except Exception as exc:  # xgboost raises its own XGBoostError for bad models
            raise PredictionUnavailable(f"model artefact is corrupt: {exc}") from exc


def _booster_from(model: Any) -> Any:
    booster = _xgboost().Booster()
    booster.load_model(bytearray(json.dumps(model).encode()))
    return booster


def _column(matrix: np.ndarray, names: Sequence[str], name: str) -> np.ndarray:
    return matrix[:, list(names).index(name)]


def naive_blend(matrix: np.ndarray, names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """0.5·L5 + 0.3·L10 + 0.2·season for every row."""
    blend = sum(weight * _column(matrix, names, name) for name, weight in BLEND.items())
    return cast(np.ndarray, blend)  # a sum of arrays is an array; sum() is typed to allow 0


def _validated_training_data(
    X: np.ndarray, y: np.ndarray, minutes: np.ndarray, width: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The input matrix and the three boosters' targets (points per minute from the points
    and minutes played, a minute at least)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    minutes = np.asarray(minutes, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != width:
        raise InputError(f"training matrix must be n x {width}, got shape {X.shape}")
    for name, target in (("points", y), ("minutes", minutes)):
        if target.shape != (X.shape[0],):
            raise InputError(f"{X.shape[0]} feature rows but {name} of shape {target.shape}")
        if not np.isfinite(target).all():
            raise InputError(f"training {name} contain missing or infinite values")
    if X.shape[0] < MIN_TRAINING_ROWS:
        raise InputError(f"need at least {MIN_TRAINING_ROWS} training rows, got {X.shape[0]}")
    return X, {"points": y, "minutes": minutes,
               "points_per_minute": y / np.maximum(minutes, 1.0)}


def _fit_each(targets: Mapping[str, np.ndarray], fit: Callable[[str, np.ndarray], Any]
              ) -> dict[str, Any]:
    """``fit(name, target)`` for every target, ``FITS_AT_ONCE`` at a time (xgboost trains
    outside the GIL; each fit is single-threaded and seeded, so the result is the same)."""
    with ThreadPoolExecutor(FITS_AT_ONCE) as pool:
        futures = {name: pool.submit(fit, name, target) for name, target in targets.items()}
        return {name: future.result() for name, future in futures.items()}


def _mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted - actual)))


def _model_version(boosters: Boosters, linear: LinearPart, feature_version: str,
                   trained_through: date) -> str:
    digest = boosters.digest(json.dumps(linear.to_dict()).encode())
    return f"{XGBOOST}-{feature_version}-{trained_through:%Y%m%d}-{digest}"


def train_model(
    X: np.ndarray,
    y: np.ndarray,
    minutes: np.ndarray,
    *,
    trained_through: date,
    feature_version: str = FEATURE_VERSION,
    feature_names: Sequence[str] = MODEL_INPUT_NAMES,
    seed: int = 0,
) -> ModelArtifact:
    """Fit the three boosters and the linear part on chronologically ordered rows (``y`` the
    points scored, ``minutes`` the minutes played); the last 20 % validate (and stop each
    booster early)."""
    X, targets = _validated_training_data(X, y, minutes, len(feature_names))
    cut = X.shape[0] - max(int(X.shape[0] * VALIDATION_SHARE), 10)

    def fit(name: str, target: np.ndarray) -> Any:
        regressor = _xgboost().XGBRegressor(**PARAMS_OF[name], random_state=seed)
        regressor.fit(X[:cut], target[:cut], eval_set=[(X[cut:], target[cut:])], verbose=False)
        return regressor.get_booster()[: regressor.best_iteration + 1]

    boosters = Boosters(**_fit_each(targets, fit))
    y = targets["points"]
    linear = fit_linear_part(X[:cut], y[:cut])
    parts = _parts(boosters, linear, X[cut:])
    metrics = {
        "validation_mae": _mae(combined(parts), y[cut:]),
        "points_booster_validation_mae": _mae(parts["points"], y[cut:]),
        "linear_validation_mae": _mae(parts["linear"], y[cut:]),
        "baseline_validation_mae": _mae(naive_blend(X[cut:], feature_names), y[cut:]),
        "mean_validation_mae": _mae(np.full(X.shape[0] - cut, y[:cut].mean()), y[cut:]),
        "train_rows": float(cut),
        "validation_rows": float(X.shape[0] - cut),
        **{("trees" if name == "points" else f"{name}_trees"): float(b.num_boosted_rounds())
           for name, b in boosters.named().items()},
    }
    return ModelArtifact(boosters, linear, feature_version, tuple(feature_names),
                         trained_through, metrics,
                         _model_version(boosters, linear, feature_version, trained_through))


def refit_on_all_rows(artifact: ModelArtifact, X: np.ndarray, y: np.ndarray,
                      minutes: np.ndarray, *, seed: int = 0) -> ModelArtifact:
    """``artifact`` (from ``train_model`` on the same rows) boosted again on every row, its
    validation tail included, each booster with the number of trees early stopping chose for
    it, and its linear part fitted again on every row; its metrics stay those measured on the
    tail. The newest nights are the most telling about tonight: refitted points boosters
    scored 0.9803x, 0.9790x and 0.9748x the blend where the held-out ones scored 0.9820x,
    0.9799x and 0.9774x (boosted through 2023-01-31, 10-31 and 11-30, judged on the following
    nights)."""
    X, targets = _validated_training_data(X, y, minutes, len(artifact.feature_names))
    held_out = artifact.boosters.named()

    def fit(name: str, target: np.ndarray) -> Any:
        params = {k: v for k, v in PARAMS_OF[name].items() if k != "early_stopping_rounds"}
        trees = int(held_out[name].num_boosted_rounds())
        regressor = _xgboost().XGBRegressor(**{**params, "n_estimators": trees},
                                            random_state=seed)
        regressor.fit(X, target, verbose=False)
        return regressor.get_booster()

    boosters = Boosters(**_fit_each(targets, fit))
    linear = fit_linear_part(X, targets["points"])
    return replace(artifact, boosters=boosters, linear=linear, model_version=_model_version(
        boosters, linear, artifact.feature_version, artifact.trained_through))


def xgboost_confidence(predicted: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Vectorised confidence: distance from L10 in volatility units, volatility, injury risk."""
    l10 = _column(matrix, FEATURE_NAMES, "points_avg_last_10")
    std10 = _column(matrix, FEATURE_NAMES, "points_std_last_10")
    distance = np.abs(predicted - l10) / np.maximum(std10, MIN_STD)
    volatility = std10 / np.maximum(l10, 1.0)
    return (CONFIDENCE_BASE
            - np.minimum(DISTANCE_WEIGHT * distance, DISTANCE_CAP)
            - np.minimum(VOLATILITY_WEIGHT * volatility, VOLATILITY_CAP)
            - PER_INJURY_LEVEL * _column(matrix, FEATURE_NAMES, "injury_risk"))


def incompatibility(artifact: ModelArtifact | None) -> str | None:
    """Why ``artifact`` cannot score today's features, or None when it can."""
    if artifact is None:
        return "no model loaded for xgboost_v1"
    if artifact.feature_version != FEATURE_VERSION:
        return (f"model {artifact.model_version} was trained on feature version "
                f"{artifact.feature_version!r}, features are {FEATURE_VERSION!r}; retrain")
    if tuple(artifact.feature_names) != MODEL_INPUT_NAMES:
        return (f"model {artifact.model_version} expects inputs in a different order or "
                f"set than {FEATURE_VERSION!r} and the role inputs; retrain")
    for name, booster in artifact.boosters.named().items():
        if booster.num_features() != len(MODEL_INPUT_NAMES):
            return (f"model {artifact.model_version}'s {name} booster has "
                    f"{booster.num_features()} inputs")
    return None


class XGBoostSystem:
    """The ``xgboost_v1`` system around a loaded artefact (or none, which fails this system)."""

    def __init__(self, artifact: ModelArtifact | None, *, unavailable_reason: str | None = None):
        self.artifact = artifact
        self._problem = incompatibility(artifact)
        if artifact is None and unavailable_reason:
            self._problem = unavailable_reason

    @property
    def model_version(self) -> str | None:
        """The artefact's version, or None without a model."""
        return None if self.artifact is None else self.artifact.model_version

    @property
    def available(self) -> bool:
        """Whether predictions can be made."""
        return self._problem is None

    def _require_model(self) -> ModelArtifact:
        if self._problem is not None or self.artifact is None:
            raise PredictionUnavailable(self._problem or "no model loaded for xgboost_v1")
        return self.artifact

    def predict_parts(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """Each booster's and the linear part's raw predictions for an n x
        ``len(MODEL_INPUT_NAMES)`` matrix of ``model_inputs`` rows."""
        artifact = self._require_model()
        rows = np.asarray(matrix, dtype=np.float64)
        width = len(MODEL_INPUT_NAMES)
        if rows.ndim != 2 or rows.shape[1] != width:
            raise PredictionUnavailable(f"expected an n x {width} matrix, got {rows.shape}")
        return artifact.parts(rows)

    def predict_points(self, matrix: np.ndarray) -> np.ndarray:
        """The model's raw points for an n x ``len(MODEL_INPUT_NAMES)`` matrix of
        ``model_inputs`` rows, unclamped (for batch evaluation)."""
        return combined(self.predict_parts(matrix))

    def predict_many(
        self, matrix: np.ndarray, lines: Sequence[float | None] | None = None
    ) -> list[Prediction]:
        """One prediction per ``model_inputs`` row, the model called once for the whole
        matrix (role inputs may be NaN: unknown; the 25 features may not)."""
        rows = np.asarray(matrix, dtype=np.float64)
        if rows.ndim == 2 and (not np.isfinite(rows[:, :FEATURE_COUNT]).all()
                               or np.isinf(rows).any()):
            raise PredictionUnavailable("feature matrix contains missing or infinite values")
        parts = self.predict_parts(rows)
        raw = combined(parts)
        confidence = xgboost_confidence(raw, rows)
        lines = [None] * len(rows) if lines is None else list(lines)
        if len(lines) != len(rows):
            raise PredictionUnavailable(f"{len(rows)} feature rows but {len(lines)} lines")
        return [finish(XGBOOST, float(p), float(c), line, {
                    "model_version": self.model_version, "raw": round(float(p), 3),
                    **{PART_LABELS[name]: round(float(values[i]), 3)
                       for name, values in parts.items()}})
                for i, (p, c, line) in enumerate(zip(raw, confidence, lines))]

    def predict(self, inputs: Sequence[float], line: float | None) -> Prediction:
        """Predict one player's points from their ``model_inputs`` row."""
        return self.predict_many(np.asarray([inputs], dtype=np.float64), [line])[0]
