"""Check the time split before any feature is built: snapshots and wins per slice, the purge, and what to change.

The slices depend only on the snapshot schedule and the label dates, so one aggregate query
(snapshots and wins per as_of, on whichever engine holds the CRM) says in seconds what a
minute of feature building would otherwise end on: a slice with too few wins, a purge that
empties the fit period, too few dates to hold anything out. Each problem is an error naming
its cause and the setting that fixes it. `pipeline.split` cuts the labelled frame with the
same rules (`slice_bounds`, `slice_of`), so the check counts what the split will hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.labels import label_sql
from leadscore.features.snapshots import OPEN_LEADS_SQL, dates_frame, moment_text, snapshot_dates
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import InsufficientDataError

SLICES = ("fit", "purged before calibration", "calibration", "purged before test", "test")
"""What each snapshot becomes, in time order: the purged ones have label windows reaching into the next slice."""

COUNTS_SQL = """
WITH open_snapshots AS ({open_leads}),
kept AS (SELECT lead_id, as_of FROM open_snapshots WHERE {keep}),
labelled AS ({labelled}),
per_date AS (SELECT as_of, count(*) AS snapshots, sum(label) AS wins FROM labelled GROUP BY as_of),
in_pipeline AS (
    SELECT as_of, sum(CASE WHEN in_sales_pipeline THEN 1 ELSE 0 END) AS in_pipeline
    FROM open_snapshots GROUP BY as_of)
SELECT i.as_of, coalesce(p.snapshots, 0) AS snapshots, coalesce(p.wins, 0) AS wins, i.in_pipeline
FROM in_pipeline i LEFT JOIN per_date p ON p.as_of = i.as_of
ORDER BY i.as_of
"""
"""Snapshots and wins of the population per as_of, and the open leads in Sales' pipeline then (left out or not)."""


@dataclass(frozen=True)
class SliceBounds:
    """Where the time split cuts the snapshot dates, and how many dates each slice holds."""

    calibration_start: pd.Timestamp
    test_start: pd.Timestamp
    dates: int
    calibration_dates: int
    test_dates: int


def slice_bounds(dates, config: Config) -> SliceBounds:
    """Return the calibration and test starts over sorted distinct `dates`, or an error when too few to cut.

    >>> days = pd.date_range("2024-01-01", periods=10, freq="30D", tz="UTC")
    >>> b = slice_bounds(days, Config())
    >>> moment_text(b.calibration_start), moment_text(b.test_start)
    ('2024-06-29', '2024-08-28')
    """
    dates = np.array(sorted(pd.to_datetime(pd.Series(dates), utc=True).unique()))
    n = len(dates)
    split = config.split
    n_test = max(1, int(round(n * split.test_share)))
    n_cal = max(1, int(round(n * split.calibration_share)))
    if n - n_test - n_cal < 1:
        span = f" from {moment_text(dates[0])} to {moment_text(dates[-1])}" if n else ""
        raise InsufficientDataError(
            f"only {n} snapshot date{'s' if n != 1 else ''}{span} (one every {_slide_text(config)}): "
            f"split.test_share {split.test_share:g} and split.calibration_share {split.calibration_share:g} hold out "
            f"{n_test} and {n_cal}, leaving none to fit on. Snapshot more often (windows.slide_days, or windows.slide such "
            f"as 7d), lower split.calibration_share or split.test_share, or use more history (an earlier windows.first_snapshot)")
    return SliceBounds(pd.Timestamp(dates[n - n_test - n_cal]), pd.Timestamp(dates[n - n_test]), n, n_cal, n_test)


def label_reach(config: Config) -> pd.Timedelta:
    """Return how far after as_of a snapshot's label looks: gap plus horizon."""
    return pd.Timedelta(days=config.windows.gap_days + config.windows.horizon_days)


def slice_of(as_of: pd.Series, bounds: SliceBounds, reach: pd.Timedelta) -> pd.Series:
    """Return the slice (one of `SLICES`) of each as_of: fit, calibration or test, or purged at a boundary."""
    as_of = pd.to_datetime(as_of, utc=True)
    before_cal, before_test = as_of < bounds.calibration_start, as_of < bounds.test_start
    ends = as_of + reach
    names = np.select(
        [before_cal & (ends <= bounds.calibration_start), before_cal,
         before_test & (ends <= bounds.test_start), before_test],
        list(SLICES[:4]), SLICES[4])
    return pd.Series(names, index=as_of.index)


