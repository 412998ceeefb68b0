"""The train stage: snapshots, labels and features → time split → LightGBM → calibration → bundle → MLflow.

The rule baseline is fitted and scored on exactly the same slices, so every figure the
report shows for the points table and the model comes from the same held-out leads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.crm import Crm
from features.dataset import build_training_set
from models.bundle import ModelBundle, save_bundle, schema_of
from models.calibration import calibrate, choose_method
from models.lgbm import LeadScoringModel
from models.metrics import classification_metrics
from models.rules import PointsScorer, load_points_table
from pipeline.config import Config
from pipeline.drift import reference_from_training
from pipeline.grading import grade, segment
from pipeline.split import split_by_time

SLICE_COLUMNS = ("lead_source", "country", "company_size_band")


@dataclass
class TrainResult:
    """What a training run produced: the bundle, its metrics and the held-out test predictions."""

    bundle_dir: Path
    bundle: ModelBundle
    metrics: dict[str, dict[str, float]]
    split: dict
    summary: dict
    calibration_method: str
    test_frame: pd.DataFrame
    seconds: float
    run_id: str | None = None
    model_version: str | None = None
    promotion: object = None
    report_paths: dict = field(default_factory=dict)


def fit_models(crm: Crm, config: Config) -> TrainResult:
    """Build the training set, split by time, fit and calibrate the model and the points table."""
    started = time.perf_counter()
    training = build_training_set(crm, config)
    frame, names = training.frame, training.feature_names
    split = split_by_time(frame, config)
    X, y = frame[names], frame["label"].to_numpy()

    model = LeadScoringModel(config.model.params, config.model.early_stopping_rounds, config.model.seed)
    model.fit(X[split.fit], y[split.fit], eval_set=(X[split.validation], y[split.validation]))
    method = choose_method(y[split.calibration], config.model.isotonic_min_positives)
    calibrated = calibrate(model, X[split.calibration], y[split.calibration], method)
    # the points table's probability mapping is learned on the same slice the model is calibrated on
    points = PointsScorer(load_points_table(config.points_table)).fit(X[split.calibration], y[split.calibration])

    test = frame.loc[split.test].reset_index(drop=True)
    test_frame = score_frame(test, calibrated, points, config)
    metrics = {
        "model": classification_metrics(test_frame["label"], test_frame["model_proba"]),
        "rule": classification_metrics(test_frame["label"], test_frame["rule_proba"]),
    }
    train_scores = calibrated.predict_proba(X[split.fit])[:, 1]
    manifest = {
        "name": config.tracking.model_name,
        "features": schema_of(X, model.categories_),
        "points_table": points.table_.model_dump(mode="json"),
        "window": {
            "first_as_of": training.summary["first_as_of"], "last_as_of": training.summary["last_as_of"],
            "calibration_start": str(split.calibration_start.date()), "test_start": str(split.test_start.date()),
            "horizon_days": config.windows.horizon_days, "gap_days": config.windows.gap_days,
        },
        "calibration_method": method,
        "best_iteration": model.best_iteration_,
        "metrics": metrics,
        "grades": config.grades.model_dump(),
        "drift_reference": reference_from_training(X[split.fit], train_scores, config.grades.hot, config.scoring.drift.bins).to_dict(),
        "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
    }
    bundle = ModelBundle(calibrated=calibrated, model=model, points=points, manifest=manifest)
    folder = config.workdir_path / "models" / pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%f")
    save_bundle(bundle, folder)
    return TrainResult(
        bundle_dir=folder, bundle=bundle, metrics=metrics, split=split.describe(frame), summary=training.summary,
        calibration_method=method, test_frame=test_frame, seconds=time.perf_counter() - started,
    )


def score_frame(frame: pd.DataFrame, calibrated, points: PointsScorer, config: Config) -> pd.DataFrame:
    """Return the rows scored by both scorers, with segments, grades and slice columns."""
    model_proba = calibrated.predict_proba(frame)[:, 1]
    out = pd.DataFrame({
        "lead_id": frame["lead_id"].to_numpy(),
        "as_of": frame["as_of"].to_numpy(),
        "model_proba": model_proba,
        "model_grade": np.asarray(grade(model_proba, config.grades)),
        "model_segment": np.asarray(segment(model_proba, config.grades)),
        "rule_points": points.decision_function(frame),
        "rule_proba": points.predict_proba(frame)[:, 1],
        "rule_stage": np.asarray(points.stage(frame)),
        "rule_segment": np.asarray(points.segment(frame)),
    })
    if "label" in frame.columns:
        out.insert(2, "label", frame["label"].to_numpy())
    for column in SLICE_COLUMNS:
        if column in frame.columns:
            out[column] = frame[column].to_numpy()
    return out
