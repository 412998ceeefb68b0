"""Choose the moments to look at each lead: training snapshots on a schedule, or one scoring date.

In the style of a windowing pipeline: snapshots every slide (`slide_days`, or a sub-daily
`slide` such as 6h), anchored at the last uncensored moment (data end minus horizon minus gap)
so the most recent usable evidence is always included. A lead is open at `as_of` if it existed
before `as_of` and had not yet been won or lost at `as_of`. An open lead with an open
opportunity at `as_of` (opened before it, not closed by it) is in Sales' pipeline: every
snapshot carries that flag (`in_sales_pipeline`), and `split_population` applies the
population rule to it, so training, evaluation and scoring on every engine share one rule.
The schedule is computed here once and the SQL runs on whichever engine holds the CRM
(`features.engines.FeatureEngine`).
"""

from __future__ import annotations

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.errors import BadInputError
from leadscore.features.settings import PopulationSettings, WindowSettings

OPEN_OPPORTUNITY = "o.created_at < d.as_of AND (o.closed_at IS NULL OR o.closed_at >= d.as_of)"
"""An opportunity open at as_of: opened strictly before it and not closed strictly before it,
the rule by which the feature `has_open_opportunity` sees it (`features.builder.VISIBLE_OPPORTUNITIES`)."""

OPEN_LEADS_SQL = f"""
    SELECT l.lead_id, d.as_of, p.lead_id IS NOT NULL AS in_sales_pipeline
    FROM leads l
    JOIN {{dates}} d ON l.created_at < d.as_of
    LEFT JOIN (
        SELECT DISTINCT o.lead_id, d.as_of
        FROM opportunities o
        JOIN {{dates}} d ON {OPEN_OPPORTUNITY}
    ) p ON p.lead_id = l.lead_id AND p.as_of = d.as_of
    WHERE NOT EXISTS (
        SELECT 1 FROM opportunities o
        WHERE o.lead_id = l.lead_id AND o.outcome IN ('won', 'lost') AND o.closed_at <= d.as_of)
    ORDER BY d.as_of, l.lead_id
"""
"""Leads that exist and are still open (not won or lost) at each date, flagged when an opportunity is open then.
Written with joins only (no subquery in the select list), so Spark runs the same text."""


def midnight(moment) -> pd.Timestamp:
    """Return the UTC midnight starting the day of `moment`."""
    ts = pd.Timestamp(moment)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.normalize()


def moment_text(moment) -> str:
    """Return a snapshot time as text: its date when it is a midnight, else its date and UTC time.

    >>> moment_text(pd.Timestamp("2024-03-01", tz="UTC")), moment_text(pd.Timestamp("2024-03-01 06:00", tz="UTC"))
    ('2024-03-01', '2024-03-01 06:00')
    """
    ts = pd.Timestamp(moment)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return str(ts.date()) if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")


