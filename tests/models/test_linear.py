"""The logistic-regression family: exact contributions, extrapolation, unseen values, the prior correction, safe bundles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.models.bundle import ModelBundle, load_bundle, read_manifest, save_bundle
from leadscore.models.errors import SchemaMismatchError
from leadscore.models.lgbm import LeadScoringModel
from leadscore.models.linear import LinearLeadModel
from leadscore.models.sampling import corrected_probability, keep_for_training


def _leads(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["a", "b", "c"], n).astype(object),
                      "flag": rng.random(n) < 0.3, "count": rng.poisson(2, n)})
    X.loc[X.index % 9 == 0, "x"] = np.nan
    X.loc[X.index % 11 == 0, "kind"] = None
    logit = 1.5 * X["x"].fillna(0) - 2 + (X["kind"] == "a") * 1.0 + X["flag"] * 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


def test_contributions_add_up_to_the_log_odds_exactly():
    X, y = _leads()
    model = LinearLeadModel(C=1.0, spline_knots=5).fit(X, y)
    contributions = model.contributions(X.head(50))
    assert list(contributions.columns) == ["x", "kind", "flag", "count"]
    np.testing.assert_allclose(contributions.sum(axis=1) + model.expected_log_odds(), model.decision_function(X.head(50)))
    # the feature that drives the label moves the log-odds the most
    assert contributions.abs().mean().idxmax() == "x"


def test_a_line_extrapolates_where_trees_stay_flat():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 6000)
    X = pd.DataFrame({"macro": x})
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(4 * x - 3)))).astype(int)
    beyond = pd.DataFrame({"macro": [1.0, 1.5, 2.0]})
    line = LinearLeadModel().fit(X, y).predict_proba(beyond)[:, 1]
    trees = LeadScoringModel({"n_estimators": 50}).fit(X, y).predict_proba(beyond)[:, 1]
    assert line[0] < line[1] < line[2]
    assert trees[1] == pytest.approx(trees[2])  # a tree predicts the last leaf beyond the training range


def test_unseen_and_missing_values_are_scored_not_errors():
    X, y = _leads()
    model = LinearLeadModel(min_frequency=5).fit(X, y)
    new = pd.DataFrame({"x": [np.nan, 0.0], "kind": ["never-seen", None], "flag": [True, False], "count": [0, 1]})
    p = model.predict_proba(new)[:, 1]
    assert ((p > 0) & (p < 1)).all()
    assert model.categories_ == {"kind": ["a", "b", "c"]}


def test_the_prior_correction_brings_a_model_on_sampled_non_wins_back_to_the_true_rate():
    X, y = _leads(20_000, seed=2)
    keep = keep_for_training(y, 0.2, seed=0)
    assert keep[y == 1].all() and 0.15 < keep[y == 0].mean() < 0.25
    corrected = LinearLeadModel().fit(X[keep], y[keep], negative_rate=0.2).predict_proba(X)[:, 1]
    uncorrected = LinearLeadModel().fit(X[keep], y[keep]).predict_proba(X)[:, 1]
    assert abs(corrected.mean() - y.mean()) < 0.01
    assert uncorrected.mean() > y.mean() * 1.5
    np.testing.assert_allclose(corrected_probability(uncorrected, 0.2), corrected, rtol=1e-6)


def test_a_lightgbm_model_on_sampled_non_wins_is_corrected_the_same_way():
    X, y = _leads(20_000, seed=3)
    keep = keep_for_training(y, 0.25, seed=0)
    model = LeadScoringModel({"n_estimators": 60}).fit(X[keep], y[keep], negative_rate=0.25)
    assert abs(model.predict_proba(X)[:, 1].mean() - y.mean()) < 0.015
    assert np.allclose(1 / (1 + np.exp(-model.decision_function(X.head(20)))), model.predict_proba(X.head(20))[:, 1])


def test_a_logistic_bundle_loads_through_the_hash_check(tmp_path):
    X, y = _leads()
    model = LinearLeadModel().fit(X, y)
    folder = save_bundle(ModelBundle(calibrated=model, model=model, points=None, manifest={"name": "t"}), tmp_path / "b")
    recorded = read_manifest(folder)["sha256"]  # as the training run records it
    loaded = load_bundle(folder, recorded)
    np.testing.assert_allclose(loaded.model.predict_proba(X.head(5)), model.predict_proba(X.head(5)))
    with open(folder / "model.joblib", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(SchemaMismatchError, match="does not match the .* its training run recorded"):
        load_bundle(folder, recorded)


def _table(n=6000, seed=3):
    """Leads with text categories (as a flat export reads them), numbers on very different scales and a rare category."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"job": pd.array(rng.choice(["admin", "tech", "retired", "student"], n, p=[0.4, 0.4, 0.15, 0.05]),
                                      dtype="string"),
                      "rate": rng.normal(4, 1.5, n), "employed": rng.normal(5100, 70, n), "calls": rng.poisson(2, n).astype(float)})
    job = X["job"].to_numpy(dtype=object)
    logit = (-2.5 + 0.9 * (job == "retired") + 1.2 * (job == "student") - 0.5 * (X["rate"].to_numpy() - 4)
             - 0.01 * (X["employed"].to_numpy() - 5100) - 0.2 * X["calls"].to_numpy())
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_the_family_ranks_as_a_plain_scikit_learn_logistic_regression_does(C):
    """One-hot categories and standardized numbers, fitted on the first 4000 rows, scored on the rest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = _table()
    fit, test = slice(0, 4000), slice(4000, None)
    plain = make_pipeline(ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore", min_frequency=20), ["job"]),
                                             ("n", StandardScaler(), ["rate", "employed", "calls"])]),
                          LogisticRegression(C=C, max_iter=2000))
    Xo = X.astype({"job": object})
    plain_auc = roc_auc_score(y[test], plain.fit(Xo[fit], y[fit]).predict_proba(Xo[test])[:, 1])
    ours = LinearLeadModel(C=C).fit(X[fit], y[fit])
    assert roc_auc_score(y[test], ours.predict_proba(X[test])[:, 1]) == pytest.approx(plain_auc, abs=0.01)
    assert plain_auc > 0.7


def test_sample_weights_reach_the_regression():
    X, y = _table(3000)
    recent = np.r_[np.full(1500, 0.01), np.ones(1500)]
    weighted = LinearLeadModel().fit(X, y, sample_weight=recent)
    only_recent = LinearLeadModel().fit(X.iloc[1500:], y[1500:])
    unweighted = LinearLeadModel().fit(X, y)
    # nearly zero weight on the first half: close to fitting the second half alone, apart from the unweighted one
    gap = lambda m: np.abs(m.predict_proba(X)[:, 1] - only_recent.predict_proba(X)[:, 1]).mean()  # noqa: E731
    assert gap(weighted) < gap(unweighted) / 2
