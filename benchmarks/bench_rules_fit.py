"""Fitting a points table on the training slice of a 100k-lead synthetic CRM: wall time of the fit alone, and its test AUC.

    .venv/bin/python benchmarks/bench_rules_fit.py [--leads 100000] [--data DIR]

With `--data`, a CRM folder written by `leadscore generate` (its `leadscore.yaml` beside it) is
used instead of generating one.

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
    parser.add_argument("--data", default=None, help="a CRM folder with its leadscore.yaml, instead of a generated CRM")
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
    from leadscore.pipeline.evaluation.thresholds import audit_threshold
    from leadscore.pipeline.rules_fitting import fit_table_on_split
    from leadscore.pipeline.split import split_by_time

    if args.data:
        from leadscore.features.loaders import load_crm
        from leadscore.pipeline.catalog import engine_settings

        config = load_config(f"{args.data}/leadscore.yaml", workdir=str(DATA / "rules_fit_work"))
        crm = load_crm(args.data, engine_settings(config))
    else:
        data = generate_crm(args.leads, seed=2024, months=args.months)
        crm = crm_from_frames(data.leads, data.activities, data.opportunities)
        config = with_settings(load_config(workdir=str(DATA / "rules_fit_work")), SETTINGS)
    config = fit_to_crm(config, crm)
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
    for name, table in (("fitted", fitted.table), ("packaged", current)):
        points = PointsScorer(table, features=registry).fit(calibration, calibration["label"]).decision_function(test)
        held = frame.loc[split.test, ["as_of", "label"]].assign(points=points)
        for cut, value in (("MQL", table.thresholds.stages["MQL"]), ("hot", table.thresholds.segments["hot"])):
            a = audit_threshold(held, name, cut, "points", value, "points", config)
            print(f"{name} {cut} >= {value:g} on the test slice: passes {a.share_passed:.1%}, converts {a.conversion:.1%}: "
                  f"{'; '.join(a.problems) or 'meets the targets'}")
    print(f"{crm.source if args.data else f'{args.leads:,} leads'}: {int(train.sum()):,} training snapshots, {len(fitted.table.rules)} rules fitted in {seconds:.1f} s "
          f"(half-life {fitted.half_life_days}); test ROC AUC fitted {auc['fitted']:.4f}, packaged {auc['packaged']:.4f}; "
          f"peak RSS {peak_rss_gb():.2f} GiB")


if __name__ == "__main__":
    main()
