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

from leadscore.features.crm import Crm
from leadscore.features.dataset import build_training_set
from leadscore.features.registry import all_features
from leadscore.models.bundle import ModelBundle, read_manifest, save_bundle, schema_of
from leadscore.models.calibration import calibrate, choose_method
from leadscore.models.leakage import refuse_leaky_features
from leadscore.models.lgbm import LeadScoringModel
from leadscore.models.metrics import classification_metrics
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.pipeline.config import Config, feature_settings
from leadscore.pipeline.drift import reference_from_training
from leadscore.pipeline.errors import SchemaMismatchError
from leadscore.pipeline.evaluation.figures import side_by_side_metrics
from leadscore.pipeline.grading import grade, segment
from leadscore.pipeline.split import split_by_time

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
    training = build_training_set(crm, config.for_features)
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
    points = PointsScorer(load_points_table(config.points_table), features=registry).fit(X[split.calibration], y[split.calibration])

    test = frame.loc[split.test].reset_index(drop=True)
    test_frame = score_frame(test, calibrated, points, config)
    metrics = side_by_side_metrics(test_frame)
    manifest = {
        "name": config.tracking.model_name,
        "features": schema_of(X, model.categories_),
        "feature_settings": feature_settings(config),
        "points_table": points.table_.model_dump(mode="json"),
        "window": {
            "first_as_of": training.summary["first_as_of"], "last_as_of": training.summary["last_as_of"],
            "calibration_start": str(split.calibration_start.date()), "test_start": str(split.test_start.date()),
            "horizon_days": config.windows.horizon_days, "gap_days": config.windows.gap_days,
        },
        "calibration_method": method,
        "leakage_allowed": leakage.to_dict(orient="records"),
        "best_iteration": model.best_iteration_,
        "metrics": metrics,
        "grades": config.grades.model_dump(),
        # drift is judged against the most recent population the model was evaluated on (the test slice):
        # features such as lead age and all-time counts grow with time, so older slices would always look drifted
        "drift_reference": reference_from_training(X[split.test], test_frame["model_proba"].to_numpy(), config.grades.hot,
                                                   config.scoring.drift.bins).to_dict(),
        "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
    }
    bundle = ModelBundle(calibrated=calibrated, model=model, points=points, manifest=manifest)
    folder = config.workdir_path / "models" / pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%f")
    save_bundle(bundle, folder)
    test[["lead_id", "as_of", "label", *names]].to_parquet(folder / "test_slice.parquet", index=False)
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


def rule_thresholds(points: PointsScorer) -> dict[str, float]:
    """Return the points table's MQL and hot cut-offs, the ones the report audits."""
    t = points.table_.thresholds
    return {"MQL": t.stages["MQL"], "hot": t.segments["hot"]}


def train(data, config: Config, promote: bool = False, crm: Crm | None = None) -> TrainResult:
    """Run the whole train stage: fit, evaluate, log and register in MLflow, and optionally promote.

    `data` is a folder or DuckDB file (ignored when an already loaded `crm` is given).
    """
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline import tracking
    from leadscore.pipeline.evaluation import evaluate_scorers, write_report

    tracking.client(config)  # fail fast, before an hour of training, if the store is unreachable
    crm = crm or load_crm(data, _engine(config))
    result = fit_models(crm, config)
    evaluation = evaluate_scorers(result.test_frame, config, rule_thresholds(result.bundle.points))
    result.report_paths = write_report(evaluation, config.workdir_path / "reports" / result.bundle_dir.name)
    names = result.bundle.feature_names
    sample = build_sample(result, names)
    metrics = {f"test_{k}": v for k, v in result.metrics["model"].items()}
    metrics |= {f"rule_test_{k}": v for k, v in result.metrics["rule"].items()}
    params = {
        "horizon_days": config.windows.horizon_days, "slide_days": config.windows.slide_days,
        "calibration_method": result.calibration_method, "best_iteration": result.bundle.manifest["best_iteration"],
        "features": len(names), "points_table": result.bundle.points.table_.name, **{f"lgbm_{k}": v for k, v in config.model.params.items()},
        **{f"split_{k}_rows": v["rows"] for k, v in result.split.items() if isinstance(v, dict)},
    }
    result.run_id, result.model_version = tracking.log_training_run(
        config, result.bundle_dir, params, metrics, list(result.report_paths.values()), sample,
        tags={"leadscore.stage": "train", "leadscore.bundle": result.bundle_dir.name})
    if promote:
        result.promotion = promote_version(config, result.model_version, result.metrics)
    return result


def promote_version(config: Config, version: str, metrics: dict[str, dict[str, float]]):
    """Apply the promotion policy to `version` using its test metrics; set `champion` if it wins."""
    from leadscore.pipeline import tracking
    from leadscore.pipeline.promotion import decide

    metric = config.tracking.promotion_metric
    champion = tracking.alias_version(config, tracking.CHAMPION)
    if champion == version:
        return _already_champion(version)
    champion_score = None
    if champion is not None and champion != version:
        champion_score = champion_score_on(config, champion, version)
    decision = decide(metric, config.tracking.promotion_margin, metrics["model"][metric], metrics["rule"][metric], champion_score)
    if decision.promote:
        tracking.set_alias(config, tracking.CHAMPION, version)
    return decision


def _already_champion(version: str):
    from leadscore.pipeline.promotion import Decision

    return Decision(False, f"version {version} is already the champion")


def champion_score_on(config: Config, champion: str, challenger: str) -> float:
    """Return the champion's promotion metric on the challenger's own test slice.

    The challenger's bundle keeps its test slice features beside the model, so both are
    judged on the same leads; if the champion's feature schema or feature settings differ (its
    features would mean something else), its logged metric from its own test slice is used
    instead (and that is said in the decision's metric).
    """
    from leadscore.models.bundle import load_bundle
    from leadscore.models.metrics import classification_metrics
    from leadscore.pipeline import tracking

    challenger_dir = tracking.download_bundle(config, f"models:/{config.tracking.model_name}/{challenger}")
    test = pd.read_parquet(challenger_dir / "test_slice.parquet")
    champion_bundle = load_bundle(tracking.download_bundle(config, f"models:/{config.tracking.model_name}/{champion}"))
    challenger_settings = read_manifest(challenger_dir).get("feature_settings")
    try:
        champion_bundle.check_schema(test)
        comparable = champion_bundle.manifest.get("feature_settings") == challenger_settings
    except SchemaMismatchError:
        comparable = False
    if not comparable:
        return float(tracking.version_metrics(config, champion).get(f"test_{config.tracking.promotion_metric}", float("nan")))
    proba = champion_bundle.calibrated.predict_proba(test[champion_bundle.feature_names])[:, 1]
    return classification_metrics(test["label"], proba)[config.tracking.promotion_metric]


def build_sample(result: TrainResult, names: list[str]) -> pd.DataFrame:
    """Return a few feature rows for the MLflow signature, typed exactly as the feature builder types them.

    Counts stay integers: MLflow refuses an int64 column where the signature says double
    unless it holds only 0 and 1, so a signature of doubles rejected the builder's own frames.
    The builder never leaves a count missing, so an integer signature never sees a NaN.
    """
    return pd.read_parquet(result.bundle_dir / "test_slice.parquet", columns=names).head(50)


def _engine(config: Config):
    engine = config.engine
    if engine.temp_directory is None:
        engine = engine.model_copy(update={"temp_directory": str(config.workdir_path / "tmp")})
    return engine
