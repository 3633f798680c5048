"""Train the XGBoost model, the ensemble weights and the ensemble's calibration.

Each training night's features are rebuilt as stage 4 would have built them that night, and
the booster's role inputs from the player's history and the night's slate as the worker reads
them (``model_inputs``), so no row knows its own outcome; the targets are the points the
player then scored and the minutes they played.

Nested in time: the boosters learn from the first 80 % of rows; on the held-out tail (its
latest ``WEIGHT_DATES`` nights; their number is recorded in the metrics) the components'
predictions fit the ensemble weights; the nights with sportsbook lines fit the market
system's beta and its share of the ensemble where a line exists; and the ensemble's margin over
the line fits the calibration of its confidence (over the nights' sportsbook lines when the
store holds enough of them, else over tipoff's estimated line, the L10 average to the nearest
.5 that an unpriced player gets; the calibration records which).
Last, the boosters are fitted again on every row with the numbers of trees early stopping
chose (``refit_on_all_rows``, in a thread beside the ensemble fit): the weights and
calibration fitted on the tail apply to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np

from tipoff.domain.batches import estimate_line
from tipoff.domain.features import FEATURE_INDEX, FEATURE_VERSION
from tipoff.domain.history import history_inputs_many
from tipoff.domain.systems import (
    MOVING_AVERAGE,
    SIMILARITY,
    XGBOOST,
    ZONE_MATCHUP,
    ModelArtifact,
    Prediction,
    PredictionUnavailable,
    XGBoostSystem,
    fit_ensemble_weights,
    moving_average_predict,
    similarity_predict,
    train_model,
    zone_matchup_predict,
)
from tipoff.domain.systems.base import MARKET, MAX_POINTS, MIN_POINTS, MINUTES_ROLE
from tipoff.domain.systems.calibration import fit_calibration
from tipoff.domain.systems.market import (
    fit_beta, fit_market_weight, market_points, with_market_weight,
)
from tipoff.domain.systems.minutes_role import RoleContext, minutes_role_predict, slate_roles
from tipoff.domain.systems.model_inputs import slate_inputs
from tipoff.domain.systems.similarity import WINDOW_DAYS
from tipoff.domain.systems.xgboost_model import refit_on_all_rows
from tipoff.errors import InputError
from tipoff.pipeline.replay import Snapshot
from tipoff.ports import AnalyticsStore, Clock, ModelStore

Progress = Callable[[int, int, str], None]
MIN_TRAINING_ROWS = 200
WEIGHT_DATES = 45  # recent nights whose held-out predictions fit the weights and calibration
MIN_CALIBRATION_ROWS = 200
COMPONENTS = (MOVING_AVERAGE, ZONE_MATCHUP, SIMILARITY, XGBOOST, MINUTES_ROLE)
# The components' weights are pulled towards the booster alone: the tail's held-out booster is
# weaker than the refitted one the weights then serve, so the others must earn their share.
WEIGHT_PRIOR = {XGBOOST: 1.0}
# The ensemble's inputs: the components everywhere, the market system where a book line exists.
ENSEMBLE_INPUTS = (*COMPONENTS, MARKET)
STEPS = 5  # progress: stage 4 rows, the boosters, the ensemble fit, the refit, done


@dataclass(frozen=True)
class Example:
    """One training row: a ready player's features that night, the booster's inputs, their
    team's slate that night and the points they scored in the minutes they played."""

    game_date: date
    player_lookup: str
    features: list[float]
    days_rest: int | None
    points: float
    inputs: list[float]  # ``model_inputs``: the features, then the role inputs
    role: RoleContext | None = None
    minutes: float = 0.0  # minutes played that night


@dataclass(frozen=True)
class TrainReport:
    """What training produced."""

    path: str | None  # where the model store put it; None when it was not saved
    artifact: ModelArtifact
    nights: int
    rows: int

    def to_dict(self) -> dict:
        return {"path": self.path, "model_version": self.artifact.model_version,
                "trained_through": self.artifact.trained_through.isoformat(),
                "nights": self.nights, "rows": self.rows, "metrics": self.artifact.metrics,
                "ensemble_weights": self.artifact.ensemble_weights}


def examples(snapshot: Snapshot, dates: Sequence[date], now: datetime) -> list[Example]:
    """Ready players' feature rows of each night (stage 4 for all nights in one pass) with
    their role inputs (their history that night, all nights at once, and the night's whole
    slate), joined to what they scored."""
    points, minutes = _results_by_night(snapshot, dates)
    picked: list[tuple[date, dict, RoleContext | None]] = []
    for day, rows in snapshot.feature_rows_many(dates, now, hashed=False).items():
        scored = points.get(day, {})
        roles = slate_roles(rows)
        picked.extend((day, row, roles.get(row["player_lookup"])) for row in rows
                      if row["is_production_ready"] and row["player_lookup"] in scored)
    past = history_inputs_many(snapshot.logs, [row["player_lookup"] for _, row, _ in picked],
                               [day for day, _, _ in picked]).tolist()
    return [Example(day, row["player_lookup"], row["features"], row["days_rest"],
                    points[day][row["player_lookup"]],
                    [*row["features"], *history, *slate_inputs(row["features"], role,
                                                               row["days_rest"])], role,
                    minutes[day][row["player_lookup"]])
            for (day, row, role), history in zip(picked, past)]


