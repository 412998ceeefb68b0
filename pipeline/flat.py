"""Run the flat-table stage: train and evaluate on one row per lead with an outcome column, no activity history.

Many teams only have such an export. The same machinery applies: a split into periods (by a
date column, by row order, at random stratified by outcome, at random by group, or into folds
for cross-validation: `pipeline.flat_split`, `pipeline.cross_validation`), the leakage guard over every column (`models.leakage_table`), the
training core (family choice, backtest, refit, calibration on the latest period), a points
table over the flat columns, and the same report, worded for rows rather than snapshots.
Reading the file is `pipeline.flat_table`; joined files and date parts `pipeline.flat_columns`; rows too
young for their outcome `pipeline.flat_censoring`; saving and registering the model `pipeline.flat_train`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from rich.markup import escape

from leadscore.models.leakage_table import leakage_table, refuse_leaks
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.config import Config, FlatTableConfig
from leadscore.pipeline.console import err
from leadscore.pipeline.core import backtest_means, train_core
from leadscore.pipeline.cross_validation import cross_validate
from leadscore.pipeline.errors import BadInputError, InsufficientDataError
from leadscore.pipeline.flat_censoring import censor
from leadscore.pipeline.flat_columns import assemble
from leadscore.pipeline.flat_split import FlatSplitChoice, describe_period, row_periods, word_periods
from leadscore.pipeline.flat_table import (export_path, flat_registry, infer_kinds, lead_ids, outcome_labels, read_export,
                                           typed_features)
from leadscore.pipeline.windows import Window

HELD_OUT_SCOPE = ("Explained with the one model fitted before the whole test period (its held-out figures sit beside the "
                  "backtest's); the other figures come from the rolling backtest, whose models are refitted block by block, "
                  "so a row's probability here can differ a little from its block's.")
"""Which model the top factors and example leads of a flat export's report explain, and why it is not the backtest's."""

FOLD_SCOPE = ("Explained with the model that scored the last fold, on that fold's rows; the other figures pool every fold, "
              "each scored by its own model.")
"""The same under cross-validation: one fold's model explains, since each fold has its own."""


@dataclass
class FlatResult:
    """The flat-table model, the points table, their test metrics and the report's paths."""

    metrics: dict
    calibration_method: str
    split: dict
    report_paths: dict
    test_frame: pd.DataFrame
    drift: dict
    core: object = None  # pipeline.core.CoreResult: the family chosen, the backtest and the deployed (refitted) model
    leakage: pd.DataFrame = field(default_factory=pd.DataFrame)  # models.leakage_table: one row per feature column
    kinds: dict = field(default_factory=dict)  # feature column -> number or category, as scoring must read it
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # lead_id, as_of, label and the typed feature columns
    masks: dict = field(default_factory=dict)  # train / calibration / test row masks over `rows`
    choice: FlatSplitChoice | None = None
    verdict: list = field(default_factory=list)  # the report's verdict, sentence by sentence
    training: dict = field(default_factory=dict)  # what the report says of training, its periods worded as the split words them


def read_flat_table(flat: FlatTableConfig, base: Path | None = None, seed: int = 0) -> pd.DataFrame:
    """Read the export and check the configured columns; errors name the file and the column.

    Returns the export's columns as read (blank tokens blanked) with `label`, `lead_id` and `as_of`.
    """
    frame, _, _ = _read(flat, base, seed)
    return frame


def _read(flat: FlatTableConfig, base: Path | None, seed: int) -> tuple[pd.DataFrame, Path, FlatSplitChoice]:
    path = export_path(flat, base)
    own = [flat.outcome_column, *(j.key for j in flat.join)] + [c for c in (flat.id_column, flat.date_column) if c]
    frame = read_export(path, flat.delimiter, flat.na_values, own)
    censoring = flat.censoring
    dated = [c for c in (censoring.created_column, censoring.won_date_column) if c] if censoring else []
    frame = assemble(frame, path, [*flat.explicit, *flat.behaviour, *dated], flat.join, flat.na_values,
                     flat.date_features, flat.reference_column, base)
    frame, labels, censored = censor(frame, outcome_labels(frame, flat, path), flat, path)
    frame = frame.assign(label=labels)
    as_of, choice = row_periods(frame, labels, flat, path, seed)
    if censored is not None:
        choice = dataclasses.replace(choice, censoring=censored)
    return frame.assign(as_of=as_of, lead_id=lead_ids(frame, flat.id_column, path)), path, choice