def schedule_bounds(crm: FeatureEngine, windows: WindowSettings) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """Return (first lead's creation, first snapshot, last uncensored snapshot) of the schedule `windows` sets.

    The last snapshot is the midnight of the data end minus horizon and gap; a sub-daily slide
    moves it on by whole slides up to the last uncensored moment, so hours of evidence are not lost.
    """
    w = windows
    first_lead = pd.Timestamp(crm.query("SELECT min(created_at) AS first_lead FROM leads")["first_lead"].iloc[0])
    first = midnight(w.first_snapshot) if w.first_snapshot else midnight(first_lead) + pd.Timedelta(days=max(w.lookback_days))
    reach = pd.Timedelta(days=w.horizon_days + w.gap_days)
    last = midnight(w.last_snapshot) if w.last_snapshot else midnight(crm.data_end) - reach
    if not w.last_snapshot and w.slide_step < pd.Timedelta(days=1):
        last += w.slide_step * ((crm.data_end - reach - last) // w.slide_step)
    return first_lead, first, last


def snapshot_dates(crm: FeatureEngine, windows: WindowSettings) -> list[pd.Timestamp]:
    """Return the training as_of times: every slide from the last uncensored one backwards."""
    w = windows
    first_lead, first, last = schedule_bounds(crm, w)
    if last < first:
        start = (f"windows.first_snapshot {w.first_snapshot}" if w.first_snapshot else
                 f"{first.date()} (first lead {first_lead.date()} + windows.lookback_days' longest, {max(w.lookback_days)} days)")
        end = (f"windows.last_snapshot {w.last_snapshot}" if w.last_snapshot else
               f"{moment_text(last)} (data end {crm.data_end.date()} minus windows.horizon_days {w.horizon_days}"
               f"{f' and gap_days {w.gap_days}' if w.gap_days else ''})")
        raise BadInputError(
            f"{crm.source}: the data spans too little time for training snapshots: the first snapshot would be {start} "
            f"but the last uncensored one is {end}. The history ({(crm.data_end - first_lead).days} days) must hold "
            f"the lookback before a snapshot and the horizon after it; set windows.first_snapshot earlier, "
            f"or shorten windows.horizon_days or windows.lookback_days")
    dates = []
    current = last
    while current >= first:
        dates.append(current)
        current -= w.slide_step
    return sorted(dates)


def dates_frame(dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Return `dates` as the one-column frame (as_of, UTC) the schedule's SQL joins (naive dates are UTC)."""
    return pd.DataFrame({"as_of": pd.to_datetime(pd.Series(list(dates), dtype=object), utc=True).astype("datetime64[us, UTC]")})


def open_leads_at(crm: FeatureEngine, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Return (lead_id, as_of, in_sales_pipeline) for every lead open at each of `dates` (naive dates are UTC)."""
    result = crm.query(OPEN_LEADS_SQL.format(dates="snapshot_dates_tmp"), {"snapshot_dates_tmp": dates_frame(dates)})
    result["lead_id"] = result["lead_id"].astype("string")
    result["as_of"] = pd.to_datetime(result["as_of"], utc=True)
    result["in_sales_pipeline"] = result["in_sales_pipeline"].astype(bool)
    return result


def split_population(snapshots: pd.DataFrame, population: PopulationSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (the snapshots a score decides about, those left out) under the population rule.

    Under `exclude` no kept snapshot has an open opportunity, so the kept ones lose the
    `in_sales_pipeline` column; under `include` they keep it, and none is left out.

    >>> s = pd.DataFrame({"lead_id": ["a", "b"], "as_of": pd.Timestamp("2024-03-01", tz="UTC"), "in_sales_pipeline": [False, True]})
    >>> [len(part) for part in split_population(s, PopulationSettings())]
    [1, 1]
    >>> [len(part) for part in split_population(s, PopulationSettings(open_opportunities="include"))]
    [2, 0]
    """
    left_out = snapshots["in_sales_pipeline"] if population.open_opportunities == "exclude" else pd.Series(False, index=snapshots.index)
    kept = snapshots.loc[~left_out].reset_index(drop=True)
    if population.open_opportunities == "exclude":
        kept = kept.drop(columns=["in_sales_pipeline"])
    return kept, snapshots.loc[left_out].reset_index(drop=True)


def training_snapshots(crm: FeatureEngine, windows: WindowSettings) -> pd.DataFrame:
    """Return the training snapshots (lead_id, as_of, in_sales_pipeline) of every open lead on the schedule of `windows`."""
    return open_leads_at(crm, snapshot_dates(crm, windows))


def scoring_snapshots(crm: FeatureEngine, as_of) -> pd.DataFrame:
    """Return one snapshot (lead_id, as_of, in_sales_pipeline) at `as_of` for every lead open then."""
    return open_leads_at(crm, [pd.Timestamp(as_of).tz_convert("UTC") if pd.Timestamp(as_of).tzinfo else pd.Timestamp(as_of, tz="UTC")])
