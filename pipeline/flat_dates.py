"""Derive number features from date columns of a flat export: parts of a date, and a date's age at the row's reference date.

A date is not a feature as it stands (a model cannot learn from 2024-03-01 text), but its
month, weekday or how long before the row it happened can be. Only what was known at the
row's reference date (its created date, `flat.reference_date_column`, default `flat.date_column`) may enter:
a date after it (a closing date, a last activity logged later) is refused, naming the rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_table import parse_dates

PARTS = {
    "year": lambda d: d.dt.year,
    "quarter": lambda d: d.dt.quarter,
    "month": lambda d: d.dt.month,
    "day_of_month": lambda d: d.dt.day,
    "day_of_week": lambda d: d.dt.day_of_week,  # Monday 0
    "hour": lambda d: d.dt.hour,
}
"""The date parts a column can give, each a number column named `<column>_<part>`."""

AGE = "age_days"
"""The part that is the date's age, in days, at the row's reference date."""


def derived_names(spec: dict[str, tuple[str, ...]]) -> list[str]:
    """Return the names of the columns `spec` derives, in order: `<column>_<part>`."""
    return [f"{column}_{part}" for column, parts in spec.items() for part in parts]


def date_features(frame: pd.DataFrame, spec: dict[str, tuple[str, ...]], reference: str | None, path: Path) -> pd.DataFrame:
    """Return the derived number columns of `spec` ({column: parts}) for each row of `frame`.

    A blank date gives blank parts. `age_days` needs the reference column, and a date after
    the row's reference date is an error: it was not known when the row was.
    """
    out = pd.DataFrame(index=frame.index)
    if not spec:
        return out
    key = "flat.reference_date_column"
    ref = parse_dates(frame[reference], reference, key, path) if reference else None
    for column, parts in spec.items():
        dates = parse_dates(frame[column], column, f"flat.date_features.{column}", path, normalize=False)
        if ref is not None and column != reference:
            later = (dates.dt.normalize() > ref).to_numpy()
            if later.any():
                rows = ", ".join(f"{frame[column].iloc[i]!r} after {frame[reference].iloc[i]!r} (row {i + 1})"
                                 for i in np.flatnonzero(later)[:5])
                raise BadInputError(f"{path}: column '{column}' (flat.date_features) is after the row's reference date "
                                    f"'{reference}' on {int(later.sum())} rows: {rows}; a date known only later leaks the "
                                    "outcome: drop it from flat.date_features, or blank those cells")
        for part in parts:
            name = f"{column}_{part}"
            if part == AGE:
                out[name] = ((ref - dates.dt.normalize()).dt.days).astype(float)
            else:
                out[name] = PARTS[part](dates).astype(float)
    return out