Results = dict[date, dict[str, float]]


def _results_by_night(snapshot: Snapshot, dates: Sequence[date]) -> tuple[Results, Results]:
    """The points (``snapshot.actual_points``) and minutes of every player who played on
    each date, from one pass over the logs."""
    logs = snapshot.logs[snapshot.logs["game_date"].isin(set(dates))]
    points: Results = {}
    minutes: Results = {}
    played = logs["minutes"].astype(float).fillna(0.0)
    for day, player, scored, on_court in zip(logs["game_date"], logs["player_lookup"],
                                             logs["points"].astype(float), played):
        points.setdefault(day, {})[player] = scored
        minutes.setdefault(day, {})[player] = on_court
    return points, minutes


def train(store: AnalyticsStore, models: ModelStore | None, through: date, clock: Clock, *,
          name: str = XGBOOST, seed: int = 7, max_nights: int | None = None,
          progress: Progress | None = None) -> TrainReport:
    """Fit on the nights through ``through`` (the latest ``max_nights`` when given) and save
    the artefact in ``models`` under ``name`` (not saved when ``models`` is None)."""
    say = progress or (lambda done, total, label: None)
    say(0, STEPS, "reading the analytics tables")
    snapshot = Snapshot.load(store, through)
    played = set(snapshot.logs["game_date"])
    dates = [d for d in snapshot.game_dates(end=through) if d in played][-(max_nights or 0):]
    say(1, STEPS, f"stage 4 rows and role inputs of {len(dates)} nights")
    rows = examples(snapshot, dates, clock.now())
    if len(rows) < MIN_TRAINING_ROWS:
        raise InputError(f"only {len(rows)} training rows through {through}: need "
                         f"{MIN_TRAINING_ROWS} (load more history or train through a later date)")
    X = np.array([r.inputs for r in rows], dtype=float)
    y = np.array([r.points for r in rows], dtype=float)
    minutes = np.array([r.minutes for r in rows], dtype=float)
    say(2, STEPS, f"fitting XGBoost on {len(rows):,} rows (points, minutes, points per minute)")
    artifact = train_model(X, y, minutes, trained_through=through,
                           feature_version=FEATURE_VERSION, seed=seed)
    artifact = replace(artifact, metrics={**artifact.metrics,
                                          "moving_average_validation_mae": _baseline_mae(rows, artifact)})
    say(3, STEPS, "ensemble weights and calibration on the held-out nights (boosting again "
                  "on all rows beside them)")
    # The refit needs only the tree counts: xgboost runs it outside the GIL while the
    # held-out nights' systems run here.
    with ThreadPoolExecutor(1) as beside:
        refitted = beside.submit(refit_on_all_rows, artifact, X, y, minutes, seed=seed)
        weights, calibration, beta, market = ensemble_weights(snapshot, rows, artifact)
        say(4, STEPS, f"boosting again on all {len(rows):,} rows")
        final = refitted.result()
    fitted = {"ensemble_fit_nights": float(_tail_nights(rows, artifact)),
              "market_beta": beta[0], "market_beta_rows": float(beta[1]),
              "market_weight": market[0], "market_weight_rows": float(market[1])}
    artifact = replace(final.with_ensemble_weights(weights).with_calibration(calibration),
                       metrics={**final.metrics, **fitted})
    where = models.save(artifact, name) if models is not None else None
    say(STEPS, STEPS, f"trained on {len(rows):,} rows of {len(dates)} nights")
    return TrainReport(where, artifact, len(dates), len(rows))


def _baseline_mae(rows: list[Example], artifact: ModelArtifact) -> float:
    """MAE of the moving-average baseline system on the model's validation rows."""
    tail = rows[int(artifact.metrics["train_rows"]):]
    errors = [abs(moving_average_predict(r.features, None).predicted_points - r.points) for r in tail]
    return float(np.mean(errors))


