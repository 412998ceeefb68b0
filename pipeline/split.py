"""Split labelled snapshots by time: train on the past, calibrate on a later slice, test on the latest.

A training snapshot at t is labelled by wins in (t, t + horizon]. If that window reaches into
the next slice, its label was decided by events the next slice is meant to be blind to, so
such snapshots are purged (as in purged time-series cross-validation). Early stopping uses
a share of the training *leads* (all their snapshots), so no lead is on both sides. The cut
itself is `pipeline.split_checks`' (`slice_bounds`, `slice_of`), which training checks against
the schedule before any feature is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.features.snapshots import moment_text
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import InsufficientDataError
from leadscore.pipeline.split_checks import label_reach, outcome_problem, slice_bounds, slice_of


@dataclass
class TimeSplit:
    """Boolean masks over the training frame and the dates that bound each slice."""

    fit: np.ndarray
    validation: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    calibration_start: pd.Timestamp
    test_start: pd.Timestamp
    purged: int

    def describe(self, frame: pd.DataFrame) -> dict:
        """Return rows, positives and date range per slice."""
        out = {}
        for name in ("fit", "validation", "calibration", "test"):
            mask = getattr(self, name)
            part = frame.loc[mask]
            out[name] = {
                "rows": int(mask.sum()),
                "positives": int(part["label"].sum()),
                "first_as_of": moment_text(part["as_of"].min()) if len(part) else None,
                "last_as_of": moment_text(part["as_of"].max()) if len(part) else None,
            }
        out["purged"] = self.purged
        return out


def split_by_time(frame: pd.DataFrame, config: Config) -> TimeSplit:
    """Return the fit / validation / calibration / test masks for a labelled snapshot frame."""
    bounds = slice_bounds(frame["as_of"].unique(), config)
    slices = slice_of(frame["as_of"], bounds, label_reach(config))
    train, calibration, test = (slices == "fit"), (slices == "calibration"), (slices == "test")
    purged = int(slices.str.startswith("purged").sum())
    leads = frame.loc[train, "lead_id"].unique()
    rng = np.random.default_rng(config.model.seed)
    held = set(rng.choice(leads, size=max(1, int(len(leads) * config.model.validation_share)), replace=False)) if len(leads) else set()
    validation = train & frame["lead_id"].isin(held)
    fit = train & ~validation
    split = TimeSplit(fit.to_numpy(), validation.to_numpy(), calibration.to_numpy(), test.to_numpy(),
                      bounds.calibration_start, bounds.test_start, purged)
    _require_outcomes(frame, split, config)
    return split


def _require_outcomes(frame: pd.DataFrame, split: TimeSplit, config: Config) -> None:
    for name in ("fit", "calibration", "test"):
        labels = frame.loc[getattr(split, name), "label"]
        problem = outcome_problem(name, int(labels.sum()), int((labels == 0).sum()), config)
        if problem:
            raise InsufficientDataError(problem)
