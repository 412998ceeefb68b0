"""Choose which scored leads get reasons, and attach them (pure: frames in, frames out).

Reasons from LightGBM contributions cost ~100x a prediction, so they go only to the leads
that need them: the top share by probability and every lead either scorer calls hot.
"""

from __future__ import annotations

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


def add_reasons(frame: pd.DataFrame, candidates: pd.DataFrame | None, bundle: ModelBundle, registry: dict,
                top_share: float, per_lead: int) -> pd.DataFrame:
    """Return `frame` with reasons for the leads that need them; the rest get empty text.

    Model reasons (LightGBM contributions, the costly part) go to the model's top share and
    every lead the model calls hot; rule reasons (cheap) to those and every lead the points
    table calls hot, so each hot call comes with the reasons of the scorer that made it.
    `candidates` holds the feature rows of those leads (see `ReasonCandidates`); `registry`
    maps feature names to their declarations, whose descriptions the model reasons quote.
    """
    frame = frame.assign(reasons_model_up="", reasons_model_down="", reasons_rule="")
    n_top = top_count(len(frame), top_share)
    top = set(frame.nlargest(n_top, "probability")["lead_id"]) if n_top else set()
    model_needs = frame["lead_id"].isin(top) | (frame["segment"] == "hot")
    needs = model_needs | called_hot(frame)
    if not needs.any():
        return frame
    features = candidates.set_index("lead_id").loc[frame.loc[needs, "lead_id"]].reset_index()
    frame.loc[needs, "reasons_rule"] = bundle.points.reasons(features, top=per_lead)
    if model_needs.any():
        X = features.loc[model_needs[needs].to_numpy(), bundle.feature_names]
        model_reasons = reasons_from_contributions(bundle.model.contributions(X), X, registry, top=per_lead)
        frame.loc[model_needs, "reasons_model_up"] = model_reasons["reasons_up"].to_numpy()
        frame.loc[model_needs, "reasons_model_down"] = model_reasons["reasons_down"].to_numpy()
    return frame
