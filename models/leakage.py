"""Guard against leaky features before training: too predictive alone, or filled in only for winners.

A column that ranks wins almost perfectly by itself (single-feature AUC above 0.95) is far
more often a field updated after the sale (a "contract signed" date, a call duration known
only afterwards) than a miracle. A column that is filled in for nearly every winner and almost
no one else is the same story. Training refuses such columns unless the user allows them by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.models.errors import BadInputError


def leakage_report(X: pd.DataFrame, y, auc_threshold: float = 0.95, min_rows: int = 100) -> pd.DataFrame:
    """Return the suspicious columns with their single-feature AUC and fill rates among winners and others."""
    y = np.asarray(y).astype(int)
    rows = []
    if len(y) < min_rows or len(np.unique(y)) < 2:
        return pd.DataFrame(columns=["feature", "auc", "filled_won", "filled_other", "reason"])
    for name in X.columns:
        column = X[name]
        filled = column.notna().to_numpy()
        filled_won, filled_other = filled[y == 1].mean(), filled[y == 0].mean()
        score = _as_score(column, y)
        auc = roc_auc_score(y, score)
        auc = max(auc, 1 - auc)
        reasons = []
        if auc > auc_threshold:
            reasons.append(f"alone it ranks wins with AUC {auc:.3f} (> {auc_threshold:g})")
        if filled_won >= 0.9 and filled_other <= 0.05:
            reasons.append(f"filled for {filled_won:.0%} of winners but {filled_other:.0%} of the others")
        if reasons:
            rows.append({"feature": name, "auc": auc, "filled_won": filled_won, "filled_other": filled_other, "reason": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=["feature", "auc", "filled_won", "filled_other", "reason"])


def refuse_leaky_features(X: pd.DataFrame, y, allowed: tuple[str, ...] = (), auc_threshold: float = 0.95) -> pd.DataFrame:
    """Raise BadInputError naming leaky columns not in `allowed`; return the full report otherwise."""
    report = leakage_report(X, y, auc_threshold)
    blocked = report[~report["feature"].isin(allowed)]
    if len(blocked):
        details = "; ".join(f"'{r.feature}': {r.reason}" for r in blocked.itertuples())
        raise BadInputError(
            f"refusing to train on features that look like label leakage: {details}. If a feature is truly known "
            f"before the outcome, allow it by name under model.allow_features in your config")
    return report


def _as_score(column: pd.Series, y: np.ndarray) -> np.ndarray:
    """Turn any column into a ranking score: numbers as they are, categories by their win rate."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = pd.to_numeric(column, errors="coerce").astype(float)
        fill = np.nanmin(values) - 1 if values.notna().any() else 0.0
        return values.fillna(fill).to_numpy()
    keys = column.astype("string").fillna("<missing>")
    rate = pd.Series(y).groupby(keys.to_numpy()).mean()
    return keys.map(rate).astype(float).to_numpy()
