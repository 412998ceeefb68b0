"""Compile every feature declaration into one SQL query and run it for a set of snapshots.

Point-in-time correctness is decided here and only here: `VISIBLE` is the one rule that says
which events a snapshot may see (strictly before `as_of`), and every relation joining
snapshots to activities uses it. Feature declarations
never filter on time themselves; they see summaries of visible events by age.

The query aggregates in two stages. Stage one reduces each snapshot's visible events to one
summary row per activity type and channel (counts per window, latest age, decayed sums): a
dozen plain aggregates over every event. Stage two evaluates the ~80 declared aggregates on
those ~10 summary rows per snapshot. Evaluating every declaration on every event instead
was 4x slower (BENCHMARKS.md).

The query reads relations named `snapshots`, `leads` and `activities`, so the same text
runs on DuckDB and (transpiled) on Spark SQL. On a CRM loaded into DuckDB it reads the keyed
copy instead (`features.layout`): the same query with integer lead keys and activity-kind
codes in the joins, groupings and type filters.
"""

from __future__ import annotations

import math
import re
import uuid

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.features.crm import Crm
from leadscore.features.declarations import Feature, is_type
from leadscore.features.layout import TEXT_KEYS, Layout, layout_of
from leadscore.features.registry import all_features
from leadscore.features.relations import SUMMARY_WINDOWS, summary_windows
from leadscore.features.settings import FeatureSettings
from leadscore.features.vocabulary import resolve

VISIBLE = "a.occurred_at < s.as_of"
"""The point-in-time rule: a snapshot sees an event only if it occurred strictly before as_of.

Every relation below that joins snapshots to activities uses this condition and no other."""

VISIBLE_EVENTS = f"""
    SELECT s.sid, {{event_type}}, a.value,
           (epoch(s.as_of) - epoch(a.occurred_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN {{activities}} a ON a.{{key}} = s.{{key}} AND {VISIBLE}
"""
"""Every (snapshot, visible event) pair; `sid` numbers the snapshots so stage one groups by one
integer. `event_type` is the activity type and channel, or their one-integer `kind` code."""

EVENT_SUMMARIES = """
    SELECT e.sid, e.activity_type, e.channel,
           {columns}
    FROM visible_events e
    GROUP BY e.sid, e.activity_type, e.channel
"""
"""Stage one: one row per snapshot, activity type and channel (the `t` of `event` declarations)."""

KEYED_EVENT_SUMMARIES = """
    SELECT x.*, k.activity_type, k.channel
    FROM (
        SELECT e.sid, e.kind,
               {columns}
        FROM visible_events e
        GROUP BY e.sid, e.kind
    ) x
    JOIN activity_kinds k ON k.kind = x.kind
"""
"""Stage one on the keyed copy: grouped by the integer kind, then named by a join to the kinds the data holds (~28 in the built-in vocabulary)."""

VISIBLE_ENGAGEMENTS = f"""
    SELECT s.sid, a.occurred_at, a.activity_type
    FROM snapshots s
    JOIN {{activities}} a ON a.{{key}} = s.{{key}} AND {VISIBLE} AND {{engagements}}
"""
"""Every visible email open and click; materialized once and read twice (the latest one, and
those since the last sends), which saves a scan of the whole activity table."""

LAST_ENGAGEMENTS = """
    SELECT e.sid, max(e.occurred_at) AS engaged_at
    FROM visible_engagements e
    GROUP BY e.sid
"""
"""The time of each snapshot's latest visible email open or click."""

SEND_SUMMARIES = f"""
    SELECT s.sid, count(*) AS sends,
           count(*) FILTER (WHERE g.engaged_at IS NULL OR a.occurred_at > g.engaged_at) AS unengaged_sends,
           least(count(*), {{recent}}) AS recent_sends,
           list_min(max(a.occurred_at, {{recent}})) AS recent_from
    FROM snapshots s
    JOIN {{activities}} a ON a.{{key}} = s.{{key}} AND {VISIBLE} AND {{sends}}
    LEFT JOIN last_engagements g ON g.sid = s.sid
    GROUP BY s.sid
"""
"""Visible emails sent per snapshot: how many, how many after the last open or click (the
unopened-email streak, with no window function), and when the last `recent` of them began
(`max(x, n)` keeps the n latest send times, so no per-snapshot ranking of sends). A send at the
very time of the last open is taken as the one it answers: exports that keep only dates put
a send and its open on the same midnight."""

