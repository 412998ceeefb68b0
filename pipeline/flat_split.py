"""Give each row of a flat export the period it belongs to, the order the training core splits and backtests in.

The core cuts its periods into train, calibration and test, and backtests over the last
ones, each scored by a model fitted on the periods before it. A flat export's periods are:

- `date`: the date column's day (checked to be a date: an integer column is not read as
  nanoseconds since 1970);
- `order`: consecutive blocks of rows in file order, `ascending` (oldest first) or
  `descending` (newest first: the blocks are counted from the end of the file);
- `random`: blocks drawn at random, each with the export's share of wins (stratified);
- `group`: blocks drawn at random by a group column (an account), so no group is on both sides;
- `kfold`: `folds` folds drawn at random (stratified, and by group when a group column is set)
  for cross-validation (`pipeline.cross_validation`): every row tested once.

Stand-in periods (every way but `date`) are dates a week apart from 2000-01-01, and are
worded as the blocks they are ("block 3 of 20 in file order"), never as dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from leadscore.pipeline.config import FlatTableConfig
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_table import parse_dates

PERIOD_ORIGIN = pd.Timestamp("2000-01-01", tz="UTC")
"""The first stand-in date of a split by blocks of rows."""


@dataclass(frozen=True)
class FlatSplitChoice:
    """How the rows were ordered into periods, why, and how a period is worded."""

    by: str
    why: str
    period_name: Callable | None  # words an `as_of`; None: it is a date, worded as one
    warnings: tuple[str, ...] = ()  # what the file suggests about its order that the split does not follow
    censoring: object = None  # pipeline.flat_censoring.Censoring: the immature rows left out before the split

    @property
    def worded(self) -> str:
        """Say how the rows were split, and which were left out before it."""
        return self.why + (f"; {self.censoring.sentence()}" if self.censoring is not None else "")


def row_periods(frame: pd.DataFrame, labels: np.ndarray, flat: FlatTableConfig, path: Path,
                seed: int = 0) -> tuple[pd.Series, FlatSplitChoice]:
    """Return each row's period (`as_of`, UTC) and the split choice that gave it."""
    split = flat.split
    by = split.by or ("date" if flat.date_column else "order")
    if by == "date":
        return _dates(frame, flat, path), FlatSplitChoice(
            "date", f"by the date column '{flat.date_column}': trained on the past, tested on the latest rows", None)
    n, periods = len(frame), flat.periods
    warnings: tuple[str, ...] = ()
    if by == "order":
        position = np.arange(n) if split.order == "ascending" else np.arange(n)[::-1]
        block = position * periods // max(n, 1)
        newest = "last" if split.order == "ascending" else "first"
        why = (f"by row order ({split.order}: the newest rows are {newest} in the file), in {periods} blocks"
               + ("" if flat.split.by else "; there is no date column, so file order is taken as time order "
                  "(flat.split.order: descending if the newest rows come first, flat.split.by: random if rows have no order)"))
        words = "in file order" if split.order == "ascending" else "counted from the end of the file"
        warnings = _order_warning(frame, flat)
    elif by == "random":
        block = _folds(StratifiedKFold(periods, shuffle=True, random_state=seed).split(np.zeros(n), labels), n)
        why = (f"at random in {periods} blocks, each with the export's share of wins (flat.split.by: random): rows are taken "
               "as exchangeable, so the figures hold only if the population does not change over time")
        words = "drawn at random"
    elif by == "kfold":
        return _kfold(frame, labels, flat, path, seed)
    else:
        column = split.group_column
        if column not in frame.columns:
            raise BadInputError(f"{path}: flat.split.group_column '{column}' is not a column; found: {', '.join(frame.columns)}")
        groups = frame[column].astype("string").fillna(pd.Series([f"<row {i}>" for i in range(n)], index=frame.index))
        block = _folds(StratifiedGroupKFold(periods, shuffle=True, random_state=seed).split(np.zeros(n), labels, groups), n)
        why = (f"at random by '{column}' in {periods} blocks (flat.split.by: group): all rows of one {column} fall in one "
               "block, so none is both learned from and tested on")
        words = f"drawn at random by {column}"
    as_of = pd.Series(PERIOD_ORIGIN + pd.to_timedelta(np.asarray(block) * 7, unit="D"), index=frame.index)
    return as_of, FlatSplitChoice(by, why, _block_name(periods, words), warnings)


def describe_period(when, choice: FlatSplitChoice) -> str:
    """Word a period as the choice words it: its date, or its block."""
    return choice.period_name(when) if choice.period_name else str(pd.Timestamp(when).date())


PERIOD_KEYS = frozenset({"first_as_of", "last_as_of", "fitted_to", "calibrated_from"})
"""The keys of the core's summaries and backtest rows that hold a period, as a date."""


