"""Where the feature build's time goes: repeated builds, and stage one of the query on its own.

On the 100k-lead CRM of `bench_features.py`, for 1 or 6 monthly snapshot dates: the whole
build three times in one process (how much wall time varies), then stage one's GROUP BY of
every (snapshot, visible event) pair with `count(*)` alone and with all its aggregates (the
floor the two-stage query cannot go below); stage two on that stage one with its counts as
DOUBLE (as built) and as BIGINT (DuckDB sums BIGINTs in 128 bits); and DuckDB's profile of the
whole query, its costliest operators by CPU time.

    .venv/bin/python benchmarks/profile_features.py [--dates 6]
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
    args = parser.parse_args()
    from features.builder import VISIBLE_EVENTS, _aggregate_cte, _snapshot_frame, build_features, feature_sql, summary_columns
    from features.registry import all_features
    from features.loaders import load_crm
    from features.snapshots import open_leads_at
    from pipeline.config import load_config

    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    crm = load_crm(crm_in_parts(100_000, parts=1), config.engine)
    end = crm.data_end.normalize()
    snaps = open_leads_at(crm, [end - pd.Timedelta(days=30 * i) for i in range(args.dates)])
    for attempt in range(3):
        t = time.perf_counter()
        build_features(crm, snaps, config)
        print(f"build {attempt + 1}: {time.perf_counter() - t:.1f} s for {len(snaps):,} snapshots", flush=True)
    crm.con.register("snapshots", _snapshot_frame(snaps))
    stage_one = f"SELECT e.sid, e.activity_type, e.channel, {{columns}} FROM ({VISIBLE_EVENTS}) e GROUP BY ALL"
    for label, columns in (("count(*) only", "count(*) AS n"), ("all stage-one aggregates", summary_columns(config))):
        t = time.perf_counter()
        groups = crm.con.execute(f"CREATE OR REPLACE TEMP TABLE stage_one AS {stage_one.format(columns=columns)}").fetchall()
        print(f"stage one, {label}: {time.perf_counter() - t:.1f} s ({groups[0][0]:,} summary rows)", flush=True)
    events = [f for f in all_features(config) if f.kind == "event"]
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
    crm.con.sql(feature_sql(config)).to_arrow_table()
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


if __name__ == "__main__":
    main()
