"""Judge every column of a flat export for leakage: a table of evidence per column and a verdict.

A flat export is assembled after the fact, so the fields a salesperson fills in while a deal
closes (a status tag, a deal stage, a contract value) sit beside the ones known beforehand.
Four signs give such a field away, each seen in real exports:

- alone it ranks wins almost perfectly (single-feature AUC above `refuse_auc`): refused;
- its filled rows are all winners, however sparse (at least `min_winner_only` of them): refused;
- it ranks wins very well (AUC in the band from `warn_auc` to `refuse_auc`): warned of, and
  refused when its name also reads like a post-outcome field (two independent signs);
- its name reads like a post-outcome field (status, stage, tags, quality, duration, closed,
  won, lost): flagged for the user to confirm it is known before the outcome.

A category's single-feature AUC is measured on out-of-fold win rates (scikit-learn's
`TargetEncoder` cross-fits them), so a free-text column whose every value is unique does not
look perfect merely because each value was seen once. Allowing a column by name
(`model.allow_features`) keeps its row in the table with the verdict `allowed`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import TargetEncoder

from leadscore.models.errors import BadInputError

POST_OUTCOME_WORDS = frozenset({"status", "stage", "stages", "tag", "tags", "quality", "duration", "closed", "won", "lost"})
"""Words in a column name that usually mean the field is filled in while or after the outcome is decided."""

COLUMNS = ["feature", "auc", "filled_won", "filled_other", "win_rate_filled", "filled_rows", "verdict", "reason"]
"""The leakage table's columns, in the order the console prints them."""


def leakage_table(X: pd.DataFrame, y, warn_auc: float = 0.85, refuse_auc: float = 0.95, min_winner_only: int = 10,
                  allowed: tuple[str, ...] = (), seed: int = 0) -> pd.DataFrame:
    """Return one row per column: single-feature AUC, fill rates among winners and others, win rate when filled, verdict.

    The verdict is `refuse`, `warn`, `confirm` (the name reads post-outcome), `allowed` or `ok`.

    >>> X = pd.DataFrame({"age": range(200), "deal_value": [1.0 if i % 10 == 0 else None for i in range(200)]})
    >>> y = [1 if i % 10 == 0 else 0 for i in range(200)]
    >>> leakage_table(X, y).set_index("feature")["verdict"].to_dict()
    {'age': 'ok', 'deal_value': 'refuse'}
    """
    y = np.asarray(y).astype(int)
    rows = []
    for name in X.columns:
        filled = X[name].notna().to_numpy()
        won, other = filled[y == 1], filled[y == 0]
        auc = _single_feature_auc(X[name], y, seed)
        row = {"feature": name, "auc": auc, "filled_won": float(won.mean()) if len(won) else np.nan,
               "filled_other": float(other.mean()) if len(other) else np.nan,
               "win_rate_filled": float(y[filled].mean()) if filled.any() else np.nan, "filled_rows": int(filled.sum())}
        verdict, reason = _verdict(name, row, warn_auc, refuse_auc, min_winner_only)
        if name in allowed and verdict != "ok":
            verdict, reason = "allowed", f"{reason} (allowed under model.allow_features)"
        rows.append({**row, "verdict": verdict, "reason": reason})
    return pd.DataFrame(rows, columns=COLUMNS)


def refuse_leaks(table: pd.DataFrame, source: str) -> None:
    """Raise BadInputError naming every refused column of `table`, why, and how to allow one."""
    refused = table[table["verdict"] == "refuse"]
    if refused.empty:
        return
    details = "; ".join(f"'{r.feature}': {r.reason}" for r in refused.itertuples())
    raise BadInputError(
        f"{source}: refusing to train on columns that look like label leakage: {details}. Drop them (flat.drop), or, "
        f"if a column is truly known before the outcome, allow it by name under model.allow_features, e.g. "
        f"model: {{allow_features: [{', '.join(refused['feature'])}]}}")


def looks_post_outcome(name: str) -> bool:
    """Return whether a column name holds a word of `POST_OUTCOME_WORDS` (split at non-letters and camelCase).

    >>> looks_post_outcome("Lead Quality"), looks_post_outcome("dealStage"), looks_post_outcome("wonderland")
    (True, True, False)
    """
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower()
    return any(word in POST_OUTCOME_WORDS for word in re.split(r"[^a-z]+", words))


def _verdict(name: str, row: dict, warn_auc: float, refuse_auc: float, min_winner_only: int) -> tuple[str, str]:
    auc, filled = row["auc"], row["filled_rows"]
    named = looks_post_outcome(name)
    if auc > refuse_auc:
        return "refuse", f"alone it ranks wins with AUC {auc:.3f} (above model.leakage_auc {refuse_auc:g})"
    if filled >= min_winner_only and row["filled_other"] == 0:
        return "refuse", (f"filled on {filled:,} rows, every one a winner ({row['filled_won']:.0%} of winners, none of the "
                          f"others): a field filled in once a deal is won")
    if row["filled_won"] >= 0.9 and row["filled_other"] <= 0.05:
        return "refuse", f"filled for {row['filled_won']:.0%} of winners but {row['filled_other']:.0%} of the others"
    if auc > warn_auc and named:
        return "refuse", (f"alone it ranks wins with AUC {auc:.3f} (above model.leakage_warn_auc {warn_auc:g}) and its name "
                          "reads like a field filled in once the outcome is known")
    if auc > warn_auc:
        return "warn", f"alone it ranks wins with AUC {auc:.3f} (above model.leakage_warn_auc {warn_auc:g}): check it is known before the outcome"
    if named:
        return "confirm", "its name reads like a field filled in once the outcome is known: confirm it is known before it"
    return "ok", ""


def _single_feature_auc(column: pd.Series, y: np.ndarray, seed: int) -> float:
    """Return how well the column alone ranks wins, either way round (0.5 to 1; 0.5 when one class is absent)."""
    if len(np.unique(y)) < 2:
        return 0.5
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        values = pd.to_numeric(column, errors="coerce").astype(float)
        score = values.fillna(np.nanmin(values) - 1 if values.notna().any() else 0.0).to_numpy()
    else:
        keys = column.astype("string").fillna("<missing>").to_numpy(dtype=object).reshape(-1, 1)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        score = TargetEncoder(target_type="binary", cv=folds).fit_transform(keys, y)[:, 0]
    auc = roc_auc_score(y, score)
    return float(max(auc, 1 - auc))
