"""Explain single scores in plain words from LightGBM's per-feature contributions.

The reason for a lead is the features that pushed its log-odds up (or down) the most, each
said through its registry declaration ("attended a webinar 3 days ago"). Contributions cost
about a hundred predictions each, so they are computed only for the leads that need them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from leadscore.features.declarations import Feature, is_missing


def reasons_from_contributions(contributions: pd.DataFrame, features: pd.DataFrame, registry: dict[str, Feature],
                               top: int = 3, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return per lead the `top` reasons that raised its score and the `top` that lowered it, as lists of text.

    A reason listed as raising the score has a positive contribution, one listed as lowering
    it a negative one; a lead with fewer such features gets fewer reasons. `labels` name
    category values (see `Feature.explain`). The ranking is one vectorised argsort; only the
    chosen (lead, feature) pairs are put into words, and each distinct (feature, value) is
    worded once (100k leads take seconds, not minutes).
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
        key = (i, None if is_missing(value) else value)
        if key not in worded:
            worded[key] = _say(names[i], key[1], registry, labels)
        return worded[key]

    positive = [[say(r, i) for i, ok in zip(ups[r], up_ok[r]) if ok] for r in range(len(values))]
    negative = [[say(r, i) for i, ok in zip(downs[r], down_ok[r]) if ok] for r in range(len(values))]
    return pd.DataFrame({"reasons_up": positive, "reasons_down": negative}, index=contributions.index)


def _say(name: str, value, registry: dict[str, Feature], labels: Mapping[str, str] | None) -> str:
    feature = registry.get(name)
    if feature is None:  # a column no declaration describes: its name, never a raw missing value
        return f"{name} unknown" if value is None else f"{name}: {value}"
    return feature.explain(value, labels)
