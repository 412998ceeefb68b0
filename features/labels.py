"""Label snapshots with closed-won outcomes, and drop the ones whose outcome cannot be known yet.

label = 1 iff the lead has a won opportunity with closed_at in (as_of + gap, as_of + gap + horizon].
A snapshot whose window ends after the data's end is censored: a zero there would only mean
"not yet", so it is dropped and counted rather than labelled a loss.
"""

from __future__ import annotations

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.settings import WindowSettings

LABEL_SQL = """
    SELECT s.lead_id, s.as_of, CAST(count(o.opportunity_id) > 0 AS INTEGER) AS label
    FROM {snapshots} s
    LEFT JOIN opportunities o
      ON o.lead_id = s.lead_id AND o.outcome = 'won'
     AND o.closed_at > s.as_of + INTERVAL {window_start} DAY
     AND o.closed_at <= s.as_of + INTERVAL {window_end} DAY
    GROUP BY s.lead_id, s.as_of
"""
"""A win inside (as_of + gap, as_of + gap + horizon]; written as a join so Spark runs the same text."""


def label_sql(snapshots: str, windows: WindowSettings) -> str:
    """Return `LABEL_SQL` over the relation named `snapshots` (lead_id, as_of), for the label window of `windows`."""
    return LABEL_SQL.format(snapshots=snapshots, window_start=int(windows.gap_days),
                            window_end=int(windows.gap_days + windows.horizon_days))


def label_snapshots(crm: FeatureEngine, snapshots: pd.DataFrame, windows: WindowSettings) -> tuple[pd.DataFrame, dict]:
    """Return (labelled snapshots, summary) with censored snapshots removed and counted.

    Columns of `snapshots` beside lead_id and as_of (such as `in_sales_pipeline`) are kept.
    """
    w = windows
    window_end = pd.to_datetime(snapshots["as_of"], utc=True) + pd.Timedelta(days=w.gap_days + w.horizon_days)
    censored = window_end > crm.data_end
    kept = snapshots.loc[~censored, ["lead_id", "as_of"]].reset_index(drop=True)
    labelled = crm.query(label_sql("label_snapshots_tmp", w), {"label_snapshots_tmp": kept})
    labelled["label"] = labelled["label"].astype("int8")
    labelled["lead_id"] = labelled["lead_id"].astype("string")
    labelled["as_of"] = pd.to_datetime(labelled["as_of"], utc=True)
    carried = [c for c in snapshots.columns if c not in ("lead_id", "as_of")]  # e.g. in_sales_pipeline, kept beside the label
    if carried:
        rest = snapshots.loc[~censored].reset_index(drop=True)
        rest = rest.assign(lead_id=rest["lead_id"].astype("string"), as_of=pd.to_datetime(rest["as_of"], utc=True))
        labelled = labelled.merge(rest, on=["lead_id", "as_of"], how="left", validate="one_to_one")
    labelled = labelled.sort_values(["as_of", "lead_id"], ignore_index=True)
    summary = {
        "snapshots": int(len(labelled)),
        "censored": int(censored.sum()),
        "positives": int(labelled["label"].sum()),
        "dates": int(labelled["as_of"].nunique()),
    }
    return labelled, summary


STAGE_LABEL_SQL = """
    SELECT s.lead_id, s.as_of, CAST(count(e.lead_id) > 0 AS INTEGER) AS label
    FROM {snapshots} s
    LEFT JOIN {entries} e
      ON e.lead_id = s.lead_id
     AND e.entered_at > s.as_of + INTERVAL {window_start} DAY
     AND e.entered_at <= s.as_of + INTERVAL {window_end} DAY
    GROUP BY s.lead_id, s.as_of
"""
"""An entry into the stage (or a later funnel stage) inside (as_of + gap, as_of + gap + horizon]."""


