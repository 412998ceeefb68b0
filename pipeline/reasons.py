"""Choose which scored leads get reasons, and attach them (pure: frames in, frames out).

Reasons from LightGBM contributions cost ~100x a prediction, so they go only to the leads
that need them: the top share by probability and every lead either scorer calls hot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from leadscore.models.bundle import ModelBundle
from leadscore.models.explain import reasons_from_contributions
from leadscore.pipeline.scoring import called_hot


class ReasonCandidates:
    """Keep, across chunks, the feature rows of every lead that may need reasons.

    A lead needs reasons if it is among the `top_n` highest probabilities overall or hot for
    either scorer. Hot rows are kept as they come; for the top, the pool keeps every row at or
    above the `top_n`-th highest probability seen so far (ties included), which is always a
    superset of the final top. Memory stays ~`top_n` rows plus the hot ones.
    """

    def __init__(self, top_n: int):
        self.top_n = top_n
        self.frame: pd.DataFrame | None = None

    def add(self, features: pd.DataFrame, proba: np.ndarray, hot: np.ndarray) -> None:
        """Offer one chunk's feature rows with their probabilities and hot flags."""
        rows = features.assign(_probability=proba, _hot=hot)
        pool = rows if self.frame is None else pd.concat([self.frame, rows], ignore_index=True)
        if self.top_n and len(pool) > self.top_n:
            cutoff = np.partition(pool["_probability"].to_numpy(), len(pool) - self.top_n)[len(pool) - self.top_n]
            keep = pool["_hot"].to_numpy() | (pool["_probability"].to_numpy() >= cutoff)
        else:
            keep = pool["_hot"].to_numpy() | (self.top_n > 0)
        self.frame = pool.loc[keep].reset_index(drop=True)


def top_count(leads: int, top_share: float) -> int:
    """Return how many leads the top share of `leads` holds (rounded up, so any share reaches one lead).

    >>> top_count(1001, 0.1), top_count(5, 0.0)
    (101, 0)
    """
    return int(np.ceil(leads * top_share))


REASON_COLUMNS: tuple[str, ...] = ("reasons_model_up", "reasons_model_down", "reasons_rule")
"""The scores file's reason columns: lists of text in Parquet, joined by `REASON_SEPARATOR` in CSV and databases."""
REASON_SEPARATOR = "; "


REASON_SLICE = 500
"""Leads explained per call of the model's contributions: small enough that a progress bar moves
(a few tenths of a second each), large enough that the per-call cost stays negligible."""


def add_reasons(frame: pd.DataFrame, candidates: pd.DataFrame | None, bundle: ModelBundle, registry: dict,
                top_share: float, per_lead: int, labels: Mapping[str, str] | None = None,
                progress: Callable[..., None] | None = None) -> pd.DataFrame:
    """Return `frame` with reasons (lists of text) for the leads that need them; the rest get empty lists.

    Model reasons (LightGBM contributions, the costly part) go to the model's top share and
    every lead the model calls hot; rule reasons (cheap) to those and every lead the points
    table calls hot, so each hot call comes with the reasons of the scorer that made it.
    `candidates` holds the feature rows of those leads (see `ReasonCandidates`); `registry`
    maps feature names to their declarations, whose words the model reasons use, and
    `labels` names category values as Sales reads them. `progress(done, total)` hears how many
    leads have their model reasons, slice by slice (`REASON_SLICE`).
    """
    n_top = top_count(len(frame), top_share)
    top = set(frame.nlargest(n_top, "probability")["lead_id"]) if n_top else set()
    model_needs = (frame["lead_id"].isin(top) | (frame["segment"] == "hot")).to_numpy()
    needs = model_needs | called_hot(frame).to_numpy()
    columns = {name: _empty_lists(len(frame)) for name in REASON_COLUMNS}
    if needs.any():
        features = candidates.set_index("lead_id").loc[frame.loc[needs, "lead_id"]].reset_index()
        columns["reasons_rule"][needs] = _as_cells(bundle.points.reasons(features, top=per_lead))
        if model_needs.any():
            X = features.loc[model_needs[needs], bundle.feature_names]
            up, down = _model_reasons(X, bundle, registry, per_lead, labels, progress or (lambda done, total=None: None))
            columns["reasons_model_up"][model_needs] = _as_cells(up)
            columns["reasons_model_down"][model_needs] = _as_cells(down)
    return frame.assign(**columns)


def _model_reasons(X: pd.DataFrame, bundle: ModelBundle, registry: dict, per_lead: int, labels, progress) -> tuple[list, list]:
    """Return the model's reasons up and down for each row of `X`, slice by slice so `progress` hears each one."""
    up, down = [], []
    progress(0, len(X))
    for start in range(0, len(X), REASON_SLICE):
        rows = X.iloc[start:start + REASON_SLICE]
        reasons = reasons_from_contributions(bundle.model.contributions(rows), rows, registry, top=per_lead, labels=labels)
        up += list(reasons["reasons_up"])
        down += list(reasons["reasons_down"])
        progress(start + len(rows), len(X))
    return up, down


def joined_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with each reason list joined into one text (for CSV files and database tables, which hold no lists).

    >>> joined_reasons(pd.DataFrame({"reasons_rule": [["+50 requested a demo", "-10 inactive"], []]}))["reasons_rule"].tolist()
    ['+50 requested a demo; -10 inactive', '']
    """
    present = [c for c in REASON_COLUMNS if c in frame.columns]
    return frame.assign(**{c: [REASON_SEPARATOR.join(r) if isinstance(r, (list, tuple, np.ndarray)) else ("" if r is None else r)
                               for r in frame[c]] for c in present})


def _empty_lists(n: int) -> np.ndarray:
    cells = np.empty(n, dtype=object)
    cells[:] = [[] for _ in range(n)]
    return cells


def _as_cells(lists) -> np.ndarray:
    cells = np.empty(len(lists), dtype=object)
    cells[:] = [list(r) for r in lists]
    return cells
