"""The xgboost system: training, the saved artefact and predictions."""

import dataclasses
import json
from datetime import date

import numpy as np
import pytest

from tipoff.adapters.model_files import load_model_file, save_model
from tipoff.domain.features import FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES
from tipoff.domain.systems.model_inputs import MODEL_INPUT_NAMES
from tipoff.domain.systems import PredictionUnavailable, XGBoostSystem, train_model
from tipoff.domain.systems.xgboost_model import naive_blend, xgboost_confidence
from tipoff.errors import InputError

TRAINED_THROUGH = date(2026, 1, 31)


INPUT_INDEX = {name: i for i, name in enumerate(MODEL_INPUT_NAMES)}


def synthetic_rows(n, seed):
    """Plausible model input rows (the 25 features, then role inputs, some unknown), points
    that depend on form, minutes, defense, usage and venue, and the minutes played."""
    rng = np.random.default_rng(seed)
    X = np.full((n, len(MODEL_INPUT_NAMES)), np.nan)
    X[:, :FEATURE_COUNT] = 0.0

    def put(name, values):
        X[:, INPUT_INDEX[name]] = values

    l10 = rng.uniform(5, 30, n)
    put("points_avg_last_10", l10)
    put("points_avg_last_5", l10 + rng.normal(0, 2, n))
    put("points_avg_season", l10 + rng.normal(0, 1.5, n))
    put("points_std_last_10", np.clip(0.3 * l10 + rng.normal(0, 1, n), 1, None))
    put("games_in_last_7_days", rng.integers(2, 5, n))
    put("fatigue_score", rng.uniform(40, 100, n))
    put("shot_zone_mismatch_score", rng.uniform(-10, 10, n))
    put("pace_score", rng.uniform(-3, 3, n))
    put("usage_spike_score", rng.uniform(-3, 3, n))
    put("opponent_def_rating", rng.uniform(104, 120, n))
    put("opponent_pace", rng.uniform(95, 103, n))
    put("home_away", rng.integers(0, 2, n))
    put("back_to_back", rng.random(n) < 0.2)
    shares = rng.dirichlet([4, 2, 4], n)
    for i, zone in enumerate(("pct_paint", "pct_mid_range", "pct_three")):
        put(zone, shares[:, i])
    put("pct_free_throw", rng.uniform(0, 0.3, n))
    put("team_pace", rng.uniform(95, 103, n))
    put("team_off_rating", rng.uniform(105, 120, n))
    put("team_win_pct", rng.uniform(0.2, 0.8, n))
    minutes = rng.uniform(10, 36, n)
    put("minutes_avg_last_5", np.where(rng.random(n) < 0.1, np.nan, minutes))
    put("days_rest", rng.integers(0, 4, n))

    def col(name):
        return X[:, INPUT_INDEX[name]]

    y = (naive_blend(X, MODEL_INPUT_NAMES) + 0.3 * (minutes - 23)
         + 0.3 * (col("opponent_def_rating") - 112)
         + 0.3 * col("shot_zone_mismatch_score") + 1.2 * col("usage_spike_score")
         + 0.5 * col("home_away") - 1.0 * col("back_to_back")
         + rng.normal(0, 1.5, n))
    played = np.clip(minutes + rng.normal(0, 3, n), 1, 48)
    return X, np.clip(y, 0, None), played


@pytest.fixture(scope="module")
def data():
    return synthetic_rows(2000, seed=7)


@pytest.fixture(scope="module")
def artifact(data):
    X, y, minutes = data
    return train_model(X, y, minutes, trained_through=TRAINED_THROUGH, seed=3)


def test_the_trained_model_beats_a_constant_predictor_and_the_naive_blend(artifact):
    X_test, y_test, _ = synthetic_rows(500, seed=99)
    system = XGBoostSystem(artifact)
    model_mae = np.mean(np.abs(system.predict_points(X_test) - y_test))
    assert model_mae < np.mean(np.abs(y_test.mean() - y_test)) * 0.6
    assert model_mae < np.mean(np.abs(naive_blend(X_test, MODEL_INPUT_NAMES) - y_test))


def test_a_prediction_mixes_the_boosters_points_and_minutes_times_rate_with_the_line(artifact):
    X_test, _, minutes = synthetic_rows(500, seed=99)
    parts = {name: booster.inplace_predict(X_test)
             for name, booster in artifact.boosters.named().items()}
    parts["linear"] = artifact.linear.predict(X_test)
    boosted = 0.5 * parts["points"] + 0.5 * parts["minutes"] * parts["points_per_minute"]
    want = 0.7 * boosted + 0.3 * parts["linear"]
    system = XGBoostSystem(artifact)
    np.testing.assert_allclose(system.predict_points(X_test), want)
    assert (np.mean(np.abs(parts["minutes"] - minutes))
            < 0.6 * np.mean(np.abs(minutes.mean() - minutes)))  # it learned the minutes
    recorded = system.predict(X_test[0], None).components
    assert recorded["minutes"] == round(float(parts["minutes"][0]), 3)
    assert recorded["points_per_minute"] == round(float(parts["points_per_minute"][0]), 3)
    assert recorded["points_booster"] == round(float(parts["points"][0]), 3)
    assert recorded["linear"] == round(float(parts["linear"][0]), 3)
    assert recorded["raw"] == round(float(want[0]), 3)


