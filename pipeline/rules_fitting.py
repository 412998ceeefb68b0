"""Fit a points table on the training slice of the time split and choose its thresholds on the calibration slice (wiring).

The test slice is never read here: a fitted table is judged on leads it was not fitted on,
as the model is. `rules fit` and training call the same `fit_table_on_split`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.models.rules import PointsScorer
from leadscore.models.rules.fit import FittedTable, evidence, fit_points_table, with_thresholds
from leadscore.models.rules.table import FITS_SHARE, PointsTable, table_to_csv, table_to_yaml, unproduced_rules
from leadscore.pipeline.config import Config
from leadscore.pipeline.evaluation.thresholds import capacity_share, recommend_threshold
from leadscore.pipeline.io import write_text


def fit_table_on_split(frame: pd.DataFrame, names: list[str], split, config: Config, registry: dict,
                       current: PointsTable, start: PointsTable | None = None) -> FittedTable:
    """Return a table fitted on the split's training slice, thresholds chosen on its calibration slice.

    `current` is the table the fitted one is compared with, rule by rule (`start` when given).
    """
    train = split.fit | split.validation
    X, y = frame[names], frame["label"].to_numpy()
    X_train, y_train = X[train].reset_index(drop=True), y[train]
    fitted = fit_points_table(X_train, y_train, registry, config.rules, tuple(config.windows.half_lives_days),
                              validation=split.validation[train], start=start, name=f"fitted from {current.name}" if start else "fitted")
    fitted.table = thresholds_on(fitted.table, frame.loc[split.calibration], registry, config)
    fitted.evidence = evidence(current, fitted.table, X_train, y_train, registry, fitted.points_per_log_odds, config.rules.grid)
    return fitted


def thresholds_on(table: PointsTable, calibration: pd.DataFrame, registry: dict, config: Config) -> PointsTable:
    """Return `table` with MQL and hot at the cut that meets the conversion target within Sales capacity on `calibration`.

    When no cut meets both, MQL and hot pass as many leads as capacity allows (the report says
    by how much they miss the target). Nurture and SQL are the fewest points at which the
    calibrated conversion reaches the nurture and grade-A floors of `grades`.
    """
    y = calibration["label"].to_numpy()
    scorer = PointsScorer(table, features=registry).fit(calibration, y)
    points = scorer.decision_function(calibration)
    capacity, _ = capacity_share(calibration, config)
    # whole points: a decayed rule gives fractions, but a threshold people type is a whole number
    cut = recommend_threshold(y, points, config.targets.min_conversion_rate, capacity, whole=True)
    if cut is None:
        cut = recommend_threshold(y, points, 0.0, capacity, whole=True)
    cut = float(np.floor(points.max())) if cut is None else cut
    proba = scorer.predict_proba(calibration)[:, 1]
    nurture = _fewest_points(points, proba, config.grades.nurture, default=cut)
    sql = _fewest_points(points, proba, config.grades.a, default=float(np.floor(points.max())))
    return with_thresholds(table, mql=cut, sql=sql, nurture=nurture, hot=cut)


def _fewest_points(points: np.ndarray, proba: np.ndarray, floor: float, default: float) -> float:
    reached = points[proba >= floor]
    return float(np.floor(reached.min())) if len(reached) else default


def should_fit(config: Config, table: PointsTable, registry: dict, produced_roles, packaged: bool) -> bool:
    """Return whether training fits a table: the config asks (`rules.fit`), or the packaged table does not fit the CRM."""
    if config.rules.fit:
        return True
    missing = unproduced_rules(table, registry, produced_roles)
    return packaged and (not table.rules or (len(table.rules) - len(missing)) < FITS_SHARE * len(table.rules))


def write_exports(table: PointsTable, out: str | Path) -> dict[str, Path]:
    """Write the table as YAML at `out` and as CSV (rule, condition, points) beside it, each atomically."""
    out = Path(out)
    return {"yaml": write_text(table_to_yaml(table), out), "csv": write_text(table_to_csv(table), out.with_suffix(".csv"))}


def fitted_table_report(fitted, scorer: PointsScorer, config: Config) -> dict:
    """Return the report section comparing the current table, the fitted one (`scorer`) and the model on the test slice of `fitted`."""
    from leadscore.pipeline.evaluation.fitted_table import fitted_table_section

    return fitted_table_section(fitted.test, fitted.test_frame["model_proba"].to_numpy(), fitted.points, scorer, fitted.table_fit, config)


def fitted_table_scorer(fitted, frame: pd.DataFrame) -> PointsScorer:
    """Return the fitted points table as a scorer, its probability mapping learned on the calibration slice."""
    calibration = frame.loc[fitted.split.calibration]
    return PointsScorer(fitted.table_fit.table, features=fitted.points.features).fit(calibration, calibration["label"].to_numpy())
