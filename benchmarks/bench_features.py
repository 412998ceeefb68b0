"""Feature build throughput: 100k leads / ~10M activities, 1 snapshot and 6 monthly snapshots.

Reports visible activity-snapshot rows per second (the rows the point-in-time join feeds the
aggregation, the target's unit), activities per second (the table read once per build), wall
time, the CPU time of the process (on a machine shared with other work, CPU time varies less
than wall time) and peak memory, beside a naive pandas groupby of a subset of features.

    .venv/bin/python benchmarks/bench_features.py [--leads 100000] [--pandas] [--time-ordered] [--vocabulary custom]

`--time-ordered` rewrites the activity files in time order first, the way an event-log export
arrives (the generator writes them lead by lead), to measure what the load-time clustering by
lead buys. `--vocabulary custom` renames every activity type to a name of the CRM's own
('CRM web visit', ...) with no declarations, so each is a custom type with features of its own.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from common import crm_in_parts, peak_rss_gb


def rewritten_copy(folder: Path, suffix: str, activities_sql: str) -> Path:
    """Return (once) a copy of the CRM whose activities are `activities_sql` over its files (`{files}` in the text)."""
    import shutil

    import duckdb

    target = folder.with_name(folder.name + suffix)
    if (target / "done").exists():
        return target
    for name in ("leads", "opportunities"):
        shutil.copytree(folder / name, target / name, dirs_exist_ok=True)
    (target / "activities").mkdir(parents=True, exist_ok=True)
    files = f"read_parquet('{folder}/activities/*.parquet')"
    duckdb.connect().execute(f"COPY ({activities_sql.format(files=files)}) TO '{target}/activities/part-000.parquet' (FORMAT parquet)")
    (target / "done").write_text("ok")
    return target


TIME_ORDERED = "SELECT * FROM {files} ORDER BY occurred_at"
"""The activity rows in time order, not lead by lead."""
CUSTOM_VOCABULARY = "SELECT * REPLACE ('CRM ' || replace(activity_type, '_', ' ') AS activity_type) FROM {files}"
"""Every activity type a name of the CRM's own, none of them built in."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--pandas", action="store_true", help="also time the naive pandas groupby")
    parser.add_argument("--time-ordered", action="store_true", help="activities in time order, as an event log exports them")
    parser.add_argument("--vocabulary", choices=("built-in", "custom"), default="built-in",
                        help="custom: every activity type renamed to a name of the CRM's own, undeclared")
    args = parser.parse_args()

    from leadscore.features.builder import build_features
    from leadscore.features.loaders import load_crm
    from leadscore.features.snapshots import open_leads_at
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.crm_settings import fit_to_crm

    folder = crm_in_parts(args.leads, parts=max(1, args.leads // 100_000))
    if args.time_ordered:
        folder = rewritten_copy(folder, "_time_ordered", TIME_ORDERED)
    if args.vocabulary == "custom":
        folder = rewritten_copy(folder, "_custom_vocabulary", CUSTOM_VOCABULARY)
    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    t0 = time.perf_counter()
    crm = load_crm(folder, config.engine)
    print(f"load + validate: {time.perf_counter() - t0:.1f} s, {crm.summary['activities_rows']:,} activities")
    config = fit_to_crm(config, crm)  # as training does: the CRM's activity types and lead columns
    end = crm.data_end.normalize()
    builds = []
    for n_dates in (1, 6):  # every DuckDB build first, so its peak RSS is not the pandas run's
        dates = [end - pd.Timedelta(days=30 * i) for i in range(n_dates)]
        snaps = open_leads_at(crm, dates)
        t, cpu = time.perf_counter(), time.process_time()
        frame = build_features(crm, snaps, config.for_features)
        builds.append((snaps, time.perf_counter() - t, frame.shape[1] - 2, peak_rss_gb(), time.process_time() - cpu))
        del frame
    runs = []
    for snaps, seconds, n_features, peak, cpu in builds:  # counted after the builds: the counting join peaks higher than a build
        crm.con.register("snaps", snaps)
        visible = crm.con.execute(
            "SELECT count(*) FROM activities a JOIN snaps s ON a.lead_id = s.lead_id AND a.occurred_at < s.as_of").fetchall()[0][0]
        print(f"{snaps['as_of'].nunique()} snapshot date(s): {len(snaps):,} snapshots x {n_features} features in {seconds:.1f} s; "
              f"{visible:,} visible activity-snapshot rows = {visible / seconds / 1e6:.1f} M rows/s "
              f"({crm.summary['activities_rows'] / seconds / 1e6:.1f} M activities/s); {cpu:.1f} s of CPU; peak RSS {peak:.2f} GiB",
              flush=True)
        runs.append((snaps, visible))
    if args.time_ordered:  # the same builds on a copy left in file (time) order: what clustering by lead buys
        crm.con.execute(f"""CREATE OR REPLACE TABLE keyed_activities AS SELECT k.lead_key, d.kind, a.*
            FROM read_parquet('{folder}/activities/*.parquet') a LEFT JOIN lead_keys k ON k.lead_id = a.lead_id
            JOIN activity_kinds d ON d.activity_type = a.activity_type AND d.channel = a.channel""")  # keyed, in file order
        for snaps, visible in runs:
            t = time.perf_counter()
            build_features(crm, snaps, config.for_features)
            seconds = time.perf_counter() - t
            print(f"    without clustering by lead, {snaps['as_of'].nunique()} date(s): {seconds:.1f} s "
                  f"({visible / seconds / 1e6:.1f} M rows/s)", flush=True)
    if args.pandas:
        acts = crm.con.execute("SELECT lead_id, occurred_at, activity_type FROM activities").df()
        for snaps, visible in runs:
            t = time.perf_counter()
            joined = snaps.merge(acts, on="lead_id")
            joined = joined[joined["occurred_at"] < joined["as_of"]]
            age = (joined["as_of"] - joined["occurred_at"]).dt.total_seconds() / 86400
            joined = joined.assign(w30=age <= 30, visit=joined["activity_type"] == "web_visit")
            joined.groupby(["lead_id", "as_of"]).agg(n=("visit", "sum"), n30=("w30", "sum"), last=("occurred_at", "max"))
            pandas_s = time.perf_counter() - t
            print(f"    naive pandas merge + groupby of 3 features, {snaps['as_of'].nunique()} date(s): {pandas_s:.1f} s "
                  f"({visible / pandas_s / 1e6:.1f} M rows/s); peak RSS {peak_rss_gb():.2f} GiB", flush=True)
            del joined


if __name__ == "__main__":
    main()