def test_metrics_compare_the_model_with_the_naive_blend_on_the_validation_tail(artifact):
    metrics = artifact.metrics
    assert metrics["validation_rows"] == 400 and metrics["train_rows"] == 1600
    assert metrics["validation_mae"] < metrics["baseline_validation_mae"]
    assert metrics["validation_mae"] < metrics["mean_validation_mae"]
    assert 1 <= metrics["trees"] <= 600
    assert 1 <= metrics["minutes_trees"] <= 600 and 1 <= metrics["points_per_minute_trees"] <= 600
    assert metrics["points_booster_validation_mae"] < metrics["mean_validation_mae"]
    assert metrics["linear_validation_mae"] < metrics["mean_validation_mae"]


def test_the_artefact_records_its_feature_contract_and_version(artifact):
    assert artifact.feature_version == "v1_25"
    assert artifact.feature_names == MODEL_INPUT_NAMES
    assert artifact.feature_names[:FEATURE_COUNT] == FEATURE_NAMES
    assert artifact.trained_through == TRAINED_THROUGH
    assert artifact.model_version.startswith("xgboost_v1-v1_25-20260131-")


def test_training_is_reproducible_with_the_same_seed(data, artifact):
    X, y, minutes = data
    again = train_model(X, y, minutes, trained_through=TRAINED_THROUGH, seed=3)
    assert again.model_version == artifact.model_version


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path, data, artifact):
    X = data[0]
    weighted = artifact.with_ensemble_weights({"xgboost_v1": 0.6, "zone_matchup_v1": 0.4})
    path = save_model(weighted, tmp_path / "models" / "xgboost_v1.json")
    loaded = load_model_file(path)
    assert np.array_equal(XGBoostSystem(loaded).predict_points(X),
                          XGBoostSystem(artifact).predict_points(X))
    assert loaded.model_version == artifact.model_version
    assert loaded.metrics == artifact.metrics
    assert loaded.trained_through == TRAINED_THROUGH
    assert loaded.ensemble_weights == {"xgboost_v1": 0.6, "zone_matchup_v1": 0.4}
    assert json.loads(path.read_text())["format"] == "tipoff.xgboost_model/3"


def test_loading_a_missing_file_says_there_is_no_model(tmp_path):
    with pytest.raises(PredictionUnavailable, match="no model at"):
        load_model_file(tmp_path / "absent.json")


def test_loading_a_corrupt_file_says_it_is_corrupt(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PredictionUnavailable, match="corrupt"):
        load_model_file(tmp_path / "bad.json")
    (tmp_path / "half.json").write_text(json.dumps({"format": "tipoff.xgboost_model/3"}))
    with pytest.raises(PredictionUnavailable, match="corrupt"):
        load_model_file(tmp_path / "half.json")


def test_an_artefact_of_an_earlier_format_must_be_retrained(tmp_path, artifact):
    doc = json.loads(artifact.to_json())
    linear = doc.pop("linear")
    single_booster = {**doc, "format": "tipoff.xgboost_model/1",
                      "booster": doc["boosters"]["points"]}
    without_linear = {**doc, "format": "tipoff.xgboost_model/2"}
    for earlier in (single_booster, without_linear):
        (tmp_path / "old.json").write_text(json.dumps(earlier))
        with pytest.raises(PredictionUnavailable, match="earlier tipoff.*retrain"):
            load_model_file(tmp_path / "old.json")
    short = {**doc, "linear": {**linear, "coefficients": linear["coefficients"][:-1]}}
    (tmp_path / "short.json").write_text(json.dumps(short))
    with pytest.raises(PredictionUnavailable, match="corrupt.*linear part"):
        load_model_file(tmp_path / "short.json")


def test_without_a_model_the_system_is_unavailable_with_a_reason():
    system = XGBoostSystem(None, unavailable_reason="no model at /models/xgboost_v1.json")
    assert not system.available and system.model_version is None
    with pytest.raises(PredictionUnavailable, match="no model at /models"):
        system.predict([0.0] * len(MODEL_INPUT_NAMES), 20.5)
    with pytest.raises(PredictionUnavailable, match="no model"):
        XGBoostSystem(None).predict([0.0] * len(MODEL_INPUT_NAMES), 20.5)


def test_a_model_for_another_feature_version_is_unavailable(data, artifact):
    old = dataclasses.replace(artifact, feature_version="v0_20")
    with pytest.raises(PredictionUnavailable, match="feature version 'v0_20'"):
        XGBoostSystem(old).predict(data[0][0], 20.5)


