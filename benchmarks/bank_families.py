"""Experiment: how far generic model choices get on the Bank Marketing table under its drift.

The table (`../shared/data/bank_marketing/`, rows in date order, `duration` dropped) is cut
into 20 blocks in file order, as the worked example in the README cuts it: blocks 13-16 are
the validation folds the family choice reads, blocks 17-20 the test. Each block is scored by
a model fitted on every row before it (a rolling origin), for a logistic regression
(one-hot categories, standardized numbers, C = 0.1) and a LightGBM, each with and without
recency weights (a half-life in blocks), and for the mean of the two families' log-odds:

    .venv/bin/python benchmarks/bank_families.py

It prints the pooled ROC AUC of the validation folds and of the test blocks, uncalibrated
(calibration is monotone within a block; across blocks it only moves the levels).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank_marketing" / "bank-additional-full.csv"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(BANK))
    parser.add_argument("--half-lives", type=float, nargs="*", default=[8, 4, 2])
    args = parser.parse_args()
    import lightgbm as lgb
    from scipy.special import logit
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = pd.read_csv(args.data, sep=";").drop(columns="duration")
    y = (table.pop("y") == "yes").astype(int).to_numpy()
    categories = [c for c in table if not pd.api.types.is_numeric_dtype(table[c])]
    numbers = [c for c in table if c not in categories]
    blocks = np.array_split(np.arange(len(table)), 20)
    block_rows = len(blocks[0])

    def predict(family: str, end: int, rows: np.ndarray, half_life: float | None) -> np.ndarray:
        weight = 0.5 ** ((end - np.arange(end)) / block_rows / half_life) if half_life else None
        if family == "logistic":
            model = make_pipeline(ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore", min_frequency=20), categories),
                                                     ("n", StandardScaler(), numbers)]),
                                  LogisticRegression(C=0.1, max_iter=2000))
            model.fit(table.iloc[:end], y[:end], logisticregression__sample_weight=weight)
            return model.predict_proba(table.iloc[rows])[:, 1]
        typed = table.astype({c: "category" for c in categories})
        model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=50, subsample=0.8,
                                   subsample_freq=1, colsample_bytree=0.8, verbose=-1)
        model.fit(typed.iloc[:end], y[:end], sample_weight=weight)
        return model.predict_proba(typed.iloc[rows])[:, 1]

    print("| blocks | recency half-life (blocks) | logistic | lightgbm | mean of log-odds |\n|---|---|---:|---:|---:|")
    for name, span in (("validation 13-16", range(12, 16)), ("test 17-20", range(16, 20))):
        rows = np.concatenate([blocks[i] for i in span])
        for half_life in (None, *args.half_lives):
            scores = {family: np.concatenate([predict(family, blocks[i][0], blocks[i], half_life) for i in span])
                      for family in ("logistic", "lightgbm")}
            blend = sum(logit(np.clip(s, 1e-6, 1 - 1e-6)) for s in scores.values()) / 2
            auc = [roc_auc_score(y[rows], s) for s in (*scores.values(), blend)]
            print(f"| {name} | {half_life or 'none'} | " + " | ".join(f"{a:.3f}" for a in auc) + " |", flush=True)


if __name__ == "__main__":
    main()