def label_snapshots_by_stage(crm: FeatureEngine, snapshots: pd.DataFrame, windows: WindowSettings, stage: str,
                             lifecycle) -> tuple[pd.DataFrame, dict]:
    """Return (labelled snapshots, summary) labelled by reaching `stage` within the horizon, from the lifecycle table.

    `lifecycle` is `LifecycleSettings`. Snapshots whose lead already stands at the stage or
    beyond at as_of (its latest entry at or before as_of; recycling puts it back) are not
    snapshots, as won leads are not for the win label; censored ones are dropped and counted.
    Only entries strictly after as_of label a snapshot, and none reaches its features: the
    feature builder never reads the lifecycle table.
    """
    from leadscore.features.contract import FUNNEL_ROLES
    from leadscore.features.errors import BadInputError
    from leadscore.features.lifecycle import has_lifecycle, lifecycle_events

    if not has_lifecycle(crm):
        raise BadInputError(f"{crm.source}: label.stage is {stage!r} but the CRM has no lifecycle table (lifecycle.csv or "
                            ".parquet with lead_id, stage, entered_at); drop label.stage to label by wins")
    events, _ = lifecycle_events(crm, lifecycle)
    rank = {role: i for i, role in enumerate(FUNNEL_ROLES)}
    reached = events[events["role"].map(rank).fillna(-1) >= rank[stage]][["lead_id", "entered_at"]]
    current = _stage_at(events, snapshots)
    there = current.map(rank).fillna(-1).to_numpy() >= rank[stage]
    w = windows
    window_end = pd.to_datetime(snapshots["as_of"], utc=True) + pd.Timedelta(days=w.gap_days + w.horizon_days)
    censored = (window_end > crm.data_end).to_numpy()
    kept = snapshots.loc[~censored & ~there].reset_index(drop=True)
    carried = [c for c in kept.columns if c not in ("lead_id", "as_of")]  # e.g. in_sales_pipeline, which the population rule reads
    sql = STAGE_LABEL_SQL.format(snapshots="label_snapshots_tmp", entries="label_entries_tmp", window_start=int(w.gap_days),
                                 window_end=int(w.gap_days + w.horizon_days))
    labelled = crm.query(sql, {"label_snapshots_tmp": kept[["lead_id", "as_of"]], "label_entries_tmp": reached})
    labelled["label"] = labelled["label"].astype("int8")
    labelled["lead_id"] = labelled["lead_id"].astype("string")
    labelled["as_of"] = pd.to_datetime(labelled["as_of"], utc=True)
    if carried:
        keys = kept.assign(lead_id=kept["lead_id"].astype("string"), as_of=pd.to_datetime(kept["as_of"], utc=True))
        labelled = labelled.merge(keys[["lead_id", "as_of", *carried]], on=["lead_id", "as_of"], how="left", validate="one_to_one")
    labelled = labelled.sort_values(["as_of", "lead_id"], ignore_index=True)
    summary = {"snapshots": int(len(labelled)), "censored": int(censored.sum()), "already_at_stage": int((there & ~censored).sum()),
               "positives": int(labelled["label"].sum()), "dates": int(labelled["as_of"].nunique()), "label_stage": stage}
    return labelled, summary


def _stage_at(events: pd.DataFrame, snapshots: pd.DataFrame) -> pd.Series:
    """Return each snapshot's lifecycle role at as_of: that of the lead's latest entry at or before it (NaN: none)."""
    probe = pd.DataFrame({"lead_id": snapshots["lead_id"].astype(str).to_numpy(),
                          "as_of": pd.to_datetime(snapshots["as_of"], utc=True).to_numpy(), "order": range(len(snapshots))})
    probe = probe.sort_values("as_of")
    entries = events.assign(lead_id=events["lead_id"].astype(str)).sort_values("entered_at")[["lead_id", "entered_at", "role"]]
    probe["as_of"] = probe["as_of"].astype(entries["entered_at"].dtype)
    matched = pd.merge_asof(probe, entries, left_on="as_of", right_on="entered_at", by="lead_id", allow_exact_matches=True)
    return matched.sort_values("order")["role"].reset_index(drop=True).astype(object)
