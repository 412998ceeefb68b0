"""Compute the report's figures from labels and scores: metrics, lift, reliability, segments, slices.

Pure functions of frames; every metric comes from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
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


RELIABILITY_QUANTILES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)
"""Edges of the reliability bins, as shares of leads: deciles, then the top tenth cut finer, so the
few high scores (where a hand-off decision is made) get bins of their own instead of one average."""


def reliability(label: pd.Series, proba: pd.Series, quantiles=RELIABILITY_QUANTILES) -> pd.DataFrame:
    """Return the reliability curve (mean predicted vs observed win rate, leads per bin) over the whole score range.

    Tied scores never split across bins (a bin is a range of scores), so bins with the same
    edges merge.

    >>> curve = reliability(pd.Series([0, 0, 1, 1]), pd.Series([0.1, 0.2, 0.8, 0.9]), quantiles=(0, 0.5, 1))
    >>> curve.round(2).to_dict("records")
    [{'predicted': 0.15, 'observed': 0.0, 'leads': 2}, {'predicted': 0.85, 'observed': 1.0, 'leads': 2}]
    """
    p = pd.Series(np.asarray(proba, dtype=float))
    y = pd.Series(np.asarray(label, dtype=float))
    edges = np.unique(np.quantile(p, quantiles)) if len(p) else np.array([0.0, 1.0])
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0]])
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    grouped = pd.DataFrame({"p": p, "y": y, "bin": bins}).groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"),
                                                                           leads=("p", "size"))
    return grouped.reset_index(drop=True).astype({"leads": int})


def calibration_by_range(curve: pd.DataFrame) -> str:
    """Say, range by range of the score, whether a predicted p came true about p of the time (read from `reliability`).

    >>> curve = pd.DataFrame({"predicted": [0.02, 0.1, 0.85], "observed": [0.021, 0.1, 0.67], "leads": [900, 90, 10]})
    >>> calibration_by_range(curve)
    'Below 0.10 a score of p comes true about p of the time (0.02 → 0.02); from 0.10 to 0.30 about p (0.10 → 0.10); from 0.30 up the model is over-confident: 0.85 came true 0.67 of the time (10 lead-snapshots).'
    """
    parts = []
    for low, high, words in ((0.0, 0.1, "Below 0.10"), (0.1, 0.3, "from 0.10 to 0.30"), (0.3, 1.01, "from 0.30 up")):
        part = curve[(curve["predicted"] >= low) & (curve["predicted"] < high)]
        if part.empty:
            continue
        predicted = float(np.average(part["predicted"], weights=part["leads"]))
        observed = float(np.average(part["observed"], weights=part["leads"]))
        leads = int(part["leads"].sum())
        close = abs(observed - predicted) <= max(0.01, 0.15 * predicted)
        if close:
            said = "a score of p comes true about p of the time" if not parts else "about p"
            parts.append(f"{words} {said} ({predicted:.2f} → {observed:.2f})")
        else:
            how = "over-confident" if observed < predicted else "under-confident"
            parts.append(f"{words} the model is {how}: {predicted:.2f} came true {observed:.2f} of the time ({leads:,} lead-snapshots)")
    return "; ".join(parts) + "." if parts else "Too few scores to judge calibration."


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
