"""Model quality on a 100k-lead synthetic CRM against the oracle and the default points table.

    .venv/bin/python benchmarks/bench_quality.py [--leads 100000] [--fit-table]

With `--fit-table`, training also fits a points table (`rules: {fit: true}`) and the report's
comparison of the current table, the fitted one and the model on the same test leads is printed.
"""

from __future__ import annotations

import argparse
import time

from common import DATA, peak_rss_gb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--fit-table", action="store_true", help="also fit a points table and compare it on the test slice")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.synthetic import SETTINGS, generate_crm, true_probability
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import fit_models

    t = time.perf_counter()
    crm_data = generate_crm(args.leads, seed=2024, months=args.months)
    crm = crm_from_frames(crm_data.leads, crm_data.activities, crm_data.opportunities)
    config = with_settings(load_config(workdir=str(DATA / "quality_work")), SETTINGS)
    if args.fit_table:
        config = config.model_copy(update={"rules": config.rules.model_copy(update={"fit": True})})
    result = fit_models(crm, config)
    test = result.test_frame
    oracle = roc_auc_score(test["label"], true_probability(crm_data.truth, test[["lead_id", "as_of"]]))
    m, r = result.metrics["model"], result.metrics["rule"]
    print(f"{args.leads:,} leads, {len(crm_data.activities):,} activities, test {len(test):,} snapshots "
          f"({int(test['label'].sum()):,} wins), calibration {result.calibration_method}")
    print(f"test ROC AUC: model {m['roc_auc']:.4f}, oracle {oracle:.4f} (gap {oracle - m['roc_auc']:.4f}), "
          f"points table {r['roc_auc']:.4f} (model - points {m['roc_auc'] - r['roc_auc']:+.4f})")
    if result.fitted_table:
        rows = {r["scorer"]: r["roc_auc"] for r in result.fitted_table["comparison"]}
        print(f"fitted points table ({result.fitted_table['rules']} rules): test ROC AUC {rows['fitted table']:.4f}, "
              f"current table {rows['current table']:.4f}, model {rows['model']:.4f} "
              f"(model - fitted {rows['model'] - rows['fitted table']:+.4f}, fitted - current {rows['fitted table'] - rows['current table']:+.4f})")
        for audit in result.fitted_table["audits"]:
            print(f"  {audit['scorer']} {audit['threshold']}: passes {audit['share_passed']:.1%}, converts {audit['conversion']:.1%}: {audit['status']}")
    print(f"model ECE {m['ece']:.4f}, Brier {m['brier']:.4f}; wall {time.perf_counter() - t:.0f} s; peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