def word_periods(value, choice: FlatSplitChoice):
    """Return `value` (a dict, list or frame of the core's summaries) with its stand-in dates worded as blocks.

    The core words every period as a date; a split by blocks of rows has none to show.
    """
    if choice.period_name is None:
        return value
    if isinstance(value, pd.DataFrame):
        return value.assign(**{k: value[k].map(lambda v: _worded(v, choice)) for k in PERIOD_KEYS if k in value.columns})
    if isinstance(value, dict):
        return {k: _worded(v, choice) if k in PERIOD_KEYS else word_periods(v, choice) for k, v in value.items()}
    if isinstance(value, list):
        return [word_periods(v, choice) for v in value]
    return value


def _worded(value, choice: FlatSplitChoice):
    return choice.period_name(pd.Timestamp(value, tz="UTC")) if isinstance(value, str) and value[:2] == "20" else value


def _dates(frame: pd.DataFrame, flat: FlatTableConfig, path: Path) -> pd.Series:
    column = flat.date_column
    if not column:
        raise BadInputError(f"{path}: flat.split.by is 'date' but flat.date_column is not set")
    values = frame[column]
    if values.isna().any():
        rows = ", ".join(f"row {i + 1}" for i in np.flatnonzero(values.isna().to_numpy())[:5])
        raise BadInputError(f"{path}: column '{column}' (flat.date_column) has {int(values.isna().sum())} blank dates: {rows}")
    return parse_dates(values, column, "flat.date_column", path)


def _order_warning(frame: pd.DataFrame, flat: FlatTableConfig) -> tuple[str, ...]:
    """Say so when numeric ids run against the declared row order: ids usually grow with time.

    A file sorted newest first and split as if oldest first trains on the newest rows and tests
    on the oldest; the ids are the one clue the file itself gives.
    """
    if not flat.id_column or flat.split.by:  # an order declared outright is the user's word
        return ()
    ids = pd.to_numeric(frame[flat.id_column], errors="coerce")
    if ids.isna().any() or len(ids) < 3:
        return ()
    rank = ids.rank().to_numpy()
    trend = float(np.corrcoef(rank, np.arange(len(rank)))[0, 1])  # Spearman's rho of id against position
    falling = flat.split.order == "ascending" and trend < -0.9
    rising = flat.split.order == "descending" and trend > 0.9
    if not (falling or rising):
        return ()
    way = "fall" if falling else "rise"
    other = "descending" if falling else "ascending"
    return (f"the ids in '{flat.id_column}' {way} down the file while flat.split.order is {flat.split.order}: if ids grow "
            f"with time, the newest rows are {'first' if falling else 'last'} and the split trains on them; set "
            f"flat.split.order: {other} (or flat.split.by: order to keep the order as declared)",)


def _kfold(frame: pd.DataFrame, labels: np.ndarray, flat: FlatTableConfig, path: Path, seed: int) -> tuple[pd.Series, FlatSplitChoice]:
    """Return each row's cross-validation fold as a stand-in period, and the choice that words it."""
    n, k, column = len(frame), flat.split.folds, flat.split.group_column
    if column is None:
        fold = _folds(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), labels), n)
        how = "each with the export's share of wins"
    else:
        if column not in frame.columns:
            raise BadInputError(f"{path}: flat.split.group_column '{column}' is not a column; found: {', '.join(frame.columns)}")
        groups = frame[column].astype("string").fillna(pd.Series([f"<row {i}>" for i in range(n)], index=frame.index))
        fold = _folds(StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), labels, groups), n)
        how = f"all rows of one {column} in one fold"
    why = (f"by {k}-fold cross-validation (flat.split.by: kfold): the rows drawn at random into {k} folds, {how}; each fold "
           f"is tested by a model fitted on the others, so every row is tested once and the figures pool {n:,} rows. Rows are "
           "taken as exchangeable: the figures hold only if the population does not change over time")
    as_of = pd.Series(PERIOD_ORIGIN + pd.to_timedelta(fold * 7, unit="D"), index=frame.index)
    return as_of, FlatSplitChoice("kfold", why, _fold_name(k))


def _fold_name(folds: int):
    def name(when) -> str:
        return f"fold {(pd.Timestamp(when) - PERIOD_ORIGIN).days // 7 + 1} of {folds}"
    return name


def _folds(splits, n: int) -> np.ndarray:
    block = np.zeros(n, dtype=int)
    for fold, (_, rows) in enumerate(splits):
        block[rows] = fold
    return block


def _block_name(periods: int, words: str):
    def name(when) -> str:
        return f"block {(pd.Timestamp(when) - PERIOD_ORIGIN).days // 7 + 1} of {periods} {words}"
    return name
