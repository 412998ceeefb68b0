"""Batch scoring end to end: ~1M open leads with ~90M activities (features + model + rules + reasons).

Trains a small model first (its quality does not matter here), then times `score` on the big
CRM from Parquet parts: load + validate, features in chunks, model, points table, reasons for
the top 10% and every hot lead, atomic write. Peak memory is the process's maximum RSS.

    .venv/bin/python benchmarks/bench_score.py [--leads 1000000] [--nightly]

With `--nightly`, the load runs as a scheduled job's does, with a store of validated parts
(`features.validated_parts`, emptied first): a first load validates and records every part, then
a new part is added (the latest day's activities of the first part again, one second later, as a
day's export adds rows) and the second load, timed with the scoring after it, validates only that
part.
"""

from __future__ import annotations

import argparse
import shutil
import time

from common import DATA, crm_in_parts, peak_rss_gb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=None, help="scoring.chunk_size (default: the config's)")
    parser.add_argument("--nightly", action="store_true", help="a first load recording every part, then a load after one new part")
    args = parser.parse_args()

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import generate_crm
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.score import score
    from leadscore.pipeline.train import fit_models

    t = time.perf_counter()
    folder = crm_in_parts(args.leads, parts=max(1, args.leads // 100_000))
    (folder / "activities" / "part-new.parquet").unlink(missing_ok=True)  # a --nightly run's added day
    print(f"data ready in {time.perf_counter() - t:.0f} s: {folder}")
    scoring = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    config = load_config(workdir=str(DATA / "score_work"), scoring=scoring, engine={"memory_limit": "4GB", "threads": 2,
                                                                  "temp_directory": str(DATA / "duckdb_tmp")})
    small = generate_crm(20_000, seed=99, months=24)
    trained = fit_models(crm_from_frames(small.leads, small.activities, small.opportunities), config)
    del small
    print(f"model trained: {trained.bundle_dir}; peak RSS so far {peak_rss_gb():.2f} GiB")

    engine = config.engine
    if args.nightly:
        engine = engine.model_copy(update={"validated_store": str(DATA / "score_work" / "validated")})
        shutil.rmtree(engine.validated_store, ignore_errors=True)
        t = time.perf_counter()
        first = load_crm(folder, engine)
        print(f"first load (every part validated and recorded): {time.perf_counter() - t:.0f} s; "
              f"{first.summary['validated_parts'].text()}")
        first.con.close()
        _add_a_day(folder)
    t = time.perf_counter()
    crm = load_crm(folder, engine)
    load_s = time.perf_counter() - t
    if args.nightly:
        print(f"nightly load: {load_s:.1f} s; {crm.summary['validated_parts'].text()}")
    print(f"load + validate {crm.summary['leads_rows']:,} leads, {crm.summary['activities_rows']:,} activities: {load_s:.0f} s")
    t = time.perf_counter()
    result = score(None, None, config, model=str(trained.bundle_dir), crm=crm, log_to_mlflow=False,
                   out=DATA / "score_work" / "scores.parquet")
    score_s = time.perf_counter() - t
    print(f"scored {result.counts['leads']:,} open leads (features, model, rules, reasons): {score_s:.0f} s; "
          f"end to end with load {load_s + score_s:.0f} s; peak RSS {peak_rss_gb():.2f} GiB")


def _add_a_day(folder) -> None:
    """Write a new activity part: the latest day of the first part's activities again, one second later."""
    import duckdb

    first = sorted((folder / "activities").glob("part-*.parquet"))[0]
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * REPLACE (occurred_at + INTERVAL 1 SECOND AS occurred_at) FROM read_parquet('{first}')
                        WHERE CAST(occurred_at AS DATE) = (SELECT max(CAST(occurred_at AS DATE)) FROM read_parquet('{first}')))
                 TO '{folder / "activities" / "part-new.parquet"}' (FORMAT parquet)""")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{folder / 'activities' / 'part-new.parquet'}')").fetchone()[0]
    print(f"added a part of {rows:,} activities")
    con.close()


if __name__ == "__main__":
    main()
