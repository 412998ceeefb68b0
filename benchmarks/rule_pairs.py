"""Experiment: do rules on two conditions at once (A and B) close the gap between a fitted points table and the model?

The fitted table is additive; what the model has beyond it is interactions. This script
offers the fit, beside the single conditions `models.rules.fit.candidates` generates, every
AND of two of the M single conditions most associated with winning (on different features),
runs the same selection (at most 12 rules) and rounding to multiples of 5, and prints the
test ROC AUC of the integer sums (without decay or caps, on both sides) beside a LightGBM:

    .venv/bin/python benchmarks/rule_pairs.py [--leads 30000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import sparse


def fires_on(candidate, X: pd.DataFrame) -> np.ndarray:
    """Return where a candidate's condition holds on the rows of X (the test rows: candidates carry the fit rows')."""
    column, condition = X[candidate.feature], candidate.condition
    if "equals" in condition:
        return column.fillna(False).astype(bool).to_numpy()
    if "in" in condition:
        return column.astype("string").isin([str(v) for v in condition["in"]]).fillna(False).to_numpy(bool)
    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    if "at_least" in condition:
        return values >= condition["at_least"]
    low, high = condition["between"]
    return (values >= low) & (values <= high)


def with_pairs(pool: list, on_test: list, y: np.ndarray, most: int, settings) -> tuple[list, list]:
    """Return the pool and its test firings with the ANDs of the `most` most associated single conditions added."""
    from leadscore.models.rules import fit

    centred = y - y.mean()
    association = np.array([abs((c.fires * centred).mean()) / max(c.fires.std(), 1e-9) for c in pool])
    top = np.argsort(-association)[:most]
    pool, on_test = list(pool), list(on_test)
    for a, i in enumerate(top):
        for j in top[a + 1:]:
            if pool[i].feature == pool[j].feature:
                continue
            both = pool[i].fires & pool[j].fires
            if not settings.min_support <= both.mean() <= 1 - settings.min_support:
                continue
            sign = pool[i].sign if pool[i].sign == pool[j].sign else 0
            pool.append(fit._Candidate(f"{pool[i].id}__and__{pool[j].id}", pool[i].feature, pool[i].condition, sign, both))
            on_test.append(on_test[i] & on_test[j])
    return pool, on_test


def integer_table_auc(pool: list, on_test: list, X_fit, y_fit, y_test, settings, limit: int = 12) -> tuple[int, float]:
    """Select at most `limit` conditions (forward selection), refit, round onto the grid at the best scale; return rules and test AUC."""
    from sklearn.metrics import roc_auc_score

    from leadscore.models.rules import fit

    chosen, _ = fit._select(pool, y_fit, np.zeros(len(pool), bool), limit)
    columns = {j: sparse.csc_matrix(pool[j].fires.astype(float).reshape(-1, 1)) for j in chosen}
    weights, _ = fit._refit(columns, y_fit, pool, chosen)
    ids, beta = list(weights), np.array(list(weights.values()))
    low, high = settings.points_range
    top = min(high / max(beta.max(), 1e-9), -low / max(-beta.min(), 1e-9))
    design = sparse.hstack([columns[j] for j in ids]).tocsc()
    best = None
    for scale in top * np.linspace(0.2, 1, 9):
        points = np.clip(settings.grid * np.round(beta * scale / settings.grid), low, high)
        auc = roc_auc_score(y_fit, design @ points)
        if best is None or auc > best[0]:
            best = (auc, points)
    points = best[1]
    test_design = np.column_stack([on_test[j] for j in ids]).astype(float)
    return int((points != 0).sum()), float(roc_auc_score(y_test, test_design @ points))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=30_000)
    args = parser.parse_args()
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.dataset import build_training_set
    from leadscore.features.registry import all_features
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.models.rules import fit
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.split import split_by_time

    data = generate_crm(args.leads, seed=2024, months=30)
    crm = crm_from_frames(data.leads, data.activities, data.opportunities)
    config = fit_to_crm(with_settings(load_config(), SETTINGS), crm)
    training = build_training_set(crm, config.for_features)
    frame, names = training.frame, training.feature_names
    split = split_by_time(frame, config)
    registry = {f.name: f for f in all_features(config.for_features)}
    train = split.fit | split.validation
    X_train, y_train = frame.loc[train, names].reset_index(drop=True), frame.loc[train, "label"].to_numpy()
    X_test, y_test = frame.loc[split.test, names].reset_index(drop=True), frame.loc[split.test, "label"].to_numpy()
    rows = np.sort(np.random.default_rng(0).choice(len(X_train), min(100_000, len(X_train)), replace=False))
    X_fit, y_fit = X_train.iloc[rows].reset_index(drop=True), y_train[rows]
    settings = fit.FitSettings()
    singles = fit.candidates(X_fit, registry, settings)
    singles_on_test = [fires_on(c, X_test) for c in singles]

    print("| conditions offered | rules | test ROC AUC (integer points) | seconds |\n|---|---:|---:|---:|")
    for most in (0, 20, 30):
        started = time.perf_counter()
        pool, on_test = (singles, singles_on_test) if most == 0 else with_pairs(singles, singles_on_test, y_fit, most, settings)
        rules, auc = integer_table_auc(pool, on_test, X_fit, y_fit, y_test, settings)
        offered = "single conditions only" if most == 0 else f"+ ANDs of the {most} most associated"
        print(f"| {offered} | {rules} | {auc:.4f} | {time.perf_counter() - started:.0f} |", flush=True)
    categories = {c: "category" for c in X_train if not pd.api.types.is_numeric_dtype(X_train[c]) and not pd.api.types.is_bool_dtype(X_train[c])}
    model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.05, num_leaves=31, verbose=-1)
    model.fit(X_train.astype(categories), y_train)
    print(f"| LightGBM on the same features | – | {roc_auc_score(y_test, model.predict_proba(X_test.astype(categories))[:, 1]):.4f} | |")


if __name__ == "__main__":
    main()
