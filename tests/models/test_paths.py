"""Path attributions: they add up to the booster's raw score, and on stumps they are TreeSHAP's values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.models.lgbm import LeadScoringModel


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"visits": rng.poisson(2, n).astype(float), "size": rng.normal(size=n),
                      "source": pd.Series(rng.choice(["web", "event", "partner"], n), dtype="string"), "opens": rng.normal(size=n)})
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    logit = 0.6 * X["visits"] + X["size"].fillna(0) * X["opens"] + (X["source"] == "event").astype(float) * 0.8 - 2
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_path_contributions_and_the_bias_add_up_to_the_raw_score(data):
    X, y = data
    model = LeadScoringModel({"n_estimators": 60, "num_leaves": 15}).fit(X, y)
    paths = model.path_contributions(X)
    raw = model.booster_model_.booster_.predict(model.prepare(X), raw_score=True)
    assert list(paths.columns) == list(X.columns)
    assert np.allclose(paths.sum(axis=1) + model.path_table_.bias, raw, atol=1e-9)
    assert paths["size"].abs().sum() > 0 and (paths.loc[X["source"] == "event", "source"] > 0).all()  # event leads win more


def test_on_trees_of_one_split_path_attributions_are_treeshap_values(data):
    X, y = data
    model = LeadScoringModel({"n_estimators": 40, "max_depth": 1, "num_leaves": 2}).fit(X, y)
    assert np.allclose(model.path_contributions(X).to_numpy(), model.contributions(X).to_numpy(), atol=1e-9)
