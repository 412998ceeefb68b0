"""Batch scoring end to end: ~1M open leads with ~90M activities (features + model + rules + reasons).

Trains a small model first (its quality does not matter here), then times `score` on the big
CRM from Parquet parts: load + validate, features in chunks, model, points table, reasons for
the top 10% and every hot lead, atomic write. Peak memory is the process's maximum RSS.

    .venv/bin/python benchmarks/bench_score.py [--leads 1000000]
"""

from __future__ import annotations

import argparse
import time

from common import DATA, crm_in_parts, peak_rss_gb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=None, help="scoring.chunk_size (default: the config's)")
    args = parser.parse_args()

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import generate_crm
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.score import score
    from leadscore.pipeline.train import fit_models

    t = time.perf_counter()
    folder = crm_in_parts(args.leads, parts=max(1, args.leads // 100_000))
    print(f"data ready in {time.perf_counter() - t:.0f} s: {folder}")
    scoring = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    config = load_config(workdir=str(DATA / "score_work"), scoring=scoring, engine={"memory_limit": "4GB", "threads": 2,
                                                                  "temp_directory": str(DATA / "duckdb_tmp")})
    small = generate_crm(20_000, seed=99, months=24)
    trained = fit_models(crm_from_frames(small.leads, small.activities, small.opportunities), config)
    del small
    print(f"model trained: {trained.bundle_dir}; peak RSS so far {peak_rss_gb():.2f} GiB")

    t = time.perf_counter()
    crm = load_crm(folder, config.engine)
    load_s = time.perf_counter() - t
    print(f"load + validate {crm.summary['leads_rows']:,} leads, {crm.summary['activities_rows']:,} activities: {load_s:.0f} s")
    t = time.perf_counter()
    result = score(None, None, config, model=str(trained.bundle_dir), crm=crm, show_progress=False, log_to_mlflow=False,
                   out=DATA / "score_work" / "scores.parquet")
    score_s = time.perf_counter() - t
    print(f"scored {result.counts['leads']:,} open leads (features, model, rules, reasons): {score_s:.0f} s; "
          f"end to end with load {load_s + score_s:.0f} s; peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
