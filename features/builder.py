"""Compile every feature declaration into one SQL query and run it for a set of snapshots.

Point-in-time correctness is decided here and only here: `VISIBLE_EVENTS` is the one place
that says which events a snapshot may see (strictly before `as_of`). Feature declarations
never filter on time themselves; they see `e.age_days`, the age of a visible event.

The query reads relations named `snapshots`, `leads` and `activities`, so the same text
runs on DuckDB and (transpiled) on Spark SQL.
"""

from __future__ import annotations

import uuid

import pandas as pd

from features.crm import Crm
from features.registry import Feature, all_features
from pipeline.config import Config

ORDERED_EVENTS = """
    SELECT a.lead_id, a.occurred_at, a.activity_type, a.channel, a.value,
           sum(CASE WHEN a.activity_type = 'email_sent' THEN 1 ELSE 0 END) OVER (
               PARTITION BY a.lead_id ORDER BY a.occurred_at, a.activity_type ROWS UNBOUNDED PRECEDING) AS sends_so_far
    FROM activities a
    WHERE a.lead_id IN (SELECT lead_id FROM snapshots)
"""
"""Events with the running count of emails sent to the lead, which depends only on earlier events.

The unopened-email streak at as_of is then (visible sends) minus (sends_so_far at the last
visible open or click): one window over the events, computed once for every snapshot."""

LEAD_DAYS = """
    SELECT a.lead_id, CAST(a.occurred_at AS DATE) AS day, min(a.occurred_at) AS first_at
    FROM activities a
    WHERE a.lead_id IN (SELECT lead_id FROM snapshots) AND {own}
    GROUP BY a.lead_id, CAST(a.occurred_at AS DATE)
"""
"""Days on which a lead did something itself: distinct active days without a DISTINCT aggregate."""

VISIBLE_EVENTS = """
    SELECT s.lead_id, s.as_of, e.occurred_at, e.activity_type, e.channel, e.value, e.sends_so_far,
           (epoch(s.as_of) - epoch(e.occurred_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN ordered_events e ON e.lead_id = s.lead_id AND e.occurred_at < s.as_of
"""
"""The point-in-time rule: a snapshot sees an event only if it occurred strictly before as_of."""

VISIBLE_OPPORTUNITIES = """
    SELECT s.lead_id, s.as_of, o.created_at,
           CASE WHEN o.closed_at < s.as_of THEN o.outcome ELSE 'open' END AS outcome,
           (epoch(s.as_of) - epoch(o.created_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN opportunities o ON o.lead_id = s.lead_id AND o.created_at < s.as_of
"""
"""The same rule for opportunities: opened strictly before as_of, and an outcome only if it
was reached strictly before as_of (a later close is still 'open' to this snapshot)."""

VISIBLE_DAYS = """
    SELECT s.lead_id, s.as_of, (epoch(s.as_of) - epoch(d.first_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN lead_days d ON d.lead_id = s.lead_id AND d.first_at < s.as_of
"""
"""The same rule for active days: a day counts once its first own event is before as_of."""


def feature_sql(config: Config, features: list[Feature] | None = None) -> str:
    """Return the one query that computes `features` (default: all) for every snapshot."""
    features = features if features is not None else all_features(config)
    from features.implicit import LEAD_INITIATED

    by_kind = {kind: [f for f in features if f.kind == kind] for kind in ("lead", "event", "opportunity", "day", "derived")}
    lead_cols = "".join(f",\n           {f.sql} AS {f.name}" for f in by_kind["lead"])
    derived_cols = "".join(f",\n       {f.sql} AS {f.name}" for f in by_kind["derived"])
    aggregated = [(alias, row, source, by_kind[kind]) for kind, alias, row, source in _AGGREGATES]
    ctes = "".join(_aggregate_cte(alias, row, source, group) for alias, row, source, group in aggregated)
    filled = "".join(f",\n           {_fill_missing(f, alias)} AS {f.name}" for alias, _, _, group in aggregated for f in group)
    joins = "".join(f"\n    LEFT JOIN {alias}_features {alias} ON {alias}.lead_id = s.lead_id AND {alias}.as_of = s.as_of"
                    for alias, _, _, _ in aggregated)
    order = ", ".join(["lead_id", "as_of"] + [f.name for f in features])
    return f"""
WITH ordered_events AS ({ORDERED_EVENTS}),
visible_events AS ({VISIBLE_EVENTS}),
lead_days AS ({LEAD_DAYS.format(own=LEAD_INITIATED.replace("e.", "a."))}),
visible_days AS ({VISIBLE_DAYS}),
visible_opportunities AS ({VISIBLE_OPPORTUNITIES}),
{ctes}base AS (
    SELECT s.lead_id, s.as_of{lead_cols}{filled}
    FROM snapshots s
    JOIN leads l ON l.lead_id = s.lead_id{joins}
)
SELECT {order}
FROM (SELECT base.*{derived_cols} FROM base) features
ORDER BY lead_id, as_of
"""


