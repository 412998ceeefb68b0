"""Choose the moments to look at each lead: training snapshots on a schedule, or one scoring date.

In the style of a windowing pipeline: snapshots every `slide_days`, anchored at the last
uncensored date (data end minus horizon minus gap) so the most recent usable evidence is
always included. A lead is in a snapshot if it existed before `as_of` and had not yet been
won or lost at `as_of` (an open opportunity keeps it open). The schedule is computed here
once and the SQL runs on whichever engine holds the CRM (`features.engines.FeatureEngine`).
"""

from __future__ import annotations

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.errors import BadInputError
from leadscore.features.settings import WindowSettings

OPEN_LEADS_SQL = """
    SELECT l.lead_id, d.as_of
    FROM leads l
    JOIN {dates} d ON l.created_at < d.as_of
    WHERE NOT EXISTS (
        SELECT 1 FROM opportunities o
        WHERE o.lead_id = l.lead_id AND o.outcome IN ('won', 'lost') AND o.closed_at <= d.as_of)
    ORDER BY d.as_of, l.lead_id
"""
"""Leads that exist and are still open (not won or lost) at each date."""


def midnight(moment) -> pd.Timestamp:
    """Return the UTC midnight starting the day of `moment`."""
    ts = pd.Timestamp(moment)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.normalize()


def snapshot_dates(crm: FeatureEngine, windows: WindowSettings) -> list[pd.Timestamp]:
    """Return the training as_of dates: every slide_days from the last uncensored date backwards."""
    w = windows
    first_lead = pd.Timestamp(crm.query("SELECT min(created_at) AS first_lead FROM leads")["first_lead"].iloc[0])
    first = midnight(w.first_snapshot) if w.first_snapshot else midnight(first_lead) + pd.Timedelta(days=max(w.lookback_days))
    last = midnight(w.last_snapshot) if w.last_snapshot else midnight(crm.data_end) - pd.Timedelta(days=w.horizon_days + w.gap_days)
    if last < first:
        raise BadInputError(
            f"{crm.source}: the data spans too little time for training snapshots: the first snapshot would be "
            f"{first.date()} (first lead + {max(w.lookback_days)} days of lookback) but the last uncensored one is "
            f"{last.date()} (data end {crm.data_end.date()} minus a {w.horizon_days}-day horizon)")
    dates = []
    current = last
    while current >= first:
        dates.append(current)
        current -= pd.Timedelta(days=w.slide_days)
    return sorted(dates)


def open_leads_at(crm: FeatureEngine, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Return (lead_id, as_of) for every lead open at each of `dates` (naive dates are UTC)."""
    frame = pd.DataFrame({"as_of": pd.to_datetime(pd.Series(list(dates), dtype=object), utc=True).astype("datetime64[us, UTC]")})
    result = crm.query(OPEN_LEADS_SQL.format(dates="snapshot_dates_tmp"), {"snapshot_dates_tmp": frame})
    result["lead_id"] = result["lead_id"].astype("string")
    result["as_of"] = pd.to_datetime(result["as_of"], utc=True)
    return result


def training_snapshots(crm: FeatureEngine, windows: WindowSettings) -> pd.DataFrame:
    """Return the training snapshots (lead_id, as_of) on the schedule of `windows`."""
    return open_leads_at(crm, snapshot_dates(crm, windows))


def scoring_snapshots(crm: FeatureEngine, as_of) -> pd.DataFrame:
    """Return one snapshot at `as_of` for every lead open then."""
    return open_leads_at(crm, [pd.Timestamp(as_of).tz_convert("UTC") if pd.Timestamp(as_of).tzinfo else pd.Timestamp(as_of, tz="UTC")])
