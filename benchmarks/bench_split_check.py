"""The split check on a large CRM: snapshots and wins per slice from the schedule and label dates, no features.

    .venv/bin/python benchmarks/bench_split_check.py [CRM_FOLDER] [--config FILE]

Without a folder it uses the benchmarks' 100k-lead CRM. Loading (validation) is timed apart:
`train` loads the CRM once for every stage, and the check adds only its own seconds.
"""

from __future__ import annotations

import argparse
import time

from common import crm_in_parts, peak_rss_gb


def main() -> None:
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.catalog import engine_settings
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.split_checks import check_split

    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--config")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = args.folder or crm_in_parts(100_000, parts=1)
    config = load_config(args.config, workdir="/tmp/bench-split-check")
    t = time.perf_counter()
    crm = load_crm(folder, engine_settings(config))
    print(f"loaded {folder} ({crm.summary['leads_rows']:,} leads, {crm.summary['activities_rows']:,} activities) "
          f"in {time.perf_counter() - t:.1f} s")
    config = fit_to_crm(config, crm)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        check = check_split(crm, config)
        times.append(time.perf_counter() - t)
    print(check.slices.to_string(index=False))
    print(f"split check: {min(times):.2f} s best of {args.repeats} (all: {', '.join(f'{s:.2f}' for s in times)}); "
          f"peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
