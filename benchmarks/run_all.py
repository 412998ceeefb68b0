"""Run every benchmark in its own process (so each peak RSS is its own) and print their output.

    .venv/bin/python benchmarks/run_all.py            # or: make benchmark

Figures go into BENCHMARKS.md by hand, with the machine and the date: a benchmark is a
measurement to read, not a test to pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_features.py --pandas", "bench_quality.py", "bench_score.py", "bench_spark.py", "bench_train.py",
              "bench_train_run.py")


def main() -> int:
    failed = 0
    for line in BENCHMARKS:
        script, *args = line.split()
        print(f"== {line}", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / script), *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
