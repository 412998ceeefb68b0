"""Run the flat-table stage: train and evaluate on one row per lead with an outcome column, no activity history.

Many teams only have such an export. The same machinery applies: a time-ordered split
(by a date column, or by file order in consecutive periods), the leakage guard, the training
core (family choice, backtest, refit, calibration on the latest period), a points table over
the flat columns, and the same report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.features.declarations import Feature
from leadscore.models.leakage import refuse_leaky_features
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.config import Config, FlatTableConfig
from leadscore.pipeline.core import train_core
from leadscore.pipeline.errors import BadInputError, InsufficientDataError
from leadscore.pipeline.windows import Window

_PERIOD_ORIGIN = pd.Timestamp("2000-01-01", tz="UTC")


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


def read_flat_table(flat: FlatTableConfig, base: Path | None = None) -> pd.DataFrame:
    """Read the export and check the configured columns; errors name the file and the column."""
    path = Path(flat.path) if base is None or Path(flat.path).is_absolute() else base / flat.path
    try:
        frame = pd.read_csv(path, sep=flat.delimiter, low_memory=False)
    except FileNotFoundError:
        raise BadInputError(f"{path}: flat lead table not found") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BadInputError(f"{path}: cannot be read as a {flat.delimiter!r}-separated table: {exc}") from None
    needed = [flat.outcome_column, *flat.explicit, *flat.behaviour] + [c for c in (flat.id_column, flat.date_column) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise BadInputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                            f"found: {', '.join(frame.columns)}")
    overlap = set(flat.drop) & set(flat.explicit + flat.behaviour)
    if overlap:
        raise BadInputError(f"{path}: columns listed both as features and under drop: {', '.join(sorted(overlap))}")
    outcome = frame[flat.outcome_column].astype(str).str.strip().str.lower()
    if outcome.nunique() < 2:
        raise InsufficientDataError(f"{path}: column '{flat.outcome_column}' holds a single value ({outcome.iloc[0]!r}); "
                                    "a scorer needs wins and losses")
    frame = frame.assign(label=outcome.isin([v.lower() for v in flat.positive_values]).astype(int))
    if flat.date_column:
        as_of = pd.to_datetime(frame[flat.date_column], utc=True, errors="coerce")
        bad = as_of.isna()
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            raise BadInputError(f"{path}: column '{flat.date_column}' has {int(bad.sum())} values that are not dates, first at rows {rows}")
    else:
        period = np.arange(len(frame)) * flat.periods // max(len(frame), 1)
        as_of = _PERIOD_ORIGIN + pd.to_timedelta(period * 7, unit="D")
    frame["as_of"] = as_of
    frame["lead_id"] = frame[flat.id_column].astype(str) if flat.id_column else np.arange(1, len(frame) + 1).astype(str)
    return frame


def flat_registry(frame: pd.DataFrame, flat: FlatTableConfig) -> dict[str, Feature]:
    """Describe the flat columns as features, so a points table can be checked against them."""
    registry = {}
    for family, columns in (("explicit", flat.explicit), ("implicit", flat.behaviour)):
        for name in columns:
            dtype = "float" if pd.api.types.is_numeric_dtype(frame[name]) else "category"
            registry[name] = Feature(name, family, f"{name} (from the flat table)", "lead", name, dtype, f"{name}: {{value}}")
    return registry


def train_flat(config: Config, base: Path | None = None, out: str | Path | None = None,
               config_dir: Path | None = None) -> FlatResult:
    """Choose, backtest and refit model and points table on a flat export with the training core, and report.

    A flat export has no history per lead to rebuild, so its test figures are the rolling
    backtest over the test period: each block of rows is scored by the model fitted on every
    row before it and calibrated on the latest block before it, which is how the deployed
    model is used when it is retrained as new outcomes arrive. The single time split's
    figures (one model fitted before the whole test period) are kept beside them.
    """
    from leadscore.pipeline.evaluation import evaluate_scorers, write_report
    from leadscore.pipeline.evaluation.figures import side_by_side_metrics
    from leadscore.pipeline.evaluation.report import training_summary

    flat = config.flat
    if flat is None:
        raise BadInputError("the config has no 'flat' section: see pipeline/conf/examples/bank_marketing.yaml")
    frame = read_flat_table(flat, base).sort_values("as_of", kind="stable", ignore_index=True)
    columns = list(flat.explicit) + list(flat.behaviour)
    X = frame[columns].copy()
    for name in columns:
        if not pd.api.types.is_numeric_dtype(X[name]):
            X[name] = X[name].astype("string")
    y = frame["label"].to_numpy()
    dates = np.array(sorted(frame["as_of"].unique()))
    n_test = max(1, round(len(dates) * config.split.test_share))
    n_cal = max(1, round(len(dates) * config.split.calibration_share))
    test_start, cal_start = dates[len(dates) - n_test], dates[len(dates) - n_test - n_cal]
    train = (frame["as_of"] < cal_start).to_numpy()
    cal = ((frame["as_of"] >= cal_start) & (frame["as_of"] < test_start)).to_numpy()
    test = (frame["as_of"] >= test_start).to_numpy()
    for name, mask in (("train", train), ("calibration", cal), ("test", test)):
        if y[mask].sum() < config.split.min_won or (y[mask] == 0).sum() < config.split.min_lost:
            raise InsufficientDataError(f"{flat.path}: the {name} slice has {int(y[mask].sum())} wins and "
                                        f"{int((y[mask] == 0).sum())} losses; at least {config.split.min_won} of each are needed")
    refuse_leaky_features(X[train], y[train], config.model.allow_features, config.model.leakage_auc)
    rng = np.random.default_rng(config.model.seed)
    validation = train & (rng.random(len(frame)) < config.model.validation_share)
    holdout = Window(pd.Timestamp(test_start), pd.Timestamp(cal_start), train & ~validation, validation, cal)
    table_path = flat.points_table
    if table_path and not Path(table_path).is_absolute() and config_dir is not None and (config_dir / table_path).exists():
        table_path = str(config_dir / table_path)
    table, registry = load_points_table(table_path), flat_registry(frame, flat)
    rows = pd.concat([frame[["lead_id", "as_of", "label"]], X], axis=1)
    core = train_core(rows, columns, holdout, test, config, pd.Timedelta(0), lambda: PointsScorer(table, features=registry),
                      lambda part, calibrated, points: _scored(part, calibrated, points, config),
                      period_name=None if flat.date_column else _period_name(flat.periods))

    scored = core.backtest_frame
    t = core.holdout.points.table_.thresholds
    evaluation = evaluate_scorers(scored, config, {"MQL": t.stages["MQL"], "hot": t.segments["hot"]},
                                  backtest=core.backtest, training=training_summary(core, rows))
    paths = write_report(evaluation, Path(out) if out else Catalog.of(config).report_dir("flat"))
    rate = lambda m: float(y[m].mean())  # noqa: E731
    return FlatResult(
        metrics={**evaluation.metrics, "held_out": side_by_side_metrics(core.test_frame)},
        calibration_method=core.deployed.method,
        split={"train_rows": int(train.sum()), "calibration_rows": int(cal.sum()), "test_rows": int(test.sum())},
        report_paths=paths, test_frame=scored,
        drift={"win_rate_train": rate(train), "win_rate_calibration": rate(cal), "win_rate_test": rate(test),
               "mean_predicted_test": float(scored["model_proba"].mean())},
        core=core,
    )


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


def _period_name(periods: int):
    """Word a stand-in date of file order as the block of rows it is ('block 3 of 20')."""
    def name(when) -> str:
        return f"block {(pd.Timestamp(when) - _PERIOD_ORIGIN).days // 7 + 1} of {periods} in file order"
    return name
