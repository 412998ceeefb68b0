"""Where the model's AUC gap to the oracle comes from: retrain one variant on the quality CRM.

Same data (100k leads, 30 months, seed 2024) and the same time split as `bench_quality.py`;
each run changes one thing and prints the test AUC beside the oracle's. The two diagnostic
variants add what no real CRM has (the generator's hidden persona or buying state) to
measure how much of the gap each explains.

    .venv/bin/python benchmarks/quality_experiments.py                        # registered features
    .venv/bin/python benchmarks/quality_experiments.py --no-competitors       # without the CRM's leadscore.yaml
    .venv/bin/python benchmarks/quality_experiments.py --lookback 3,7,30,90 --half-lives 2,7,30,90
    .venv/bin/python benchmarks/quality_experiments.py --params '{"num_leaves": 63, "min_child_samples": 100, "learning_rate": 0.02}'
    .venv/bin/python benchmarks/quality_experiments.py --slide 15
    .venv/bin/python benchmarks/quality_experiments.py --fit-score
    .venv/bin/python benchmarks/quality_experiments.py --personas 6
    .venv/bin/python benchmarks/quality_experiments.py --hidden persona       # diagnostic
    .venv/bin/python benchmarks/quality_experiments.py --hidden state         # diagnostic
    .venv/bin/python benchmarks/quality_experiments.py --hidden posterior     # diagnostic

`--hidden posterior` adds the exact Bayes posterior P(persona | explicit attributes), computed
from the generator's own tables: the most any model can learn about the persona from who the
lead is. If it does not close the gap, the rest must come from behaviour.
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


def persona_posterior(leads: pd.DataFrame) -> pd.DataFrame:
    """Return P(persona | seniority, department, industry, source, company size, email kind, competitor) per lead.

    Every term is the generator's own distribution (features/synthetic/personas.py); the size
    term is the normal density of log10(size) (rounding to whole employees is ignored).
    """
    from scipy.stats import norm

    from leadscore.features.synthetic import personas as P

    def likelihood(values: pd.Series, levels: tuple[str, ...], mix: np.ndarray) -> np.ndarray:
        index = values.map({v: i for i, v in enumerate(levels)})
        known = index.notna().to_numpy()
        out = np.ones((len(values), len(P.PERSONAS)))
        out[known] = mix[:, index[known].astype(int).to_numpy()].T
        return out

    log_post = np.log(np.tile(P.PERSONA_SHARES, (len(leads), 1)))
    for column, levels, mix in (("seniority", P.SENIORITIES, P.SENIORITY_MIX), ("department", P.DEPARTMENTS, P.DEPARTMENT_MIX),
                                ("industry", P.INDUSTRIES, P.INDUSTRY_MIX), ("lead_source", P.SOURCES, P.SOURCE_MIX)):
        log_post += np.log(np.clip(likelihood(leads[column].astype("object"), levels, mix), 1e-12, None))
    size = pd.to_numeric(leads["company_size"], errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(size)
    mean, spread = P.COMPANY_SIZE_LOG10.T
    log_post[known] += norm.logpdf(np.log10(size[known])[:, None], mean, spread)
    personal = leads["email"].astype(str).str.split("@").str[1].isin(P.PERSONAL_DOMAINS).to_numpy()
    log_post += np.log(np.where(personal[:, None], P.PERSONAL_EMAIL_SHARE, 1 - P.PERSONAL_EMAIL_SHARE))
    rival = leads["company_name"].astype("object").isin(P.COMPETITORS).to_numpy()
    is_rival = np.array(P.PERSONAS) == "competitor"
    has_company = leads["company_name"].notna().to_numpy()
    log_post[has_company] += np.log(np.where(rival[has_company, None] == is_rival, 1.0, 1e-12))
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    return pd.DataFrame(post, columns=[f"posterior_{p}" for p in P.PERSONAS]).assign(lead_id=leads["lead_id"].astype(str).to_numpy())


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
    parser.add_argument("--no-competitors", action="store_true", help="without the generated CRM's settings (its competitors)")
    parser.add_argument("--personas", type=int, default=0, help="add K latent persona probabilities (benchmarks/latent_personas.py)")
    parser.add_argument("--personas-outcome", action="store_true", help="fit the personas with each lead's training-window win")
    parser.add_argument("--hidden", choices=["persona", "state", "posterior"], help="diagnostic: add hidden generator columns")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from leadscore.features.crm import crm_from_frames
    from leadscore.features.dataset import build_training_set
    from leadscore.features.synthetic import generate_crm, true_probability
    from leadscore.models.calibration import calibrate, choose_method
    from leadscore.models.lgbm import LeadScoringModel
    from leadscore.features.synthetic import SETTINGS
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.split import split_by_time

    started = time.perf_counter()
    data = generate_crm(args.leads, seed=2024, months=30)
    crm = crm_from_frames(data.leads, data.activities, data.opportunities)
    config = load_config(workdir=str(DATA / "quality_work"), windows={
        "lookback_days": [int(x) for x in args.lookback.split(",")],
        "half_lives_days": [int(x) for x in args.half_lives.split(",")], "slide_days": args.slide})
    if not args.no_competitors:
        config = with_settings(config, SETTINGS)
    training = build_training_set(crm, config.for_features)
    frame, names = training.frame, list(training.feature_names)
    split = split_by_time(frame, config)
    y = frame["label"].to_numpy()
    if args.hidden == "posterior":
        posterior = persona_posterior(data.leads)
        frame = frame.assign(lead_id=frame["lead_id"].astype(str)).merge(posterior, on="lead_id", how="left")
        names += [c for c in posterior.columns if c != "lead_id"]
    elif args.hidden:
        frame = frame.join(hidden_columns(data.truth, frame, args.hidden))
        names.append(f"hidden_{args.hidden}")
    if args.fit_score:
        frame["fit_score"] = fit_score(frame, y, split.fit | split.validation)
        names.append("fit_score")
    if args.personas:
        from latent_personas import LatentPersonas, persona_columns

        fit_rows = frame.loc[split.fit | split.validation]
        fit_leads = fit_rows.drop_duplicates("lead_id", keep="last")
        won = fit_rows.groupby("lead_id")["label"].max().reindex(fit_leads["lead_id"]).to_numpy()
        personas = LatentPersonas(args.personas).fit(fit_leads, won if args.personas_outcome else None)
        frame = frame.join(personas.transform(frame))
        names += persona_columns(args.personas)
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
