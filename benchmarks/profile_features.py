"""Where the feature build's time goes: repeated builds, and stage one of the query on its own.

On the 100k-lead CRM of `bench_features.py`, for 1 or 6 monthly snapshot dates: the whole
build three times in one process (how much wall time varies), then stage one's GROUP BY of
every (snapshot, visible event) pair with `count(*)` alone and with all its aggregates (the
floor the two-stage query cannot go below); stage two on that stage one with its counts as
DOUBLE (as built) and as BIGINT (DuckDB sums BIGINTs in 128 bits); stage one computed from
interval partials instead (events first summed per lead, type, channel and interval between the
build's window boundaries, so each pair the join makes carries many events); and DuckDB's
profile of the whole query, its costliest operators by CPU time.

    .venv/bin/python benchmarks/profile_features.py [--dates 6] [--vocabulary custom]

`--vocabulary custom` profiles the copy of the CRM whose types all have names of their own
(`bench_features.py --vocabulary custom`), fitted to its vocabulary as training fits it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import crm_in_parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dates", type=int, default=6)
    parser.add_argument("--vocabulary", choices=("built-in", "custom"), default="built-in")
    args = parser.parse_args()
    from leadscore.features.builder import (EVENT_SUMMARIES, KEYED_EVENT_SUMMARIES, VISIBLE_EVENTS, _aggregate_cte, _snapshot_frame,
                                  build_features, feature_sql, summary_columns)
    from leadscore.features.layout import layout_of
    from leadscore.features.registry import all_features
    from leadscore.features.loaders import load_crm
    from leadscore.features.snapshots import open_leads_at
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.crm_settings import fit_to_crm

    from bench_features import CUSTOM_VOCABULARY, rewritten_copy

    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    folder = crm_in_parts(100_000, parts=1)
    if args.vocabulary == "custom":
        folder = rewritten_copy(folder, "_custom_vocabulary", CUSTOM_VOCABULARY)
    crm = load_crm(folder, config.engine)
    config = fit_to_crm(config, crm)  # as training does: the CRM's activity types and lead columns
    end = crm.data_end.normalize()
    snaps = open_leads_at(crm, [end - pd.Timedelta(days=30 * i) for i in range(args.dates)])
    for attempt in range(3):
        t = time.perf_counter()
        build_features(crm, snaps, config.for_features)
        print(f"build {attempt + 1}: {time.perf_counter() - t:.1f} s for {len(snaps):,} snapshots", flush=True)
    layout = layout_of(crm.con)  # the keyed copy a load makes, as build_features reads it
    crm.con.register("snapshot_frame", _snapshot_frame(snaps))
    crm.con.execute("CREATE TEMP TABLE snapshots AS SELECT f.*, k.lead_key FROM snapshot_frame f JOIN lead_keys k USING (lead_id)"
                    if layout.keyed else "CREATE TEMP VIEW snapshots AS SELECT * FROM snapshot_frame")
    visible = VISIBLE_EVENTS.format(event_type="a.kind" if layout.keyed else "a.activity_type, a.channel",
                                    key=layout.key, activities=layout.activities)
    summaries = KEYED_EVENT_SUMMARIES if layout.keyed else EVENT_SUMMARIES
    stage_one = f"WITH visible_events AS ({visible}) {summaries}"
    for label, columns in (("count(*) only", "count(*) AS n"), ("all stage-one aggregates", summary_columns(config.for_features))):
        t = time.perf_counter()
        groups = crm.con.execute(f"CREATE OR REPLACE TEMP TABLE stage_one AS {stage_one.format(columns=columns)}").fetchall()
        print(f"stage one, {label}: {time.perf_counter() - t:.1f} s ({groups[0][0]:,} summary rows)", flush=True)
    stage_one_from_partials(crm.con, _snapshot_frame(snaps), config)
    events = [f for f in all_features(config.for_features) if f.kind == "event"]
    counts = [c for (c,) in crm.con.execute("SELECT column_name FROM (DESCRIBE stage_one)").fetchall() if c.startswith("n")]
    for label, cast in (("DOUBLE counts", "DOUBLE"), ("BIGINT counts", "BIGINT")):
        crm.con.execute(f"CREATE OR REPLACE TEMP TABLE summaries AS SELECT * REPLACE ("
                        f"{', '.join(f'CAST({c} AS {cast}) AS {c}' for c in counts)}) FROM stage_one")
        cte = _aggregate_cte("ev", "t", "summaries", events)
        t = time.perf_counter()
        crm.con.sql(cte[cte.index("(") + 1:cte.rindex(")")]).to_arrow_table()
        print(f"stage two, {label}: {time.perf_counter() - t:.1f} s", flush=True)
    profile = Path(tempfile.mkdtemp()) / "profile.json"
    crm.con.execute("PRAGMA enable_profiling = 'json'")
    crm.con.execute(f"PRAGMA profiling_output = '{profile}'")
    crm.con.sql(feature_sql(config.for_features, layout=layout)).to_arrow_table()
    crm.con.execute("PRAGMA disable_profiling")
    tree = json.loads(profile.read_text())
    operators = []

    def walk(node):
        info = node.get("extra_info", {})
        operators.append((node.get("timing", 0.0), node["type"], node.get("operator_cardinality") or node.get("intermediate_rows", 0),
                          info.get("Groups") or info.get("Conditions") or info.get("Table") or ""))
        for child in node.get("children", []):
            walk(child)

    for root in tree["operator"]:
        walk(root)
    print(f"whole query: {tree['query']['cpu_time']:.1f} s of CPU; costliest operators:")
    for seconds, kind, rows, detail in sorted(operators, key=lambda o: o[0], reverse=True)[:10]:
        print(f"    {seconds:5.2f} s  {kind:<14} {rows:>12,} rows  {str(detail)[:90]}")


def stage_one_from_partials(con, frame: pd.DataFrame, config) -> None:
    """Time stage one made in two steps: events summed per interval between window boundaries, then joined.

    Every as_of and as_of - window is a boundary, so an interval is wholly inside or outside
    each snapshot's windows and the join needs one row per interval, not per event. Decays are
    left out (they would be factored as in `benchmarks/folded_facts.py`); the rest are stage
    one's aggregates. Prints both steps beside the same aggregates made directly from pairs.
    """
    from leadscore.features.relations import SUMMARY_WINDOWS, summary_windows

    windows = summary_windows(config.windows)
    literal = lambda t: f"TIMESTAMPTZ '{pd.Timestamp(t).isoformat()}'"  # noqa: E731
    bounds = sorted({pd.Timestamp(a) - pd.Timedelta(days=w) for a in frame["as_of"].unique() for w in [0, *windows]})
    interval = (f"CASE WHEN a.occurred_at < {literal(bounds[0])} THEN 0 ELSE "
                + " + ".join(f"CAST(a.occurred_at >= {literal(b)} AS INTEGER)" for b in bounds) + " END")
    con.register("snapshot_starts", frame.assign(**{f"from_{w}d": frame["as_of"] - pd.Timedelta(days=w) for w in windows}))
    partials = (f"SELECT a.lead_id, a.activity_type, a.channel, {interval} AS interval, count(*) AS n, min(a.occurred_at) AS first_at, "
                f"max(a.occurred_at) AS last_at, sum(a.value) AS value FROM activities a "
                f"WHERE a.occurred_at < {literal(bounds[-1])} GROUP BY ALL")
    aggregates = ["sum(p.n) AS n", "max(p.last_at) AS latest_at"]
    aggregates += [f"sum(p.n) FILTER (WHERE p.first_at >= s.from_{w}d) AS n_{w}d" for w in windows]
    aggregates += [f"sum(p.value) FILTER (WHERE p.first_at >= s.from_{w}d) AS value_{w}d" for w in SUMMARY_WINDOWS]
    joined = (f"SELECT s.sid, p.activity_type, p.channel, {', '.join(aggregates)} FROM snapshot_starts s "
              f"JOIN {{source}} p ON p.lead_id = s.lead_id AND p.last_at < s.as_of GROUP BY ALL")
    events = "(SELECT *, 1 AS n, occurred_at AS first_at, occurred_at AS last_at FROM activities)"
    for label, sql in ((f"interval partials ({len(bounds)} boundaries)", partials),
                       ("stage one from the partials", joined.format(source="partials")),
                       ("the same aggregates from every pair", joined.format(source=events))):
        t = time.perf_counter()
        rows = con.execute(f"CREATE OR REPLACE TEMP TABLE {'partials' if sql is partials else 'made'} AS {sql}").fetchall()[0][0]
        print(f"{label}: {time.perf_counter() - t:.1f} s ({rows:,} rows)", flush=True)
    con.unregister("snapshot_starts")


if __name__ == "__main__":
    main()