def train_flat(config: Config, base: Path | None = None, out: str | Path | None = None,
               config_dir: Path | None = None, on_leakage: Callable[[pd.DataFrame], None] | None = None) -> FlatResult:
    """Choose, backtest and refit model and points table on a flat export with the training core, and report.

    A flat export has no history per lead to rebuild, so its test figures are the rolling
    backtest over the test period: each block of rows is scored by the model fitted on every
    row before it and calibrated on the latest block before it, which is how the deployed
    model is used when it is retrained as new outcomes arrive. The single time split's
    figures (one model fitted before the whole test period) are kept beside them.
    `on_leakage` receives the leakage table of every feature column before a refusal is
    raised, so the user sees the evidence beside the error.
    """
    from leadscore.pipeline.evaluation import evaluate_scorers, write_report
    from leadscore.pipeline.evaluation.explained import Explainer
    from leadscore.pipeline.evaluation.figures import side_by_side_metrics
    from leadscore.pipeline.evaluation.report import training_summary

    flat = config.flat
    if flat is None:
        raise BadInputError("the config has no 'flat' section: see pipeline/conf/examples/bank_marketing.yaml")
    frame, path, choice = _read(flat, base, config.model.seed)
    for warning in choice.warnings:  # said before minutes of training, as the CRM path says its own
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    frame = frame.sort_values("as_of", kind="stable", ignore_index=True)
    kinds = infer_kinds(frame, flat)
    columns = list(kinds)
    X = typed_features(frame, kinds, path)
    y = frame["label"].to_numpy()
    dates = np.array(sorted(frame["as_of"].unique()))
    folds, test_start, cal_start, train, cal, test = _row_slices(frame, y, dates, choice, config, path)
    m = config.model
    # cross-validation tests every row, so the guard reads them all; a time split reads only its training rows
    guarded = np.ones(len(frame), dtype=bool) if folds is not None else train
    leakage = leakage_table(X[guarded], y[guarded], m.leakage_warn_auc, m.leakage_auc, m.leakage_min_winner_only,
                            m.allow_features, m.seed)
    if on_leakage is not None:
        on_leakage(leakage)
    refuse_leaks(leakage, str(path))
    rng = np.random.default_rng(config.model.seed)
    validation = train & (rng.random(len(frame)) < config.model.validation_share)
    holdout = Window(pd.Timestamp(test_start), pd.Timestamp(cal_start), train & ~validation, validation, cal)
    table_path = flat.points_table
    if table_path and not Path(table_path).is_absolute() and config_dir is not None and (config_dir / table_path).exists():
        table_path = str(config_dir / table_path)
    if table_path is None:
        raise BadInputError("flat.points_table is not set: a flat export needs its own points table over its columns "
                            "(see pipeline/conf/examples/bank_marketing_points.yaml); the packaged table scores CRM features")
    table, registry = load_points_table(table_path), flat_registry(kinds, flat.explicit)
    rows = pd.concat([frame[["lead_id", "as_of", "label"]], X], axis=1)
    make_points = lambda: PointsScorer(table, features=registry)  # noqa: E731
    score = lambda part, calibrated, points: _scored(part, calibrated, points, config)  # noqa: E731
    core = (cross_validate(rows, columns, folds, config, make_points, score) if folds is not None else
            train_core(rows, columns, holdout, test, config, pd.Timedelta(0), make_points, score, period_name=choice.period_name))

    scored = core.backtest_frame
    t = core.holdout.points.table_.thresholds
    training = word_periods(training_summary(core, rows), choice)
    words = {"split": choice.worded, "first": describe_period(test_start, choice), "last": describe_period(dates[-1], choice),
             **({"cross_validated": len(dates)} if folds is not None else {})}
    # the held-out model explains the rows it scored: the test slice, or under cross-validation the last fold
    explained = test if folds is None else folds == folds.max()
    held_scored = core.test_frame if folds is None else core.backtest_frame[core.backtest_frame["fold"] == folds.max() + 1]
    explainer = Explainer(held_scored.reset_index(drop=True), rows.loc[explained, columns].reset_index(drop=True),
                          core.holdout.model, core.holdout.points, registry, per_lead=config.scoring.reasons_per_lead,
                          scope=HELD_OUT_SCOPE if folds is None else FOLD_SCOPE)
    evaluation = evaluate_scorers(scored, config, {"MQL": t.stages["MQL"], "hot": t.segments["hot"]},
                                  backtest=word_periods(core.backtest, choice), training=training, flat=words,
                                  recommend_on=core.calibration_frame, explainer=explainer)
    paths = write_report(evaluation, Path(out) if out else Catalog.of(config).report_dir("flat"))
    rate = lambda m: float(y[m].mean())  # noqa: E731
    return FlatResult(
        metrics={**evaluation.metrics, "held_out": side_by_side_metrics(core.test_frame), "backtest": backtest_means(core.backtest)},
        calibration_method=core.deployed.method,
        split={"train_rows": int(train.sum()), "calibration_rows": int(cal.sum()), "test_rows": int(test.sum()),
               "by": choice.by, "why": choice.why, "calibration_from": describe_period(cal_start, choice),
               "test_from": describe_period(test_start, choice), "last": describe_period(dates[-1], choice),
               **_censoring_counts(choice)},
        report_paths=paths, test_frame=scored,
        drift={"win_rate_train": rate(train), "win_rate_calibration": rate(cal), "win_rate_test": rate(test),
               "mean_predicted_test": float(scored["model_proba"].mean())},
        core=core, leakage=leakage, kinds=kinds, rows=rows, masks={"train": train, "calibration": cal, "test": test},
        choice=choice, verdict=list(evaluation.verdict), training=training,
    )