@dataclass
class SplitCheck:
    """The split the schedule allows: per slice its dates, snapshots and wins, and the population left out."""

    slices: pd.DataFrame  # slice, dates, first_as_of, last_as_of, snapshots, wins
    bounds: SliceBounds
    in_pipeline: int  # open-lead snapshots with an open opportunity (left out under population exclude)
    left_out: bool

    def rows(self, name: str) -> dict:
        """Return the counts of slice `name`."""
        return self.slices.set_index("slice").loc[name].to_dict()


def snapshot_counts(crm: FeatureEngine, config: Config) -> pd.DataFrame:
    """Return (as_of, snapshots, wins, in_pipeline) per uncensored snapshot date of the schedule, from one query."""
    windows = config.windows
    dates = [d for d in snapshot_dates(crm, windows) if d + label_reach(config) <= crm.data_end]
    keep = "NOT in_sales_pipeline" if config.population.open_opportunities == "exclude" else "TRUE"
    sql = COUNTS_SQL.format(open_leads=OPEN_LEADS_SQL.format(dates="split_check_dates"), keep=keep,
                            labelled=label_sql("kept", windows))
    counts = crm.query(sql, {"split_check_dates": dates_frame(dates)})
    counts["as_of"] = pd.to_datetime(counts["as_of"], utc=True)
    return counts.astype({"snapshots": "int64", "wins": "int64", "in_pipeline": "int64"})


def check_split(crm: FeatureEngine, config: Config) -> SplitCheck:
    """Return the split the CRM's schedule allows, or raise the error that names what to change."""
    counts = snapshot_counts(crm, config)
    populated = counts[counts["snapshots"] > 0].reset_index(drop=True)
    if populated.empty:
        raise InsufficientDataError(f"{crm.source}: no open lead at any of the {len(counts)} snapshot dates: nothing to train on")
    try:
        bounds = slice_bounds(populated["as_of"], config)
    except InsufficientDataError as exc:
        raise InsufficientDataError(f"{crm.source}: {exc}") from None
    populated["slice"] = slice_of(populated["as_of"], bounds, label_reach(config))
    grouped = populated.groupby("slice").agg(dates=("as_of", "size"), first_as_of=("as_of", "min"), last_as_of=("as_of", "max"),
                                             snapshots=("snapshots", "sum"), wins=("wins", "sum"))
    slices = grouped.reindex(list(SLICES)).reset_index().rename(columns={"index": "slice"})
    slices = slices.fillna({"dates": 0, "snapshots": 0, "wins": 0}).astype({"dates": "int64", "snapshots": "int64", "wins": "int64"})
    check = SplitCheck(slices, bounds, int(counts["in_pipeline"].sum()), config.population.open_opportunities == "exclude")
    _require_fit_and_calibration(check, config, crm.source)
    for name in ("fit", "calibration", "test"):
        rows = check.rows(name)
        # early stopping holds out a share of the fit leads: the fit slice keeps about the rest of its snapshots
        kept = 1 - config.model.validation_share if name == "fit" else 1
        won, other = int(rows["wins"] * kept), int((rows["snapshots"] - rows["wins"]) * kept)
        problem = outcome_problem(name, won, other, config, check)
        if problem:
            raise InsufficientDataError(f"{crm.source}: {problem}")
    return check


