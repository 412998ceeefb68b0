"""Explain single scores in plain words from LightGBM's per-feature contributions.

The reason for a lead is the features that pushed its log-odds up (or down) the most, each
said through its registry declaration ("attended a webinar 3 days ago"). Contributions cost
about a hundred predictions each, so they are computed only for the leads that need them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.declarations import Feature


def reasons_from_contributions(contributions: pd.DataFrame, features: pd.DataFrame, registry: dict[str, Feature],
                               top: int = 3) -> pd.DataFrame:
    """Return per lead the `top` positive and `top` negative reasons, as '; '-joined text.

    The ranking is one vectorised argsort; only the chosen (lead, feature) pairs are put into
    words, and each distinct (feature, value) is worded once (100k leads take seconds, not minutes).
    """
    values = contributions.to_numpy()
    names = list(contributions.columns)
    order = np.argsort(-values, axis=1, kind="stable")
    ups, downs = order[:, :top], order[:, ::-1][:, :top]
    up_ok = np.take_along_axis(values, ups, axis=1) > 0
    down_ok = np.take_along_axis(values, downs, axis=1) < 0
    column = {name: features[name].to_numpy() for name in names}
    worded: dict = {}

    def say(row: int, i: int) -> str:
        value = column[names[i]][row]
        key = (i, None if _missing(value) else value)
        if key not in worded:
            worded[key] = _say(names[i], key[1], registry)
        return worded[key]

    positive = ["; ".join(say(r, i) for i, ok in zip(ups[r], up_ok[r]) if ok) for r in range(len(values))]
    negative = ["; ".join(say(r, i) for i, ok in zip(downs[r], down_ok[r]) if ok) for r in range(len(values))]
    return pd.DataFrame({"reasons_up": positive, "reasons_down": negative}, index=contributions.index)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


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