def _row_slices(frame: pd.DataFrame, y: np.ndarray, dates: np.ndarray, choice: FlatSplitChoice, config: Config, path: Path):
    """Return (folds or None, test start, calibration start, train, calibration and test masks) over the rows.

    A time split cuts the periods into train, calibration and test, each with enough wins;
    cross-validation (`kfold`) tests every row, and its deployed model fits on every fold but
    the last and calibrates on the last.
    """
    if choice.by == "kfold":
        folds = np.searchsorted(dates, frame["as_of"].to_numpy())
        _require_fold_outcomes(y, folds, config, path)
        return (folds, dates[0], dates[-1], folds != len(dates) - 1, folds == len(dates) - 1,
                np.ones(len(frame), dtype=bool))
    n_test = max(1, round(len(dates) * config.split.test_share))
    n_cal = max(1, round(len(dates) * config.split.calibration_share))
    if len(dates) < n_test + n_cal + 1:
        raise InsufficientDataError(f"{path}: the rows fall in {len(dates)} periods ({choice.why}); at least "
                                    f"{n_test + n_cal + 1} are needed to train, calibrate and test on different ones")
    test_start, cal_start = dates[len(dates) - n_test], dates[len(dates) - n_test - n_cal]
    train = (frame["as_of"] < cal_start).to_numpy()
    cal = ((frame["as_of"] >= cal_start) & (frame["as_of"] < test_start)).to_numpy()
    test = (frame["as_of"] >= test_start).to_numpy()
    for name, mask in (("train", train), ("calibration", cal), ("test", test)):
        if y[mask].sum() < config.split.min_won or (y[mask] == 0).sum() < config.split.min_lost:
            raise InsufficientDataError(f"{path}: the {name} rows hold {int(y[mask].sum())} wins and "
                                        f"{int((y[mask] == 0).sum())} losses; at least {config.split.min_won} wins and "
                                        f"{config.split.min_lost} losses are needed (split.min_won, split.min_lost)"
                                        + ("; with no time order, flat.split.by: kfold tests every row once"
                                           if choice.by in ("random", "group") else ""))
    return None, test_start, cal_start, train, cal, test


def _require_fold_outcomes(y: np.ndarray, folds: np.ndarray, config: Config, path: Path) -> None:
    """Refuse cross-validation when a fold holds one outcome only, or the export fewer wins than a test needs."""
    if y.sum() < config.split.min_won or (y == 0).sum() < config.split.min_lost:
        raise InsufficientDataError(f"{path}: the export holds {int(y.sum())} wins and {int((y == 0).sum())} losses; "
                                    f"cross-validation needs at least {config.split.min_won} wins and "
                                    f"{config.split.min_lost} losses (split.min_won, split.min_lost)")
    for fold in range(int(folds.max()) + 1):
        labels = y[folds == fold]
        if labels.sum() < 2 or (labels == 0).sum() < 2:
            wins, losses = int(labels.sum()), int((labels == 0).sum())
            raise InsufficientDataError(f"{path}: fold {fold + 1} holds {wins} win{'s' * (wins != 1)} and {losses} "
                                        f"loss{'es' * (losses != 1)}: each fold calibrates one model and tests another, so it needs at least 2 "
                                        "of each; set fewer folds (flat.split.folds)")


def _censoring_counts(choice: FlatSplitChoice) -> dict:
    """Return what censoring left out and relabelled, for the console, the manifest and the MLflow run."""
    c = choice.censoring
    if c is None:
        return {}
    return {"immature_rows": c.immature, "immature_won": c.immature_won, "late_wins": c.late_wins,
            "export_end": str(c.export_end.date()), "horizon_days": c.horizon_days, "censoring": c.sentence()}


def _scored(part: pd.DataFrame, calibrated, points, config: Config) -> pd.DataFrame:
    """Return flat rows scored by both scorers, as the report reads them."""
    from leadscore.pipeline.grading import grade, segment

    proba = calibrated.predict_proba(part)[:, 1]
    return pd.DataFrame({
        "lead_id": part["lead_id"].to_numpy(), "as_of": part["as_of"].to_numpy(), "label": part["label"].to_numpy(),
        "model_proba": proba, "model_grade": np.asarray(grade(proba, config.grades)),
        "model_segment": np.asarray(segment(proba, config.grades)),
        "rule_points": points.decision_function(part), "rule_proba": points.predict_proba(part)[:, 1],
        "rule_stage": np.asarray(points.stage(part)), "rule_segment": np.asarray(points.segment(part)),
    })
