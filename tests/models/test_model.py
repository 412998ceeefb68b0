"""The model: time split without leakage, calibration, quality against the oracle and the points table, bundle safety."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from leadscore.features.synthetic import true_probability
from leadscore.models.bundle import load_bundle, save_bundle
from leadscore.models.calibration import calibrate, choose_method, expected_calibration_error
from leadscore.models.lgbm import LeadScoringModel
from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import InsufficientDataError, SchemaMismatchError
from leadscore.pipeline.split import split_by_time


def _frame(n_dates=20, per_date=400, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_dates, freq="30D", tz="UTC")
    rows = []
    for d in dates:
        x = rng.normal(size=per_date)
        rows.append(pd.DataFrame({"lead_id": [f"L{i}" for i in range(per_date)], "as_of": d, "x": x,
                                  "kind": rng.choice(["a", "b", "c"], per_date),
                                  "label": (rng.random(per_date) < 1 / (1 + np.exp(-(2 * x - 3)))).astype(int)}))
    return pd.concat(rows, ignore_index=True)


def test_time_split_orders_slices_and_purges_labels_that_reach_the_next_slice():
    frame = _frame()
    config = load_config()
    split = split_by_time(frame, config)
    horizon = pd.Timedelta(days=config.windows.horizon_days)
    fit_dates, cal_dates, test_dates = (frame.loc[m, "as_of"] for m in (split.fit | split.validation, split.calibration, split.test))
    assert fit_dates.max() < cal_dates.min() < cal_dates.max() < test_dates.min()
    assert (fit_dates + horizon <= split.calibration_start).all()
    assert (cal_dates + horizon <= split.test_start).all()
    assert split.purged > 0
    # early stopping holds out whole leads: no lead is on both sides
    assert not set(frame.loc[split.fit, "lead_id"]) & set(frame.loc[split.validation, "lead_id"])


def test_too_few_outcomes_is_a_clear_refusal():
    frame = _frame(per_date=30)
    with pytest.raises(InsufficientDataError, match=r"slice has \d+ won .* split.min_won 40 won and split.min_lost 40 not-won"):
        split_by_time(frame, load_config())


def test_calibration_lowers_the_brier_score_and_keeps_probabilities_in_range():
    frame = _frame(seed=1)
    X, y = frame[["x", "kind"]], frame["label"].to_numpy()
    n = len(frame) // 2
    # scale_pos_weight distorts probabilities; calibration on a later slice must repair them
    model = LeadScoringModel({"n_estimators": 50, "scale_pos_weight": 10}).fit(X[:n], y[:n])
    raw = model.predict_proba(X[n:])[:, 1]
    cal_part, test_part = slice(n, n + n // 2), slice(n + n // 2, None)
    calibrated = calibrate(model, X[cal_part], y[cal_part], choose_method(y[cal_part], 200))
    p = calibrated.predict_proba(X[test_part])[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert brier_score_loss(y[test_part], p) < brier_score_loss(y[test_part], raw[len(y[n:n + n // 2]):])
    assert expected_calibration_error(y[test_part], p) < expected_calibration_error(y[test_part], raw[len(y[n:n + n // 2]):])


def test_sigmoid_calibration_keeps_the_many_near_zero_scores_near_zero():
    """Platt scaling reads the booster's log-odds: on probabilities it would lift every lead under 1% to ~1%."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=60_000)
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(2.5 * x - 6)))).astype(int)  # 2.6% win, most leads far below
    X = pd.DataFrame({"x": x})
    fit, cal, test = slice(0, 30_000), slice(30_000, 45_000), slice(45_000, None)
    model = LeadScoringModel({"n_estimators": 100}).fit(X[fit], y[fit])
    p = calibrate(model, X[cal], y[cal], "sigmoid").predict_proba(X[test])[:, 1]
    low = p <= np.quantile(p, 0.7)
    assert abs(p[low].mean() - y[test][low].mean()) < 0.003  # Platt on probabilities: 0.0103 predicted against 0.0020 observed
    assert expected_calibration_error(y[test], p) < 0.006  # Platt on probabilities: 0.0135


def test_unseen_categories_at_scoring_are_missing_not_errors():
    frame = _frame(seed=2)
    model = LeadScoringModel({"n_estimators": 20}).fit(frame[["x", "kind"]], frame["label"])
    new = pd.DataFrame({"x": [0.0, 0.0], "kind": ["a", "never-seen"]})
    assert model.prepare(new)["kind"].isna().tolist() == [False, True]
    assert model.predict_proba(new).shape == (2, 2)


def test_the_trained_model_meets_the_quality_bar(trained, trained_crm):
    _, _, result = trained
    test = result.test_frame
    oracle = true_probability(trained_crm.truth, test[["lead_id", "as_of"]], horizon_days=90)
    oracle_auc = roc_auc_score(test["label"], oracle)
    model_auc, rule_auc = result.metrics["model"]["roc_auc"], result.metrics["rule"]["roc_auc"]
    # measured on this 5,000-lead set, on the default population (leads with an open opportunity left out): model 0.878,
    # oracle 0.940, points table 0.852 (ranked by its points, not by its tied calibrated plateaus). Those leads were the
    # easiest to rank for every scorer (with them: model 0.922, oracle 0.958, points 0.885); a model trained with them
    # included reaches 0.883 on the same test leads, so the wider gap is the population's, not the lost training rows'.
    # The bars are checked on 100k leads by benchmarks/bench_quality.py (BENCHMARKS.md).
    assert oracle_auc - model_auc < 0.07
    assert model_auc - rule_auc > 0.02
    assert result.metrics["model"]["ece"] < 0.02


def test_bundle_records_schema_and_refuses_a_tampered_model_file(trained, tmp_path):
    _, _, result = trained
    manifest = json.loads((result.bundle_dir / "manifest.json").read_text())
    assert {"features", "points_table", "window", "metrics", "versions", "sha256", "drift_reference"} <= set(manifest)
    copy = tmp_path / "bundle"
    save_bundle(load_bundle(result.bundle_dir, manifest["sha256"]), copy)
    recorded = json.loads((copy / "manifest.json").read_text())["sha256"]
    with open(copy / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(SchemaMismatchError, match="sha256 .* does not match the .* its training run recorded"):
        load_bundle(copy, recorded)
    with pytest.raises(SchemaMismatchError, match="no training run records this model's sha256"):
        load_bundle(copy, None)


def test_scoring_data_with_another_schema_is_a_clear_error(trained):
    _, _, result = trained
    frame = pd.read_parquet(result.bundle_dir / "test_slice.parquet").drop(columns=["web_visit_count_30d"])
    frame["seniority"] = 3.0
    with pytest.raises(SchemaMismatchError, match=r"missing columns web_visit_count_30d; columns with another type: seniority \(category in training, number now\)"):
        result.bundle.check_schema(frame)


def test_features_the_model_never_saw_are_named_as_extra(trained):
    _, _, result = trained
    frame = pd.read_parquet(result.bundle_dir / "test_slice.parquet")
    frame["brand_new_feature"] = 1.0
    result.bundle.check_schema(frame)  # ids, labels and unknown columns alone are not judged
    with pytest.raises(SchemaMismatchError, match=r"extra columns brand_new_feature"):
        result.bundle.check_schema(frame, feature_names=[*result.bundle.feature_names, "brand_new_feature"])