EMAIL_SUMMARIES = """
    SELECT m.*, r.recent_opens, r.recent_clicks
    FROM send_summaries m
    LEFT JOIN (
        SELECT m.sid, count(*) FILTER (WHERE {opens}) AS recent_opens,
               count(*) FILTER (WHERE {clicks}) AS recent_clicks
        FROM send_summaries m
        JOIN visible_engagements e ON e.sid = m.sid AND e.occurred_at >= m.recent_from
        GROUP BY m.sid
    ) r ON r.sid = m.sid
"""
"""One row per snapshot with emails sent (the `m` of `email` declarations): sends, unengaged
sends, and opens and clicks since the first of the last `recent` sends."""

ACTIVE_DAYS = """
    SELECT a.{key}, CAST(a.occurred_at AS DATE) AS day, min(a.occurred_at) AS first_at
    FROM {activities} a
    WHERE {own} AND a.{key} IN (SELECT {key} FROM snapshots)
      AND a.occurred_at >= CAST(CAST((SELECT min(as_of) FROM snapshots) AS DATE) - INTERVAL {lookback} DAY AS TIMESTAMPTZ)
      AND a.occurred_at < (SELECT max(as_of) FROM snapshots)
    GROUP BY a.{key}, CAST(a.occurred_at AS DATE)
"""
"""Calendar days (UTC) with the lead's own activity, each with its first event: computed once
per build, only for the build's leads (a scoring chunk is a part of them) and only for the
days some snapshot's longest window can reach. That bound is a whole day, as `VISIBLE_DAYS`
counts days: cut at the earliest as_of's time of day, a snapshot's count would depend on
which other snapshots share its build."""

VISIBLE_DAYS = """
    SELECT s.sid, date_diff('day', d.day, CAST(s.as_of AS DATE)) AS age_days
    FROM snapshots s
    JOIN active_days d ON d.{key} = s.{key} AND d.first_at < s.as_of
         AND d.day >= CAST(s.as_of AS DATE) - INTERVAL {lookback} DAY
"""
"""The active days a snapshot sees (its first event strictly before as_of), aged in whole days
from as_of's date: distinct-day counts with no DISTINCT and no per-event join. A day is
visible from its first event on, so later events that day (even after as_of) change nothing."""

VISIBLE_OPPORTUNITIES = """
    SELECT s.sid, CASE WHEN o.closed_at < s.as_of THEN o.outcome ELSE 'open' END AS outcome,
           (epoch(s.as_of) - epoch(o.created_at)) / 86400.0 AS age_days
    FROM snapshots s
    JOIN opportunities o ON o.lead_id = s.lead_id AND o.created_at < s.as_of
"""
"""The same rule for opportunities: opened strictly before as_of, and an outcome only if it
was reached strictly before as_of (a later close is still 'open' to this snapshot)."""

def summary_columns(settings: FeatureSettings) -> str:
    """Return stage one's aggregates: counts and value sums per window, latest age, decayed sums.

    Counts are DOUBLE (exact below 2^53): stage two sums them ~80 times per snapshot, and
    DuckDB sums BIGINTs into 128-bit integers, which makes stage two ~10% slower
    (`benchmarks/profile_features.py`).
    """
    windows = summary_windows(settings.windows)
    columns = ["CAST(count(*) AS DOUBLE) AS n", "min(e.age_days) AS age_min"]
    columns += [f"CAST(count(*) FILTER (WHERE e.age_days <= {w}) AS DOUBLE) AS n_{w}d" for w in windows]
    columns += [f"sum(e.value) FILTER (WHERE e.age_days <= {w}) AS value_{w}d" for w in SUMMARY_WINDOWS]
    # 0.5 ** (age / h) as exp(-age * ln 2 / h): the same number, 10% faster over every visible event
    columns += [f"sum(exp(e.age_days * {-math.log(2) / h!r})) AS decay_{h}d" for h in settings.windows.half_lives_days]
    return ",\n           ".join(columns)


