"""CPU and wall time of the 6-date feature build, repeated in one process: what per-type groups buy a custom vocabulary.

On a machine shared with other work wall time varies too much to compare two vocabularies, so
this prints the CPU time of each build (`time.process_time`) and the minimum of N. On the
custom-vocabulary copy (`bench_features.py --vocabulary custom`) it alternates the build as it
is with the build that aggregates every event feature in one stage two (`_by_rows_read` patched
to one group), the same values either way.

    .venv/bin/python benchmarks/compare_vocabularies.py crm_100000_1_1_24 3
    .venv/bin/python benchmarks/compare_vocabularies.py crm_100000_1_1_24_custom_vocabulary 3

The folders are those `bench_features.py` makes under benchmarks/data (run it first).
"""

from __future__ import annotations

import sys
import time
from unittest import mock

import pandas as pd

from common import DATA
import leadscore.features.builder as builder
from leadscore.features.loaders import load_crm
from leadscore.features.snapshots import open_leads_at
from leadscore.pipeline.config import load_config
from leadscore.pipeline.crm_settings import fit_to_crm


def main() -> None:
    name, n = sys.argv[1], int(sys.argv[2])
    config = load_config(engine={"memory_limit": "3GB", "threads": 2})
    crm = load_crm(DATA / name, config.engine)
    config = fit_to_crm(config, crm)
    end = crm.data_end.normalize()
    snaps = open_leads_at(crm, [end - pd.Timedelta(days=30 * i) for i in range(6)])
    one_pass = lambda events: {(): list(events)}  # noqa: E731
    results = {"as built": [], "one stage two": []}
    for _ in range(n):
        for label in results if "custom" in name else ["as built"]:
            patch = mock.patch.object(builder, "_by_rows_read", one_pass if label != "as built" else builder._by_rows_read)
            with patch:
                t, c = time.perf_counter(), time.process_time()
                builder.build_features(crm, snaps, config.for_features)
                results[label].append((time.process_time() - c, time.perf_counter() - t))
            print(name, label, f"cpu {results[label][-1][0]:.1f} wall {results[label][-1][1]:.1f}", flush=True)
    for label, runs in results.items():
        if runs:
            print(name, label, "min cpu", f"{min(r[0] for r in runs):.1f}", "min wall", f"{min(r[1] for r in runs):.1f}")


if __name__ == "__main__":
    main()