def ensemble_weights(snapshot: Snapshot, rows: list[Example], artifact: ModelArtifact,
                     ) -> tuple[dict[str, float], dict | None, tuple[float, int],
                                tuple[float, int]]:
    """Weights of the components and of the market system (``market.fit_market_weight``:
    its share where a book line exists), the ensemble's calibration, and the market system's
    beta and weight (with their row counts), fit on the held-out tail the booster never
    trained on (its latest ``WEIGHT_DATES`` nights)."""
    tail = rows[int(artifact.metrics["train_rows"]):]
    recent = sorted({r.game_date for r in tail})[-WEIGHT_DATES:]
    wanted = set(recent)
    held_out = [r for r in tail if r.game_date in wanted]
    model = _BatchedModel(artifact, [r.inputs for r in held_out])
    matrix, market = [], []
    for day in recent:
        tonight = [r for r in held_out if r.game_date == day]
        # The systems called here read 90 days; the booster's rows already hold the rest.
        history = snapshot.history(day, {r.player_lookup for r in tonight}, days=WINDOW_DAYS)
        lines = snapshot.market_lines(day)
        for r in tonight:
            matrix.append(_component_points(r, history.get(r.player_lookup, ()), model))
            market.append(lines.get(r.player_lookup, np.nan))
    points = np.array(matrix, dtype=float)
    actual = np.array([r.points for r in held_out], dtype=float)
    weights = fit_ensemble_weights(points, actual, COMPONENTS, prior=WEIGHT_PRIOR)
    line = np.array(market, dtype=float)
    beta = fit_beta(points[:, COMPONENTS.index(XGBOOST)] - line, actual - line)
    by_market = np.round(np.clip(market_points(line, points[:, COMPONENTS.index(XGBOOST)],
                                               beta[0]), MIN_POINTS, MAX_POINTS), 1)  # as `finish`
    share = fit_market_weight(_centre(points, weights, COMPONENTS), by_market, actual)
    weights = with_market_weight(weights, share[0])
    inputs = np.column_stack([points, by_market])
    return (weights, _calibration(inputs, weights, held_out, line, ENSEMBLE_INPUTS), beta,
            share)


class _BatchedModel(XGBoostSystem):
    """The booster's predictions for many rows made in one call (one call per row costs a
    thread pool start-up each); ``predict`` hands them out for the very input rows it was
    given, as ``XGBoostSystem.predict`` would have made them."""

    def __init__(self, artifact: ModelArtifact, inputs: list[list[float]]) -> None:
        super().__init__(artifact)
        self._made: dict[int, Prediction] = {}
        if inputs and self.available:
            try:
                made = self.predict_many(np.array(inputs, dtype=float))
            except PredictionUnavailable:
                made = []  # e.g. a non-finite feature: each row then fails as it would alone
            self._made = {id(row): p for row, p in zip(inputs, made)}

    def predict(self, inputs, line: float | None) -> Prediction:
        made = self._made.get(id(inputs)) if line is None else None
        return made if made is not None else super().predict(inputs, line)


def _tail_nights(rows: list[Example], artifact: ModelArtifact) -> int:
    tail = rows[int(artifact.metrics["train_rows"]):]
    return min(len({r.game_date for r in tail}), WEIGHT_DATES)


def _centre(points: np.ndarray, weights: dict[str, float], ids: Sequence[str]) -> np.ndarray:
    """The ensemble's points per row: the weights renormalised over the available columns."""
    w = np.array([weights.get(sid, 0.0) for sid in ids])
    available = np.isfinite(points)
    total = np.where(available, w, 0.0).sum(axis=1)
    return np.round(np.where(available, points, 0.0) @ w
                    / np.where(total > 0, total, np.nan), 1)


def _calibration(points: np.ndarray, weights: dict[str, float], rows: list[Example],
                 book: np.ndarray, ids: Sequence[str] = COMPONENTS) -> dict | None:
    """Calibrated P(over the line) on the ensemble's margin (``points`` has one column per id
    in ``ids``), over the sportsbook lines of the held-out nights when there are enough of
    them (``MIN_CALIBRATION_ROWS``), else over the estimated lines; None with too few rows
    either way."""
    centre = _centre(points, weights, ids)
    actual = np.array([r.points for r in rows])
    estimated = np.array([estimate_line(r.features[FEATURE_INDEX["points_avg_last_10"]])
                          for r in rows])
    for source, lines in (("sportsbook", book), ("estimate", estimated)):
        decided = np.isfinite(centre) & np.isfinite(lines) & (actual != lines)
        if decided.sum() >= MIN_CALIBRATION_ROWS:
            fitted = fit_calibration(centre[decided] - lines[decided],
                                     (actual[decided] > lines[decided]).astype(float))
            return {**fitted.to_dict(), "lines": source}
    return None


def _component_points(row: Example, history, model: XGBoostSystem) -> list[float]:
    calls = (lambda: moving_average_predict(row.features, None),
             lambda: zone_matchup_predict(row.features, None),
             lambda: similarity_predict(row.features, None, history, days_rest=row.days_rest),
             lambda: model.predict(row.inputs, None),
             lambda: minutes_role_predict(row.features, None, history, row.role, row.days_rest))
    points = []
    for call in calls:
        try:
            points.append(call().predicted_points)
        except PredictionUnavailable:
            points.append(np.nan)
    return points
