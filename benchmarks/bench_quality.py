"""Model quality on a 100k-lead synthetic CRM against the oracle and the default points table.

    .venv/bin/python benchmarks/bench_quality.py [--leads 100000]
"""

from __future__ import annotations

import argparse
import time

from common import DATA, peak_rss_gb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=30)
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.synthetic import SETTINGS, generate_crm, true_probability
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import fit_models

    t = time.perf_counter()
    crm_data = generate_crm(args.leads, seed=2024, months=args.months)
    crm = crm_from_frames(crm_data.leads, crm_data.activities, crm_data.opportunities)
    result = fit_models(crm, with_settings(load_config(workdir=str(DATA / "quality_work")), SETTINGS))
    test = result.test_frame
    oracle = roc_auc_score(test["label"], true_probability(crm_data.truth, test[["lead_id", "as_of"]]))
    m, r = result.metrics["model"], result.metrics["rule"]
    print(f"{args.leads:,} leads, {len(crm_data.activities):,} activities, test {len(test):,} snapshots "
          f"({int(test['label'].sum()):,} wins), calibration {result.calibration_method}")
    print(f"test ROC AUC: model {m['roc_auc']:.4f}, oracle {oracle:.4f} (gap {oracle - m['roc_auc']:.4f}), "
          f"points table {r['roc_auc']:.4f} (model - points {m['roc_auc'] - r['roc_auc']:+.4f})")
    print(f"model ECE {m['ece']:.4f}, Brier {m['brier']:.4f}; wall {time.perf_counter() - t:.0f} s; peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
