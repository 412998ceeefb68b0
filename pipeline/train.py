"""Run the train stage: training set → fitted scorers → saved bundle → report → MLflow run → optional promotion.

This module is the wiring; the fitting is `pipeline.fitting`, the scoring `pipeline.scoring`,
the promotion `pipeline.champion`, the paths `pipeline.catalog`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.markup import escape

from leadscore.features.crm import Crm
from leadscore.features.dataset import build_training_set
from leadscore.models.bundle import ModelBundle, save_bundle
from leadscore.pipeline.catalog import Catalog, engine_settings
from leadscore.pipeline.champion import promote_version
from leadscore.pipeline.config import Config
from leadscore.pipeline.console import err
from leadscore.pipeline.crm_settings import fit_to_crm
from leadscore.pipeline.drift_reference import scoring_population_reference
from leadscore.pipeline.fitting import fit_scorers, manifest_for
from leadscore.pipeline.evaluation.report import training_summary
from leadscore.pipeline.rules_fitting import fitted_table_report, fitted_table_scorer, write_exports
from leadscore.pipeline.run_record import fold_metrics, training_metrics, training_params, version_description
from leadscore.pipeline.scoring import rule_thresholds
from leadscore.pipeline.split_checks import check_split
from leadscore.pipeline.vocabulary import warn_channel_contradictions


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
    left_out_test: pd.DataFrame = field(default_factory=pd.DataFrame)  # the test period's snapshots the population rule left out
    run_id: str | None = None
    model_version: str | None = None
    promotion: object = None
    report_paths: dict = field(default_factory=dict)
    table_fit: object = None  # a fitted points table (`rules_fitting.fit_table_on_split`), when one was fitted
    fitted_table: dict | None = None  # its report section
    fitted_table_on_test: tuple | None = None  # the fitted table's points per test row and its MQL cut, for the handoff audit
    core: object = None  # pipeline.core.CoreResult: family, backtest, the periods each model saw
    training: dict = field(default_factory=dict)  # what the report says of it (evaluation.report.training_summary)
    datasets: dict = field(default_factory=dict)  # context -> (frame, source) the MLflow run logs with `log_input`
    explainer: object = None  # the test slice with the held-out model behind its scores, for the report's factors and examples


def fit_models(crm: Crm, config: Config) -> TrainResult:
    """Build the training set, fit and calibrate both scorers, and save them as a bundle in the model store."""
    started = time.perf_counter()
    config = fit_to_crm(config, crm)  # the bundle records the activity types and lead columns this CRM has
    warn_channel_contradictions(crm, config)  # as validate warns: a run straight to training hears it too
    check_split(crm, config)  # seconds from the schedule and the label dates, before minutes of features
    training = build_training_set(crm, config.for_features, config.label, config.lifecycle)
    fitted = fit_scorers(training, config)
    if fitted.vocabulary_problem:
        err.print(f"[yellow]warning:[/] {escape(fitted.vocabulary_problem)}")
    for shift in fitted.core.shifts:
        err.print(f"[yellow]warning:[/] drift: {escape(shift)}; calibration used the most recent period")
    trained_at = pd.Timestamp.now(tz="UTC")
    # drift is judged against the leads this model will score, not its labelled past
    reference = scoring_population_reference(crm, config, fitted.calibrated, training.feature_names,
                                             fitted.test, fitted.test_frame["model_proba"].to_numpy())
    manifest = {**manifest_for(fitted, training, config, trained_at, reference), "label": config.label.model_dump()}
    bundle = ModelBundle(calibrated=fitted.calibrated, model=fitted.model, points=fitted.points, manifest=manifest,
                         holdout=fitted.core.holdout.calibrated, holdout_points=fitted.core.holdout.points)
    table_scorer = fitted_table_scorer(fitted, training.frame) if fitted.table_fit else None
    folder = Catalog.of(config).new_bundle_dir(trained_at)
    save_bundle(bundle, folder)
    # no lead ids: the slice is logged to MLflow, where promotion re-scores champions on it
    fitted.test[["as_of", "label", *training.feature_names]].to_parquet(Catalog.test_slice(folder), index=False)
    return TrainResult(
        bundle_dir=folder, bundle=bundle, metrics=fitted.metrics, split=fitted.split.describe(training.frame),
        summary=training.summary, calibration_method=fitted.calibration_method, test_frame=fitted.test_frame,
        seconds=time.perf_counter() - started, table_fit=fitted.table_fit,
        fitted_table=fitted_table_report(fitted, table_scorer, config) if table_scorer else None,
        fitted_table_on_test=(table_scorer.decision_function(fitted.test), table_scorer.table_.thresholds.stages["MQL"])
        if table_scorer else None,
        left_out_test=training.left_out[training.left_out["as_of"] >= fitted.split.test_start].reset_index(drop=True),
        core=fitted.core, training=training_summary(fitted.core, training.frame),
        datasets=_datasets(training, fitted, crm),
        explainer=held_out_explainer(fitted, config),
    )


def held_out_explainer(fitted, config: Config):
    """Return the test slice with the held-out model and points scorer that scored it, worded as scoring words reasons."""
    from leadscore.features.registry import all_features
    from leadscore.pipeline.evaluation.explained import Explainer

    held = fitted.core.holdout
    return Explainer(fitted.test_frame, fitted.test, held.model, held.points, {f.name: f for f in all_features(config.for_features)},
                     config.scoring.reason_labels, config.scoring.reasons_per_lead)


def _datasets(training, fitted, crm: Crm) -> dict:
    """Return the snapshot frames the MLflow run records as inputs: every labelled snapshot, and the test slice (no lead ids)."""
    source = str(crm.source)
    columns = ["as_of", "label", *training.feature_names]
    return {"training": (training.frame[columns], source), "test": (fitted.test[columns], source)}


def train(data, config: Config, promote: bool = False, crm: Crm | None = None) -> TrainResult:
    """Run the whole train stage: fit, evaluate, log and register in MLflow, and optionally promote.

    `data` is a folder or DuckDB file (ignored when an already loaded `crm` is given), read by
    the engine `config.engine.name` names: on Spark the snapshots, labels and features are
    computed there and only the training set reaches this process.
    """
    from leadscore.features.engines import open_engine
    from leadscore.pipeline import tracking
    from leadscore.pipeline.evaluation import evaluate_scorers, write_report
    from leadscore.pipeline.evaluation.handoff import handoff_for

    tracking.client(config)  # fail fast, before an hour of training, if the store is unreachable
    crm = crm or open_engine(data, engine_settings(config))
    result = fit_models(crm, config)
    evaluation = evaluate_scorers(result.test_frame, config, rule_thresholds(result.core.holdout.points), result.left_out_test,
                                  backtest=result.core.backtest, training=result.training,
                                  recommend_on=result.core.calibration_frame, explainer=result.explainer)
    evaluation.fitted_table = result.fitted_table
    evaluation.handoff = handoff_for(crm, result.test_frame, config, handoff_candidates(result, config))
    evaluation.window["label"] = config.label.describe(config.windows.horizon_days)
    report_dir = Catalog.of(config).report_dir(result.bundle_dir.name)
    result.report_paths = write_report(evaluation, report_dir)
    if result.table_fit is not None:  # the fitted table's YAML and CSV go to the report folder and the MLflow run beside it
        result.report_paths.update({f"fitted_points_{k}": v for k, v in write_exports(result.table_fit.table, report_dir / "points-fitted.yaml").items()})
    result.run_id, result.model_version = tracking.log_training_run(
        config, result.bundle_dir, training_params(result, config), training_metrics(result.metrics),
        list(result.report_paths.values()), build_sample(result),
        tags={"leadscore.stage": "train", "leadscore.bundle": result.bundle_dir.name}, bundle=result.bundle,
        steps=fold_metrics(result.core.backtest), run_name=f"train-{crm.data_end:%Y-%m-%d}",
        description=version_description(result, crm.data_end), test_slice=Catalog.test_slice(result.bundle_dir),
        datasets=result.datasets)
    if promote:
        result.promotion = promote_version(config, result.model_version, result.metrics)
    # the report's first lines name the registered version and whether it is champion: known only now
    champion = result.promotion.promote if result.promotion else tracking.alias_version(config, tracking.CHAMPION) == result.model_version
    evaluation.describe_model(result.model_version, champion, result.promotion.reason if result.promotion else "")
    result.report_paths.update(write_report(evaluation, report_dir))
    tracking.log_run_files(config, result.run_id, [result.report_paths[k] for k in ("html", "markdown", "json")], "evaluation")
    return result


def handoff_candidates(result: TrainResult, config: Config) -> list:
    """Return the thresholds the handoff audit sets beside what Sales was handed: the model's, the points table's, the fitted table's."""
    from leadscore.pipeline.evaluation.handoff import threshold_candidates

    fitted = result.fitted_table_on_test or (None, None)
    return threshold_candidates(result.test_frame, config, rule_thresholds(result.core.holdout.points), *fitted)


def build_sample(result: TrainResult) -> pd.DataFrame:
    """Return a few feature rows for the MLflow signature and input example, typed exactly as the feature builder types them.

    Counts stay integers: MLflow refuses an int64 column where the signature says double
    unless it holds only 0 and 1, so a signature of doubles rejected the builder's own frames.
    The builder never leaves a count missing, so an integer signature never sees a NaN.
    """
    from leadscore.models.serving import example_rows

    return example_rows(pd.read_parquet(Catalog.test_slice(result.bundle_dir), columns=result.bundle.feature_names))