def feature_sql(settings: FeatureSettings, features: list[Feature] | None = None, layout: Layout = TEXT_KEYS) -> str:
    """Return the one query that computes `features` (default: all) for every snapshot, in `sid` order."""
    features = features if features is not None else all_features(settings)
    vocabulary = resolve(settings)

    by_kind = {kind: [f for f in features if f.kind == kind] for kind in ("lead", "email", "derived", *(k for k, *_ in _AGGREGATES))}
    lead_cols = "".join(f",\n           {f.sql} AS {f.name}" for f in by_kind["lead"] + by_kind["email"])
    derived_cols = "".join(f",\n       {f.sql} AS {f.name}" for f in by_kind["derived"])
    by_rows = _by_rows_read(by_kind["event"])
    by_kind["event"] = by_rows.pop((), [])
    aggregated = [(alias, row, source, by_kind[kind]) for kind, alias, row, source in _AGGREGATES]
    aggregated += [(f"ev{i}", "t", f"(SELECT * FROM event_summaries WHERE {is_type(types, 'event_summaries')})", group)
                   for i, (types, group) in enumerate(by_rows.items(), start=1)]
    ctes = "".join(_aggregate_cte(alias, row, source, group) for alias, row, source, group in aggregated)
    filled = "".join(f",\n           {_fill_missing(f, alias)} AS {f.name}" for alias, _, _, group in aggregated for f in group)
    joins = "".join(f"\n    LEFT JOIN {alias}_features {alias} ON {alias}.sid = s.sid"
                    for alias, _, _, _ in aggregated)
    order = ", ".join(["sid", "lead_id", "as_of"] + [f.name for f in features])
    relations = {"key": layout.key, "activities": layout.activities}
    summaries = KEYED_EVENT_SUMMARIES if layout.keyed else EVENT_SUMMARIES
    lookback = max(summary_windows(settings.windows))
    return f"""
WITH visible_events AS ({VISIBLE_EVENTS.format(event_type="a.kind" if layout.keyed else "a.activity_type, a.channel", **relations)}),
event_summaries AS {"MATERIALIZED " if by_rows else ""}({summaries.format(columns=summary_columns(settings))}),
visible_engagements AS MATERIALIZED ({VISIBLE_ENGAGEMENTS.format(engagements=layout.of_types(vocabulary.of_role("email_open", "email_click")), **relations)}),
last_engagements AS ({LAST_ENGAGEMENTS}),
send_summaries AS ({SEND_SUMMARIES.format(recent=int(settings.features.recent_sends), sends=layout.of_types(vocabulary.of_role("email_sent")), **relations)}),
email_summaries AS ({EMAIL_SUMMARIES.format(opens=is_type(vocabulary.of_role("email_open"), "e"), clicks=is_type(vocabulary.of_role("email_click"), "e"))}),
active_days AS ({ACTIVE_DAYS.format(lookback=lookback, own=layout.of_types(vocabulary.own_activity()), **relations)}),
visible_days AS ({VISIBLE_DAYS.format(lookback=lookback, key=layout.key)}),
visible_opportunities AS ({VISIBLE_OPPORTUNITIES}),
{ctes}base AS (
    SELECT s.sid, s.lead_id, s.as_of{lead_cols}{filled}
    FROM snapshots s
    JOIN leads l ON l.lead_id = s.lead_id
    LEFT JOIN email_summaries m ON m.sid = s.sid{joins}
)
SELECT {order}
FROM (SELECT base.*{derived_cols} FROM base) features
ORDER BY sid
"""


_AGGREGATES = (
    ("event", "ev", "t", "event_summaries"),
    ("opportunity", "op", "o", "visible_opportunities"),
    ("day", "dy", "d", "visible_days"),
)
"""Aggregated kinds: (kind, alias of its feature table, alias declarations use for a row, rows aggregated)."""


def _by_rows_read(events: list[Feature]) -> dict[tuple[str, ...], list[Feature]]:
    """Group `event` declarations by the activity types whose summary rows alone they read (`()`: every row).

    Each type's features (`features.type_features`) are then aggregated over that type's rows
    only, in a GROUP BY of their own: a custom vocabulary's ~8 features per type cost one pass
    over its rows instead of a CASE over every summary row of every snapshot each. A snapshot
    with none of its rows gets the features' empty values, as a declaration gives on no rows.
    """
    groups: dict[tuple[str, ...], list[Feature]] = {}
    for f in events:
        groups.setdefault(tuple(sorted(f.rows_of)), []).append(f)
    return groups


