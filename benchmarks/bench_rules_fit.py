"""Fitting a points table on the training slice of a 100k-lead synthetic CRM: wall time of the fit alone, and its test AUC.

    .venv/bin/python benchmarks/bench_rules_fit.py [--leads 100000]

The features are built first (not timed: `bench_features.py` measures them); the time
reported is `fit_table_on_split`, what `leadscore rules fit` adds to a feature build.
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
    from leadscore.features.dataset import build_training_set
    from leadscore.features.registry import all_features
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.models.rules import PointsScorer, load_points_table
    from leadscore.models.rules.table import without_unbuilt_rules
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.rules_fitting import fit_table_on_split
    from leadscore.pipeline.split import split_by_time

    data = generate_crm(args.leads, seed=2024, months=args.months)
    crm = crm_from_frames(data.leads, data.activities, data.opportunities)
    config = fit_to_crm(with_settings(load_config(workdir=str(DATA / "rules_fit_work")), SETTINGS), crm)
    training = build_training_set(crm, config.for_features)
    frame, names = training.frame, training.feature_names
    split = split_by_time(frame, config)
    registry = {f.name: f for f in all_features(config.for_features)}
    current = without_unbuilt_rules(load_points_table(), registry)
    started = time.perf_counter()
    fitted = fit_table_on_split(frame, names, split, config, registry, current)
    seconds = time.perf_counter() - started
    test, y = frame.loc[split.test, names], frame.loc[split.test, "label"].to_numpy()
    calibration = frame.loc[split.calibration]
    auc = {name: roc_auc_score(y, PointsScorer(table, features=registry).fit(calibration, calibration["label"]).decision_function(test))
           for name, table in (("fitted", fitted.table), ("packaged", current))}
    train = split.fit | split.validation
    print(f"{args.leads:,} leads: {int(train.sum()):,} training snapshots, {len(fitted.table.rules)} rules fitted in {seconds:.1f} s "
          f"(half-life {fitted.half_life_days}); test ROC AUC fitted {auc['fitted']:.4f}, packaged {auc['packaged']:.4f}; "
          f"peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
