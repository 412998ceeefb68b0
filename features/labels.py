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