_AGGREGATES = (
    ("event", "ev", "e", "visible_events"),
    ("opportunity", "op", "o", "visible_opportunities"),
    ("day", "dy", "d", "visible_days"),
)
"""Aggregated kinds: (kind, alias of its feature table, alias declarations use for a row, visible rows)."""


def _aggregate_cte(alias: str, row: str, source: str, group: list[Feature]) -> str:
    """Return the CTE aggregating one kind's visible rows per snapshot, in one GROUP BY."""
    separator = ",\n           "
    aggregates = separator.join(f"{f.sql} AS {f.name}" for f in group) or "count(*) AS _rows"
    return (f"{alias}_features AS (\n    SELECT {row}.lead_id, {row}.as_of,\n           {aggregates}\n"
            f"    FROM {source} {row}\n    GROUP BY {row}.lead_id, {row}.as_of\n),\n")


def build_features(crm: Crm, snapshots: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Return one row per snapshot (lead_id, as_of) with every registered feature.

    Categorical features are strings, booleans are bool, counts int64, the rest float64;
    `days_since_*` and the email rates are NaN when the event never happened.
    """
    features = all_features(config)
    frame = _snapshot_frame(snapshots)
    name = f"snapshots_{uuid.uuid4().hex[:8]}"
    crm.con.register(name, frame)
    try:
        sql = feature_sql(config, features).replace("FROM snapshots", f"FROM {name}")
        result = crm.con.execute(sql).df()
    finally:
        crm.con.unregister(name)
    return _typed(result, features)


def _snapshot_frame(snapshots: pd.DataFrame) -> pd.DataFrame:
    missing = {"lead_id", "as_of"} - set(snapshots.columns)
    if missing:
        raise ValueError(f"snapshots need columns lead_id and as_of; missing {sorted(missing)}")
    # keep typed pandas columns (a tz-aware .to_numpy() is an object array, which DuckDB cannot type when empty)
    return pd.DataFrame({
        "lead_id": snapshots["lead_id"].astype("string").reset_index(drop=True),
        "as_of": pd.to_datetime(snapshots["as_of"], utc=True).astype("datetime64[us, UTC]").reset_index(drop=True),
    }).drop_duplicates()


def _fill_missing(feature: Feature, relation: str) -> str:
    """Leads with no visible event get 0 for counts and sums, false for flags, NULL otherwise."""
    column = f"{relation}.{feature.name}"
    if feature.dtype == "int":
        return f"coalesce({column}, 0)"
    if feature.dtype == "bool":
        return f"coalesce({column}, FALSE)"
    if feature.name.startswith(("engagement_decay_", "web_seconds_")):
        return f"coalesce({column}, 0)"
    if feature.name == "activity_trend_30d_vs_prior_60d":
        return f"coalesce({column}, 1.0)"
    return column


def _typed(frame: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    out = {"lead_id": frame["lead_id"].astype("string"), "as_of": pd.to_datetime(frame["as_of"], utc=True)}
    for f in features:
        column = frame[f.name]
        if f.dtype == "category":
            out[f.name] = column.astype("string")
        elif f.dtype == "bool":
            out[f.name] = column.fillna(False).astype(bool)
        elif f.dtype == "int":
            out[f.name] = column.fillna(0).astype("int64")
        else:
            out[f.name] = pd.to_numeric(column, errors="coerce").astype("float64")
    return pd.DataFrame(out)
