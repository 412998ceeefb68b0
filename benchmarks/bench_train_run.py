"""One `train` run end to end (features, model choice, backtest, refit, report, MLflow), timed stage by stage.

    .venv/bin/python benchmarks/bench_train_run.py [--leads 5000] [--months 30] [--seed 21] [--profile]

A CRM of `--leads` leads is generated in memory (5,000 × 30 months, seed 21 is the test suite's
`trained` CRM) and trained with the packaged defaults and the generator's settings, promoted,
into a temporary working folder. It prints the wall and CPU time of the whole run and of its
main stages (the fit of every candidate, the MLflow logging), read from cProfile with
`--profile`; without it only the totals are printed (profiling adds some overhead).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time

from common import peak_rss_gb

STAGES = {
    "fit_scorers": "fitting: model choice, held-out fit, backtest, refit, calibration",
    "log_training_run": "MLflow: the run, its datasets, the registered model",
    "fit (models/linear.py)": "logistic fits",
    "fit (models/lgbm.py)": "LightGBM fits",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--profile", action="store_true", help="also time the stages (cProfile)")
    args = parser.parse_args()

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import train

    generated = generate_crm(args.leads, seed=args.seed, months=args.months)
    crm = crm_from_frames(generated.leads, generated.activities, generated.opportunities)
    with tempfile.TemporaryDirectory() as work:
        config = with_settings(load_config(workdir=work), SETTINGS)
        profile = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        result = train(None, config, promote=True, crm=crm)
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.leads:,} leads x {args.months} months: train {wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"peak {peak_rss_gb():.2f} GiB; test ROC AUC {result.metrics['model']['roc_auc']:.4f}, "
          f"deployed {result.core.candidate.name}")
    if profile:
        stats = pstats.Stats(profile).stats
        for (path, _, name), (_, _, _, cumulative, _) in stats.items():
            for key, words in STAGES.items():
                wanted, _, where = key.partition(" (")
                if name == wanted and path.endswith(where.rstrip(")") or ".py"):
                    print(f"  {cumulative:7.1f} s  {words}")


if __name__ == "__main__":
    main()
