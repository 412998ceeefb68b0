"""Explain single scores in plain words from LightGBM's per-feature contributions.

The reason for a lead is the features that pushed its log-odds up (or down) the most, each
said through its registry declaration ("attended a webinar 3 days ago"). Contributions cost
about a hundred predictions each, so they are computed only for the leads that need them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.registry import Feature


def reasons_from_contributions(contributions: pd.DataFrame, features: pd.DataFrame, registry: dict[str, Feature],
                               top: int = 3) -> pd.DataFrame:
    """Return per lead the `top` positive and `top` negative reasons, as '; '-joined text."""
    values = contributions.to_numpy()
    names = np.array(contributions.columns)
    positive, negative = [], []
    for row in range(len(values)):
        order = np.argsort(-values[row], kind="stable")
        ups = [i for i in order[:top] if values[row, i] > 0]
        downs = [i for i in order[::-1][:top] if values[row, i] < 0]
        positive.append("; ".join(_say(names[i], features.iloc[row][names[i]], registry) for i in ups))
        negative.append("; ".join(_say(names[i], features.iloc[row][names[i]], registry) for i in downs))
    return pd.DataFrame({"reasons_up": positive, "reasons_down": negative}, index=contributions.index)


def _say(name: str, value, registry: dict[str, Feature]) -> str:
    feature = registry.get(name)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"never: {feature.description.lower()}" if feature else f"{name} unknown"
    if feature is None:
        return f"{name} = {value}"
    if feature.dtype == "bool":
        return feature.reason if value else f"does not: {feature.reason}" if not feature.reason.startswith(("is ", "has ")) \
            else feature.reason.replace("is ", "is not ", 1).replace("has ", "has no ", 1)
    return feature.explain(value)
