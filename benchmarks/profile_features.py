"""Where the feature build's time goes: repeated builds, and stage one of the query on its own.

On the 100k-lead CRM of `bench_features.py`, for 1 or 6 monthly snapshot dates: the whole
build three times in one process (how much wall time varies), then stage one's GROUP BY of
every (snapshot, visible event) pair with `count(*)` alone and with all its aggregates (the
floor the two-stage query cannot go below).

    .venv/bin/python benchmarks/profile_features.py [--dates 6]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from common import crm_in_parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dates", type=int, default=6)
    args = parser.parse_args()
    from features.builder import VISIBLE_EVENTS, _snapshot_frame, build_features, summary_columns
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


if __name__ == "__main__":
    main()
