"""The same feature build on Spark local[2] and on DuckDB: 100k leads / ~8.7M activities, one snapshot date.

    .venv/bin/python benchmarks/bench_spark.py
"""

from __future__ import annotations

import time

import pandas as pd

from common import crm_in_parts, peak_rss_gb


def main() -> None:
    from leadscore.features.engines import open_engine
    from leadscore.features.snapshots import open_leads_at
    from leadscore.pipeline.config import load_config

    folder = crm_in_parts(100_000, parts=1)
    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    crm = open_engine(folder, config.engine)
    snaps = open_leads_at(crm, [crm.data_end.normalize()])
    t = time.perf_counter()
    duck = crm.features(snaps, config.for_features)
    duck_s = time.perf_counter() - t
    print(f"DuckDB: {len(duck):,} snapshots x {duck.shape[1] - 2} features in {duck_s:.1f} s; peak RSS {peak_rss_gb():.2f} GiB")
    t = time.perf_counter()
    on_spark_crm = open_engine(folder, config.engine.model_copy(update={"name": "spark"}))
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    on_spark = on_spark_crm.features(snaps, config.for_features)
    spark_s = time.perf_counter() - t
    print(f"Spark local[2]: session start {start_s:.1f} s, build {spark_s:.1f} s for {len(on_spark):,} snapshots "
          f"({spark_s / duck_s:.1f}x DuckDB's time)")
    same = len(on_spark) == len(duck) and on_spark["web_visit_count_30d"].equals(duck["web_visit_count_30d"])
    print(f"results agree on web_visit_count_30d: {same}")
    on_spark_crm.spark.stop()


if __name__ == "__main__":
    main()
