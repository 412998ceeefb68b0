"""Set aside the rows of a flat export whose outcome cannot be known yet: created less than the horizon before the export ends.

A lead created a week before the export was taken has had a week to convert; counted as a
loss, it teaches the model that recent leads lose and lowers every recent period's win rate.
With `flat.censoring`, the outcome is "won within `horizon_days` of the row's created date":
a row created less than the horizon before the export's end is immature and left out of
training and evaluation (it is counted, with the wins it already has), and with a won-date
column, a win that came after the horizon counts as a loss at the horizon, as the CRM path
labels its leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.pipeline.config import FlatTableConfig
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_table import parse_dates


@dataclass(frozen=True)
class Censoring:
    """What censoring left out and relabelled, in words for the console and the report."""

    horizon_days: int
    export_end: pd.Timestamp
    immature: int  # rows created less than the horizon before the export's end: left out
    immature_won: int  # of those, rows already won
    late_wins: int  # wins that came after the horizon: counted as losses

    def sentence(self) -> str:
        """Say what was left out and why."""
        cutoff = (self.export_end - pd.Timedelta(days=self.horizon_days)).date()
        late = (f"; {self.late_wins:,} wins came more than {self.horizon_days} days after their row's created date "
                "and count as losses" if self.late_wins else "")
        return (f"{self.immature:,} rows created after {cutoff} ({self.horizon_days} days before the export's end, "
                f"{self.export_end.date()}) are immature, their outcome not yet known, and are left out of training and "
                f"evaluation ({self.immature_won:,} of them already won){late}")


def censor(frame: pd.DataFrame, labels: np.ndarray, flat: FlatTableConfig, path: Path
           ) -> tuple[pd.DataFrame, np.ndarray, Censoring | None]:
    """Return the mature rows, their labels (won within the horizon) and what was left out; unchanged without `flat.censoring`."""
    settings = flat.censoring
    if settings is None:
        return frame, labels, None
    created_column = settings.created_column or flat.date_column
    created = parse_dates(frame[created_column], created_column, "flat.censoring.created_column", path)
    if created.isna().any():
        rows = ", ".join(f"row {i + 1}" for i in np.flatnonzero(created.isna().to_numpy())[:5])
        raise BadInputError(f"{path}: column '{created_column}' (the created date flat.censoring reads) has "
                            f"{int(created.isna().sum())} blank dates: {rows}; a row without one cannot be judged mature")
    known = [created]
    labels = labels.copy()
    late = 0
    if settings.won_date_column:
        column = settings.won_date_column
        filled = frame[column].notna().to_numpy()
        won_on = parse_dates(frame[column], column, "flat.censoring.won_date_column", path)
        early = (won_on < created).to_numpy()
        if early.any():
            rows = ", ".join(f"row {i + 1}: won {frame[column].iloc[i]}, created {frame[created_column].iloc[i]}"
                             for i in np.flatnonzero(early)[:5])
            raise BadInputError(f"{path}: column '{column}' (flat.censoring.won_date_column) is before column "
                                f"'{created_column}' on {int(early.sum())} rows: {rows}")
        within = (won_on - created <= pd.Timedelta(days=settings.horizon_days)).to_numpy()
        late_mask = (labels == 1) & filled & ~within
        late = int(late_mask.sum())
        labels[late_mask] = 0
        known.append(won_on)
    end = (pd.Timestamp(settings.export_end, tz="UTC") if settings.export_end
           else max(s.max() for s in known if s.notna().any()))
    immature = (created > end - pd.Timedelta(days=settings.horizon_days)).to_numpy()
    report = Censoring(settings.horizon_days, end, int(immature.sum()), int(labels[immature].sum()), late)
    return frame.loc[~immature].reset_index(drop=True), labels[~immature], report
