"""`leadscore train` on the embedded engine and on Spark local[2], the same CRM, side by side.

    .venv/bin/python benchmarks/bench_spark_train.py [--leads 100000] [--months 30] [--engines duckdb spark]

Generates the CRM once (`leadscore generate`, seed 2024, under benchmarks/data), then runs the
CLI's `train` with each engine in its own working folder, as a user would, under
`/usr/bin/time -v` so each run's wall time and peak memory (the JVM's included) are its own.
Prints the metrics table each run printed, so the model figures can be compared.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from common import DATA


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    args = parser.parse_args()
    cli = str(Path(sys.executable).parent / "leadscore")
    crm = DATA / f"generated_{args.leads}_{args.months}_2024"
    if not (crm / "leadscore.yaml").exists():
        subprocess.run([cli, "generate", "--out", str(crm), "--leads", str(args.leads), "--months", str(args.months),
                        "--seed", "2024"], check=True, stdout=subprocess.DEVNULL)
    for engine in args.engines:
        workdir = DATA / f"train_{engine}_{args.leads}"
        run = subprocess.run(["/usr/bin/time", "-v", cli, "train", "--data", str(crm), "--config", str(crm / "leadscore.yaml"),
                              "--engine", engine, "--workdir", str(workdir)], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{engine}: train failed ({run.returncode})\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
            continue
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr).group(1)
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        cpu = sum(float(re.search(rf"{kind} time \(seconds\): (\S+)", run.stderr).group(1)) for kind in ("User", "System"))
        print(f"== {engine}: wall {wall}, CPU {cpu:.0f} s, peak RSS {peak_kb / 1024 / 1024:.2f} GiB (largest process)")
        print("\n".join(line for line in run.stdout.splitlines() if line.strip()))


if __name__ == "__main__":
    main()
