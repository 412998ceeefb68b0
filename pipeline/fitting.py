"""Fit the model and the points table with the training core, and describe them in a manifest (pure).

The time split gives the held-out figures; the core (`pipeline.core`) chooses the family,
backtests it and refits it to the data end. The rule baseline is fitted and scored on exactly
the same rows as the model in every window, so each figure compares both on the same leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.features.dataset import TrainingSet
from leadscore.features.registry import all_features
from leadscore.features.snapshots import moment_text
from leadscore.models.bundle import schema_of
from leadscore.models.leakage import refuse_leaky_features
from leadscore.features.vocabulary import produced_roles
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.models.rules.table import vocabulary_problem, without_unbuilt_rules
from leadscore.pipeline.config import Config, feature_settings
from leadscore.pipeline.core import CoreResult, backtest_means, train_core
from leadscore.pipeline.drift import DriftReference
from leadscore.pipeline.evaluation.figures import side_by_side_metrics
from leadscore.pipeline.rules_fitting import fit_table_on_split, should_fit
from leadscore.pipeline.scoring import score_frame
from leadscore.pipeline.split import split_by_time
from leadscore.pipeline.windows import Window


@dataclass
class FittedScorers:
    """Both scorers as deployed (refitted to the data end), with the held-out test slice and the backtest."""

    model: object
    calibrated: object
    points: PointsScorer
    calibration_method: str
    leakage: pd.DataFrame
    split: object
    test: pd.DataFrame
    test_frame: pd.DataFrame
    metrics: dict[str, dict[str, float]]
    core: CoreResult
    vocabulary_problem: str | None = None  # rules naming features the CRM does not produce (`vocabulary_problem`)
    table_fit: object = None  # a points table fitted on the training slice (`rules_fitting`), when asked or needed


def fit_scorers(training: TrainingSet, config: Config) -> FittedScorers:
    """Split by time, run the training core, and score both scorers on the test slice and the backtest folds."""
    frame, names = training.frame, training.feature_names
    split = split_by_time(frame, config)
    X, y = frame[names], frame["label"].to_numpy()
    leakage = refuse_leaky_features(X[split.fit], y[split.fit], config.model.allow_features, config.model.leakage_auc)
    # checked against the features this config builds (its windows name features such as web_visit_count_14d)
    registry = {f.name: f for f in all_features(config.for_features)}
    table = load_points_table(config.points_table)
    packaged = config.points_table is None
    problem = vocabulary_problem(table, registry, produced_roles(config.for_features), packaged=packaged)
    table = without_unbuilt_rules(table, registry) if packaged else table
    table_fit = (fit_table_on_split(frame, names, split, config, registry, table)
                 if should_fit(config, table, registry, produced_roles(config.for_features), packaged) else None)

    holdout = Window(split.test_start, split.calibration_start, split.fit, split.validation, split.calibration)
    reach = pd.Timedelta(days=config.windows.gap_days + config.windows.horizon_days)
    core = train_core(frame, names, holdout, split.test, config, reach, lambda: PointsScorer(table, features=registry),
                      lambda rows, calibrated, points: score_frame(rows, calibrated, points, config.grades))
    test = frame.loc[split.test].reset_index(drop=True)
    metrics = {**side_by_side_metrics(core.test_frame), "backtest": backtest_means(core.backtest)}
    deployed = core.deployed
    return FittedScorers(deployed.model, deployed.calibrated, deployed.points, deployed.method, leakage, split, test,
                         core.test_frame, metrics, core, problem, table_fit)


def manifest_for(fitted: FittedScorers, training: TrainingSet, config: Config, trained_at: pd.Timestamp,
                 drift_reference: DriftReference) -> dict:
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
        **core_manifest(fitted.core, training.frame),
        "calibration_method": fitted.calibration_method,
        "leakage_allowed": fitted.leakage.to_dict(orient="records"),
        "best_iteration": getattr(fitted.core.holdout.model, "best_iteration_", None),
        "metrics": fitted.metrics,
        "grades": config.grades.model_dump(),
        "drift_reference": drift_reference.to_dict(),  # what scoring's drift check compares with (`pipeline.drift_reference`)
        "trained_at": trained_at.isoformat(),
    }


def core_manifest(core: CoreResult, frame: pd.DataFrame) -> dict:
    """Return what the manifest records of the core: the family, why, the periods each model saw, the backtest."""
    from leadscore.pipeline.evaluation.report import training_summary

    return {**training_summary(core, frame), "backtest": core.backtest.to_dict(orient="records")}
