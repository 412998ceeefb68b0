"""Reasons at prediction cost: TreeSHAP (LightGBM pred_contrib) against path attributions (`models.paths`).

    .venv/bin/python benchmarks/bench_explain.py [--leads 30000] [--rows 20000]

Fits the LightGBM model (the config's parameters, no early stopping) on a synthetic CRM's
training snapshots, builds the features of the leads open the day after the data ends, and
explains the same rows both ways. Printed: CPU and wall seconds of
each, the largest gap between the path sums and the raw score, and how often the two agree on
the top-3 up reasons and top-3 down reasons (as sets, the way a scores file lists them, and
in order), over the rows that have three of each.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import DATA


def _top(values: np.ndarray, k: int, sign: int) -> np.ndarray:
    return np.argsort(-sign * values, axis=1, kind="stable")[:, :k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=30_000)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    from leadscore.features.crm import crm_from_frames
    from leadscore.features.snapshots import scoring_snapshots
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.features.dataset import build_training_set
    from leadscore.models.lgbm import LeadScoringModel

    data = generate_crm(args.leads, seed=7, months=30)
    crm = crm_from_frames(data.leads, data.activities, data.opportunities)
    config = with_settings(load_config(workdir=str(DATA / "explain_work")), SETTINGS)
    training = build_training_set(crm, config.for_features, config.label, config.lifecycle)
    frame = training.frame
    model = LeadScoringModel(config.model.params).fit(frame[training.feature_names], frame["label"])
    snapshots = scoring_snapshots(crm, crm.data_end.normalize() + np.timedelta64(1, "D"))
    X = crm.features(snapshots, config.for_features).head(args.rows)[list(model.feature_names_in_)]
    raw = model.booster_model_.booster_.predict(model.prepare(X), raw_score=True)

    timings = {}
    for name, explain in (("TreeSHAP (pred_contrib)", model.contributions), ("path attributions", model.path_contributions)):
        wall, cpu = time.perf_counter(), time.process_time()
        timings[name] = (explain(X).to_numpy(), time.perf_counter() - wall, time.process_time() - cpu)
    shap, paths = timings["TreeSHAP (pred_contrib)"][0], timings["path attributions"][0]
    print(f"{len(X):,} rows, {model.best_iteration_} trees, {X.shape[1]} features")
    for name, (_, wall, cpu) in timings.items():
        print(f"{name}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    print(f"path sums vs raw score: largest gap {np.abs(paths.sum(axis=1) + model.path_table_.bias - raw).max():.2e}")
    for sign, label in ((1, "up"), (-1, "down")):
        full = ((sign * shap) > 0).sum(axis=1) >= 3
        a, b = _top(shap[full], 3, sign), _top(paths[full], 3, sign)
        as_sets = np.mean([set(x) == set(y) for x, y in zip(a, b)])
        in_order = np.mean((a == b).all(axis=1))
        first = np.mean(a[:, 0] == b[:, 0])
        overlap = np.mean([len(set(x) & set(y)) / 3 for x, y in zip(a, b)])
        print(f"top-3 {label} reasons over {full.sum():,} rows: same set {as_sets:.1%}, same order {in_order:.1%}, "
              f"same first reason {first:.1%}, mean overlap {overlap:.1%}")


if __name__ == "__main__":
    main()