def _aggregate_cte(alias: str, row: str, source: str, group: list[Feature]) -> str:
    """Return the CTE aggregating one kind's visible rows per snapshot, in one GROUP BY."""
    separator = ",\n           "
    aggregates = separator.join(f"{f.sql} AS {f.name}" for f in group) or "count(*) AS _rows"
    return (f"{alias}_features AS (\n    SELECT {row}.sid,\n           {aggregates}\n"
            f"    FROM {source} {row}\n    GROUP BY {row}.sid\n),\n")


def build_features(crm: Crm, snapshots: pd.DataFrame, settings: FeatureSettings | None = None) -> pd.DataFrame:
    """Return one row per snapshot (lead_id, as_of) with every registered feature.

    Categorical features are strings, booleans are bool, counts int64, the rest float64;
    `days_since_*` and the email rates are NaN when the event never happened.
    """
    settings = settings or FeatureSettings()
    features = all_features(settings)
    layout = layout_of(crm.con)
    frame = _snapshot_frame(snapshots)
    name = f"snapshots_{uuid.uuid4().hex[:8]}"
    crm.con.register(f"{name}_frame", frame)
    # on the keyed copy the snapshots carry the lead's integer key (a lead unknown to `leads` has no features anyway)
    keyed = (", k.lead_key", " JOIN lead_keys k ON k.lead_id = f.lead_id") if layout.keyed else ("", "")
    try:
        crm.con.execute(f"CREATE TEMP TABLE {name} AS SELECT f.*{keyed[0]} FROM {name}_frame f{keyed[1]}")
        sql = re.sub(r"\b(FROM|JOIN) snapshots\b", rf"\1 {name}", feature_sql(settings, features, layout))
        result = crm.con.sql(sql).to_arrow_table()
    finally:
        crm.con.execute(f"DROP TABLE IF EXISTS {name}")
        crm.con.unregister(f"{name}_frame")
    return _typed(result, features)


def _snapshot_frame(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Return distinct (lead_id, as_of) snapshots numbered by `sid`, the key every aggregate groups by."""
    missing = {"lead_id", "as_of"} - set(snapshots.columns)
    if missing:
        raise ValueError(f"snapshots need columns lead_id and as_of; missing {sorted(missing)}")
    # keep typed pandas columns (a tz-aware .to_numpy() is an object array, which DuckDB cannot type when empty)
    frame = pd.DataFrame({
        "lead_id": snapshots["lead_id"].astype("string").reset_index(drop=True),
        "as_of": pd.to_datetime(snapshots["as_of"], utc=True).astype("datetime64[us, UTC]").reset_index(drop=True),
    }).drop_duplicates().sort_values(["lead_id", "as_of"])
    return frame.assign(sid=pd.RangeIndex(len(frame), dtype="int64")).reset_index(drop=True)


def _fill_missing(feature: Feature, relation: str) -> str:
    """Return the feature's column, with its `empty` value where the snapshot had nothing to aggregate.

    Undeclared, that is 0 for counts, FALSE for flags and NULL otherwise (days since an event
    that never happened, a rate of nothing).
    """
    empty = feature.empty or {"int": "0", "bool": "FALSE"}.get(feature.dtype)
    return f"coalesce({relation}.{feature.name}, {empty})" if empty else f"{relation}.{feature.name}"


def _typed(table: pa.Table, features: list[Feature]) -> pd.DataFrame:
    """Return the feature frame with one dtype per declared dtype, in (lead_id, as_of) order.

    The query already orders by `sid` (numbered in (lead_id, as_of) order) and casts most
    columns; a source that does not (Spark's Parquet parts, pandas batches) is sorted here.
    Only columns whose Arrow type differs from the declared one are cast, and pandas is
    built once at the end: per-column work on ~90 columns cost more than the query.
    """
    sid = table["sid"].to_numpy()  # not combine_chunks(): copying every column costs more than it saves
    if len(sid) > 1 and not (sid[1:] > sid[:-1]).all():
        table = table.take(pc.sort_indices(table["sid"]))
    targets = {"category": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
    columns = {"lead_id": table["lead_id"].cast(pa.string()),
               "as_of": pc.cast(table["as_of"], pa.timestamp("us", tz="UTC"))}
    for f in features:
        column = table[f.name]
        if f.dtype in ("bool", "int") and column.null_count:
            column = pc.fill_null(column, False if f.dtype == "bool" else 0)
        columns[f.name] = column if column.type == targets[f.dtype] else column.cast(targets[f.dtype])
    return pa.table(columns).to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