def _require_fit_and_calibration(check: SplitCheck, config: Config, source: str) -> None:
    """Raise when the purge empties the fit or the calibration slice: the horizon is longer than the slice."""
    reach_days = config.windows.gap_days + config.windows.horizon_days
    b = check.bounds
    window = f"{reach_days}-day label window (windows.horizon_days {config.windows.horizon_days}" + (
        f" + gap_days {config.windows.gap_days})" if config.windows.gap_days else ")")
    fit, purged = check.rows("fit"), check.rows("purged before calibration")
    if fit["snapshots"] == 0:
        first = purged["first_as_of"]
        span = (b.calibration_start - first).days if purged["dates"] else 0
        raise InsufficientDataError(
            f"{source}: every snapshot before the calibration start {moment_text(b.calibration_start)} is purged "
            f"({purged['snapshots']:,} snapshots on {purged['dates']} dates): the fit period spans {span} days, shorter than "
            f"the {window}, so each label would see the calibration slice. The history must hold the horizon beyond the "
            f"fit period: lower windows.horizon_days, start earlier (windows.first_snapshot), or hold out less "
            f"(split.calibration_share {config.split.calibration_share:g}, split.test_share {config.split.test_share:g})")
    calibration, purged = check.rows("calibration"), check.rows("purged before test")
    if calibration["snapshots"] == 0:
        span = (b.test_start - b.calibration_start).days
        raise InsufficientDataError(
            f"{source}: every calibration snapshot ({moment_text(b.calibration_start)} to {moment_text(b.test_start)}, {span} days) is "
            f"purged ({purged['snapshots']:,} snapshots): the slice is shorter than the {window}, so each label would see "
            f"the test slice. Raise split.calibration_share (now {config.split.calibration_share:g}, {b.calibration_dates} "
            f"of {b.dates} dates) or lower windows.horizon_days")


def outcome_problem(name: str, won: int, other: int, config: Config, check: SplitCheck | None = None) -> str | None:
    """Return why slice `name` has too few wins or non-wins for training, and what to change; None when it has enough.

    With a `check` (the counts of every slice) the message names the likelier cause: too few wins
    in the whole CRM, a slice holding too few dates, or wins the purge or the population left out.

    >>> outcome_problem("test", 50, 900, Config()) is None
    True
    """
    need_won, need_lost = config.split.min_won, config.split.min_lost
    if won >= need_won and other >= need_lost:
        return None
    text = (f"the {name} slice has {won:,} won and {other:,} not-won snapshots; training needs split.min_won {need_won} won and "
            f"split.min_lost {need_lost} not-won in each of fit, calibration and test")
    if check is None:
        return f"{text}. Run `leadscore train --check-split` to see each slice's counts and the cause"
    used = check.slices[check.slices["slice"].isin(["fit", "calibration", "test"])]
    total_wins, total = int(used["wins"].sum()), int(used["snapshots"].sum())
    purged = check.slices[check.slices["slice"].str.startswith("purged")]
    causes = []
    if won < need_won and total_wins < 3 * need_won:
        causes.append(f"the three slices hold only {total_wins:,} wins in all ({total_wins / max(total, 1):.2%} of {total:,} "
                      f"snapshots), fewer than 3 x split.min_won: lower split.min_won, snapshot more often (windows.slide_days or "
                      f"windows.slide), label a longer window (windows.horizon_days {config.windows.horizon_days}), or use more "
                      f"history (an earlier windows.first_snapshot)")
    elif name in ("calibration", "test"):
        share, dates = (config.split.calibration_share, check.bounds.calibration_dates) if name == "calibration" else (
            config.split.test_share, check.bounds.test_dates)
        causes.append(f"the {name} slice holds {dates} of {check.bounds.dates} dates: raise split.{name}_share (now {share:g}), "
                      f"snapshot more often (windows.slide_days or windows.slide), or lower split.min_won / split.min_lost")
    else:
        causes.append(f"the held-out slices take the later dates, where the wins are: lower split.calibration_share "
                      f"({config.split.calibration_share:g}) or split.test_share ({config.split.test_share:g}), start earlier "
                      f"(windows.first_snapshot), or lower split.min_won / split.min_lost")
    if int(purged["snapshots"].sum()):
        causes.append(f"the purge drops {int(purged['snapshots'].sum()):,} snapshots ({int(purged['wins'].sum()):,} wins) whose "
                      f"{config.windows.horizon_days}-day label window reaches into the next slice")
    if check.left_out and check.in_pipeline:
        causes.append(f"{check.in_pipeline:,} snapshots of leads already in Sales' pipeline are left out "
                      "(population.open_opportunities: exclude)")
    first, *rest = causes
    return f"{text}. {first[0].upper()}{first[1:]}" + "".join(f"; {c}" for c in rest)


def _slide_text(config: Config) -> str:
    return config.windows.slide if config.windows.slide else f"{config.windows.slide_days} days"
