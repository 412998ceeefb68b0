"""Fit the LightGBM model and the points table on the time split, and describe them in a manifest (pure).

The rule baseline is fitted and scored on exactly the same slices, so every figure the
report shows for the points table and the model comes from the same held-out leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.features.dataset import TrainingSet
from leadscore.features.registry import all_features
from leadscore.features.snapshots import moment_text
from leadscore.models.bundle import schema_of
from leadscore.models.calibration import calibrate, choose_method
from leadscore.models.leakage import refuse_leaky_features
from leadscore.models.lgbm import LeadScoringModel
from leadscore.features.vocabulary import produced_roles
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.models.rules.table import vocabulary_problem, without_unbuilt_rules
from leadscore.pipeline.config import Config, feature_settings
from leadscore.pipeline.drift import reference_from_training
from leadscore.pipeline.evaluation.figures import side_by_side_metrics
from leadscore.pipeline.rules_fitting import fit_table_on_split, should_fit
from leadscore.pipeline.scoring import score_frame
from leadscore.pipeline.split import split_by_time


@dataclass
class FittedScorers:
    """Both scorers fitted on one training set, with the held-out test slice they were judged on."""

    model: LeadScoringModel
    calibrated: object
    points: PointsScorer
    calibration_method: str
    leakage: pd.DataFrame
    split: object
    test: pd.DataFrame
    test_frame: pd.DataFrame
    metrics: dict[str, dict[str, float]]
    vocabulary_problem: str | None = None  # rules naming features the CRM does not produce (`vocabulary_problem`)
    table_fit: object = None  # a points table fitted on the training slice (`rules_fitting`), when asked or needed


def fit_scorers(training: TrainingSet, config: Config) -> FittedScorers:
    """Split by time, fit and calibrate the model, fit the points table, and score both on the test slice."""
    frame, names = training.frame, training.feature_names
    split = split_by_time(frame, config)
    X, y = frame[names], frame["label"].to_numpy()
    leakage = refuse_leaky_features(X[split.fit], y[split.fit], config.model.allow_features, config.model.leakage_auc)

    model = LeadScoringModel(config.model.params, config.model.early_stopping_rounds, config.model.seed)
    model.fit(X[split.fit], y[split.fit], eval_set=(X[split.validation], y[split.validation]))
    method = choose_method(y[split.calibration], config.model.isotonic_min_positives)
    calibrated = calibrate(model, X[split.calibration], y[split.calibration], method)
    # the points table's probability mapping is learned on the same slice the model is calibrated on
    # checked against the features this config builds (its windows name features such as web_visit_count_14d)
    registry = {f.name: f for f in all_features(config.for_features)}
    table = load_points_table(config.points_table)
    packaged = config.points_table is None
    problem = vocabulary_problem(table, registry, produced_roles(config.for_features), packaged=packaged)
    table = without_unbuilt_rules(table, registry) if packaged else table
    points = PointsScorer(table, features=registry).fit(X[split.calibration], y[split.calibration])
    table_fit = (fit_table_on_split(frame, names, split, config, registry, table)
                 if should_fit(config, table, registry, produced_roles(config.for_features), packaged) else None)

    test = frame.loc[split.test].reset_index(drop=True)
    test_frame = score_frame(test, calibrated, points, config.grades)
    return FittedScorers(model, calibrated, points, method, leakage, split, test, test_frame, side_by_side_metrics(test_frame),
                         problem, table_fit)


def manifest_for(fitted: FittedScorers, training: TrainingSet, config: Config, trained_at: pd.Timestamp) -> dict:
    """Return the bundle manifest: feature schema and settings, points table, window, calibration, metrics, drift reference."""
    names, split = training.feature_names, fitted.split
    return {
        "name": config.tracking.model_name,
        "features": schema_of(training.frame[names], fitted.model.categories_),
        "feature_settings": feature_settings(config),
        "points_table": fitted.points.table_.model_dump(mode="json"),
        "window": {
            "first_as_of": training.summary["first_as_of"], "last_as_of": training.summary["last_as_of"],
            "calibration_start": moment_text(split.calibration_start), "test_start": moment_text(split.test_start),
            "horizon_days": config.windows.horizon_days, "gap_days": config.windows.gap_days,
        },
        "calibration_method": fitted.calibration_method,
        "leakage_allowed": fitted.leakage.to_dict(orient="records"),
        "best_iteration": fitted.model.best_iteration_,
        "metrics": fitted.metrics,
        "grades": config.grades.model_dump(),
        # drift is judged against the most recent population the model was evaluated on (the test slice):
        # features such as lead age and all-time counts grow with time, so older slices would always look drifted
        "drift_reference": reference_from_training(fitted.test[names], fitted.test_frame["model_proba"].to_numpy(),
                                                   config.grades.hot, config.scoring.drift.bins).to_dict(),
        "trained_at": trained_at.isoformat(),
    }