def test_a_model_with_features_in_another_order_is_unavailable(data, artifact):
    shuffled = dataclasses.replace(artifact, feature_names=tuple(reversed(MODEL_INPUT_NAMES)))
    with pytest.raises(PredictionUnavailable, match="different order"):
        XGBoostSystem(shuffled).predict(data[0][0], 20.5)


def test_batch_predictions_match_one_at_a_time_predictions(data, artifact):
    X = data[0]
    system = XGBoostSystem(artifact)
    lines = [15.5, None, 30.5]
    batch = system.predict_many(X[:3], lines)
    assert batch == [system.predict(row, line) for row, line in zip(X[:3], lines)]
    assert batch[0].components["model_version"] == artifact.model_version
    assert batch[1].recommendation == "PASS"


def test_predictions_follow_the_shared_rules(data, artifact):
    system = XGBoostSystem(artifact)
    prediction = system.predict(data[0][0], 0.5)
    assert prediction.system_id == "xgboost_v1"
    assert prediction.predicted_points == round(prediction.predicted_points, 1)
    assert 0 <= prediction.confidence <= 100
    expected = "OVER" if prediction.confidence >= 60 else "PASS"
    assert prediction.recommendation == expected


def test_confidence_falls_as_the_model_strays_from_recent_form_and_with_volatility():
    row = np.zeros((1, len(FEATURE_NAMES)))
    row[0, FEATURE_INDEX["points_avg_last_10"]] = 20.0
    row[0, FEATURE_INDEX["points_std_last_10"]] = 4.0
    near = xgboost_confidence(np.array([20.5]), row)[0]
    far = xgboost_confidence(np.array([28.0]), row)[0]
    volatile = row.copy()
    volatile[0, FEATURE_INDEX["points_std_last_10"]] = 9.0
    assert far < near
    assert xgboost_confidence(np.array([20.5]), volatile)[0] < near


def test_training_refuses_too_few_rows_or_misshapen_data():
    X, y, minutes = synthetic_rows(40, seed=1)
    with pytest.raises(InputError, match="at least 50"):
        train_model(X, y, minutes, trained_through=TRAINED_THROUGH, seed=0)
    with pytest.raises(InputError, match=f"n x {len(MODEL_INPUT_NAMES)}"):
        train_model(X[:, :24], y, minutes, trained_through=TRAINED_THROUGH, seed=0)
    with pytest.raises(InputError, match="but minutes of shape"):
        train_model(X, y, minutes[:-1], trained_through=TRAINED_THROUGH, seed=0)
    minutes[3] = np.nan
    with pytest.raises(InputError, match="minutes contain missing"):
        train_model(X, y, minutes, trained_through=TRAINED_THROUGH, seed=0)


def test_a_model_of_the_25_features_alone_must_be_retrained(data):
    X, y, minutes = data
    old = train_model(X[:, :FEATURE_COUNT], y, minutes, trained_through=TRAINED_THROUGH,
                      feature_names=FEATURE_NAMES, seed=3)
    assert not XGBoostSystem(old).available
    with pytest.raises(PredictionUnavailable, match="different order or set.*retrain"):
        XGBoostSystem(old).predict(X[0], 20.5)


def test_unknown_role_inputs_are_allowed_and_unknown_features_are_not(data, artifact):
    X = data[0]
    system = XGBoostSystem(artifact)
    unknown_role = X[:2].copy()
    unknown_role[:, FEATURE_COUNT:] = np.nan
    assert len(system.predict_many(unknown_role)) == 2
    broken = X[:2].copy()
    broken[0, FEATURE_INDEX["points_avg_last_5"]] = np.nan
    with pytest.raises(PredictionUnavailable, match="missing or infinite"):
        system.predict_many(broken)
    broken = X[:2].copy()
    broken[1, -1] = np.inf
    with pytest.raises(PredictionUnavailable, match="missing or infinite"):
        system.predict_many(broken)


def test_refitting_on_all_rows_keeps_the_tree_count_and_the_held_out_metrics(data, artifact):
    from tipoff.domain.systems.xgboost_model import refit_on_all_rows

    X, y, minutes = data
    final = refit_on_all_rows(artifact, X, y, minutes, seed=3)
    for name, booster in final.boosters.named().items():
        assert booster.num_boosted_rounds() == artifact.boosters.named()[name].num_boosted_rounds()
    assert final.metrics == artifact.metrics and final.feature_names == artifact.feature_names
    assert final.model_version != artifact.model_version
    assert not np.array_equal(final.linear.coefficients, artifact.linear.coefficients)
    tail = slice(int(artifact.metrics["train_rows"]), None)

    def tail_mae(model):
        return np.mean(np.abs(XGBoostSystem(model).predict_points(X[tail]) - y[tail]))

    assert tail_mae(final) < tail_mae(artifact)  # the refit has learned from the tail too
    assert refit_on_all_rows(artifact, X, y, minutes, seed=3).model_version == final.model_version
