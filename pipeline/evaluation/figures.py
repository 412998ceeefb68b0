"""Compute the report's figures from labels and scores: metrics, lift, reliability, segments, slices.

Pure functions of frames; every metric comes from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from leadscore.models.metrics import classification_metrics

SCORERS = {"model": ("model_proba", "model_proba"), "rule": ("rule_points", "rule_proba")}
"""Each scorer's (ranking, probability) columns: the points table ranks by its points."""


def side_by_side_metrics(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Return classification metrics per scorer on the same rows, ranking metrics on each one's ranking score."""
    return {name: classification_metrics(frame["label"], frame[proba], ranking=frame[ranking])
            for name, (ranking, proba) in SCORERS.items()}


def gains_by_decile(label: pd.Series, score: pd.Series) -> pd.DataFrame:
    """Return per decile of score (1 = best): leads, wins, conversion, lift and cumulative share of wins."""
    order = np.argsort(-score.to_numpy(), kind="stable")
    y = label.to_numpy()[order]
    deciles = np.array_split(np.arange(len(y)), 10)
    total = max(int(y.sum()), 1)
    base = y.mean() if len(y) else 0.0
    rows, cumulative = [], 0
    for i, idx in enumerate(deciles, start=1):
        wins = int(y[idx].sum())
        cumulative += wins
        conversion = wins / len(idx) if len(idx) else 0.0
        rows.append({"decile": i, "leads": len(idx), "wins": wins, "conversion": conversion,
                     "lift": conversion / base if base else float("nan"), "cumulative_share_of_wins": cumulative / total})
    return pd.DataFrame(rows)


def reliability(label: pd.Series, proba: pd.Series, bins: int = 10) -> pd.DataFrame:
    """Return the reliability curve (mean predicted vs observed win rate) over quantile bins."""
    observed, predicted = calibration_curve(label, proba, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"predicted": predicted, "observed": observed})


def conversion_by(frame: pd.DataFrame, column: str, order: list[str]) -> pd.DataFrame:
    """Return leads, share and conversion rate for each value of `column`, in `order`."""
    grouped = frame.groupby(column, observed=False)["label"].agg(["size", "sum"]).reindex(order, fill_value=0)
    return pd.DataFrame({
        column: order, "leads": grouped["size"].to_numpy(), "share": grouped["size"].to_numpy() / max(len(frame), 1),
        "wins": grouped["sum"].to_numpy(),
        "conversion": np.where(grouped["size"] > 0, grouped["sum"] / grouped["size"].replace(0, 1), np.nan),
    })


def slice_quality(frame: pd.DataFrame, column: str, min_rows: int = 200, min_wins: int = 5, warn_drop: float = 0.05) -> pd.DataFrame:
    """Return AUC of both scorers per slice value; `warning` marks slices much worse than overall."""
    rows = []
    if frame["label"].nunique() < 2:  # no AUC anywhere: a slice of one class says nothing about ranking
        return pd.DataFrame(rows, columns=["slice", "value", "leads", "wins", "model_auc", "rule_auc", "warning"])
    overall = {name: roc_auc_score(frame["label"], frame[ranking]) for name, (ranking, _) in SCORERS.items()}
    for value, part in frame.groupby(column, observed=True):
        wins = int(part["label"].sum())
        if len(part) < min_rows or wins < min_wins or wins == len(part):
            continue
        model_auc = roc_auc_score(part["label"], part[SCORERS["model"][0]])
        rule_auc = roc_auc_score(part["label"], part[SCORERS["rule"][0]])
        rows.append({"slice": column, "value": str(value), "leads": len(part), "wins": wins,
                     "model_auc": model_auc, "rule_auc": rule_auc,
                     "warning": bool(model_auc < overall["model"] - warn_drop)})
    return pd.DataFrame(rows, columns=["slice", "value", "leads", "wins", "model_auc", "rule_auc", "warning"])
