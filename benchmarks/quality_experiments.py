"""Where the model's AUC gap to the oracle comes from: retrain one variant on the quality CRM.

Same data (100k leads, 30 months, seed 2024) and the same time split as `bench_quality.py`;
each run changes one thing and prints the test AUC beside the oracle's. The two diagnostic
variants add what no real CRM has (the generator's hidden persona or buying state) to
measure how much of the gap each explains.

    .venv/bin/python benchmarks/quality_experiments.py                        # registered features
    .venv/bin/python benchmarks/quality_experiments.py --lookback 3,7,30,90 --half-lives 2,7,30,90
    .venv/bin/python benchmarks/quality_experiments.py --params '{"num_leaves": 63, "min_child_samples": 100, "learning_rate": 0.02}'
    .venv/bin/python benchmarks/quality_experiments.py --slide 15
    .venv/bin/python benchmarks/quality_experiments.py --fit-score
    .venv/bin/python benchmarks/quality_experiments.py --hidden persona       # diagnostic
    .venv/bin/python benchmarks/quality_experiments.py --hidden state         # diagnostic
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from common import DATA

EXPLICIT = ["seniority", "title_bucket", "department", "company_size_band", "industry", "country", "lead_source",
            "is_business_email"]


def hidden_columns(truth: pd.DataFrame, frame: pd.DataFrame, which: str) -> pd.DataFrame:
    """Return the generator's persona and buying state in force just before each snapshot."""
    runs = truth.assign(moment=truth["valid_from"], lead_id=truth["lead_id"].astype(str)).sort_values("moment")
    probe = pd.DataFrame({"lead_id": frame["lead_id"].astype(str).to_numpy(),
                          "moment": pd.to_datetime(frame["as_of"], utc=True) - pd.Timedelta(microseconds=1),
                          "order": np.arange(len(frame))}).sort_values("moment")
    matched = pd.merge_asof(probe, runs[["lead_id", "moment", "persona", "state"]], on="moment", by="lead_id").sort_values("order")
    return pd.DataFrame({f"hidden_{which}": matched[which].astype(str).to_numpy()}, index=frame.index)


def fit_score(frame: pd.DataFrame, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Return an out-of-fold (by lead) logistic regression score on the explicit attributes."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(handle_unknown="ignore", min_frequency=20).fit(frame.loc[train, EXPLICIT].astype(str))

    def design(part: pd.DataFrame):
        size = np.log10(part["company_employees"].fillna(1).clip(lower=1).to_numpy())[:, None]
        return sp.hstack([encoder.transform(part[EXPLICIT].astype(str)), sp.csr_matrix(size)]).tocsr()

    X_train, y_train = design(frame.loc[train]), y[train]
    out_of_fold = np.zeros(int(train.sum()))
    for fit_rows, held_rows in GroupKFold(5).split(X_train, y_train, frame.loc[train, "lead_id"]):
        model = LogisticRegression(max_iter=500).fit(X_train[fit_rows], y_train[fit_rows])
        out_of_fold[held_rows] = model.decision_function(X_train[held_rows])
    score = LogisticRegression(max_iter=500).fit(X_train, y_train).decision_function(design(frame))
    score[np.flatnonzero(train)] = out_of_fold
    return score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--lookback", default="7,30,90", help="windows.lookback_days")
    parser.add_argument("--half-lives", default="7,30,90", help="windows.half_lives_days")
    parser.add_argument("--slide", type=int, default=30, help="windows.slide_days")
    parser.add_argument("--params", default="{}", help="LightGBM parameters over the config's, as JSON")
    parser.add_argument("--fit-score", action="store_true", help="add an out-of-fold logistic fit score")
    parser.add_argument("--hidden", choices=["persona", "state"], help="diagnostic: add a hidden generator column")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from features.crm import crm_from_frames
    from features.dataset import build_training_set
    from features.synthetic import generate_crm, true_probability
    from models.calibration import calibrate, choose_method
    from models.lgbm import LeadScoringModel
    from pipeline.config import load_config
    from pipeline.split import split_by_time

    started = time.perf_counter()
    data = generate_crm(args.leads, seed=2024, months=30)
    crm = crm_from_frames(data.leads, data.activities, data.opportunities)
    config = load_config(workdir=str(DATA / "quality_work"), windows={
        "lookback_days": [int(x) for x in args.lookback.split(",")],
        "half_lives_days": [int(x) for x in args.half_lives.split(",")], "slide_days": args.slide})
    training = build_training_set(crm, config)
    frame, names = training.frame, list(training.feature_names)
    split = split_by_time(frame, config)
    y = frame["label"].to_numpy()
    if args.hidden:
        frame = frame.join(hidden_columns(data.truth, frame, args.hidden))
        names.append(f"hidden_{args.hidden}")
    if args.fit_score:
        frame["fit_score"] = fit_score(frame, y, split.fit | split.validation)
        names.append("fit_score")
    X = frame[names]
    model = LeadScoringModel({**config.model.params, **json.loads(args.params)}, config.model.early_stopping_rounds, 0)
    model.fit(X[split.fit], y[split.fit], eval_set=(X[split.validation], y[split.validation]))
    calibrated = calibrate(model, X[split.calibration], y[split.calibration],
                           choose_method(y[split.calibration], config.model.isotonic_min_positives))
    test = frame.loc[split.test]
    auc = roc_auc_score(test["label"], calibrated.predict_proba(test[names])[:, 1])
    oracle = roc_auc_score(test["label"], true_probability(data.truth, test[["lead_id", "as_of"]]))
    print(f"{len(frame):,} snapshots x {len(names)} features; fit {int(split.fit.sum()):,}, test {len(test):,}; "
          f"best iteration {model.best_iteration_}")
    print(f"test ROC AUC {auc:.4f}, oracle {oracle:.4f}, gap {oracle - auc:.4f}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
