"""Split labelled snapshots by time: train on the past, calibrate on a later slice, test on the latest.

A training snapshot at t is labelled by wins in (t, t + horizon]. If that window reaches into
the next slice, its label was decided by events the next slice is meant to be blind to, so
such snapshots are purged (as in purged time-series cross-validation). Early stopping uses
a share of the training *leads* (all their snapshots), so no lead is on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.features.snapshots import moment_text
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import InsufficientDataError


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
    dates = np.array(sorted(frame["as_of"].unique()))
    n = len(dates)
    n_test = max(1, int(round(n * config.split.test_share)))
    n_cal = max(1, int(round(n * config.split.calibration_share)))
    if n - n_test - n_cal < 1:
        raise InsufficientDataError(f"only {n} snapshot dates: too few to hold out calibration and test slices by time")
    test_start = pd.Timestamp(dates[n - n_test])
    calibration_start = pd.Timestamp(dates[n - n_test - n_cal])
    as_of = frame["as_of"]
    reach = as_of + pd.Timedelta(days=config.windows.gap_days + config.windows.horizon_days)
    train = (as_of < calibration_start) & (reach <= calibration_start)
    calibration = (as_of >= calibration_start) & (as_of < test_start) & (reach <= test_start)
    test = as_of >= test_start
    purged = int(((as_of < calibration_start) & ~train).sum() + ((as_of >= calibration_start) & (as_of < test_start) & ~calibration).sum())
    leads = frame.loc[train, "lead_id"].unique()
    rng = np.random.default_rng(config.model.seed)
    held = set(rng.choice(leads, size=max(1, int(len(leads) * config.model.validation_share)), replace=False)) if len(leads) else set()
    validation = train & frame["lead_id"].isin(held)
    fit = train & ~validation
    split = TimeSplit(fit.to_numpy(), validation.to_numpy(), calibration.to_numpy(), test.to_numpy(), calibration_start, test_start, purged)
    _require_outcomes(frame, split, config)
    return split


def _require_outcomes(frame: pd.DataFrame, split: TimeSplit, config: Config) -> None:
    for name in ("fit", "calibration", "test"):
        labels = frame.loc[getattr(split, name), "label"]
        won, other = int(labels.sum()), int((labels == 0).sum())
        if won < config.split.min_won or other < config.split.min_lost:
            raise InsufficientDataError(
                f"the {name} slice has {won} won and {other} not-won snapshots; leadscore needs at least "
                f"{config.split.min_won} won and {config.split.min_lost} not-won in each of fit, calibration and test "
                f"to train a model that means anything (more history, more leads, or a shorter slide_days would help)")
