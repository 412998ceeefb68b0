"""The leakage guard refuses columns that give the outcome away, unless allowed by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.models.leakage import leakage_report, refuse_leaky_features
from leadscore.pipeline.errors import BadInputError


def _data(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    X = pd.DataFrame({
        "visits": rng.poisson(2 + 2 * y),                                        # honest signal
        "contract_signed_days": np.where(y == 1, rng.integers(1, 30, n), np.nan),  # filled only for winners
        "deal_stage": np.where(y == 1, "closed", rng.choice(["new", "open"], n)),  # category that is the outcome
        "country": rng.choice(["US", "DE"], n),
    })
    return X, y


def test_constructed_leaky_columns_are_flagged_and_honest_ones_are_not():
    X, y = _data()
    report = leakage_report(X, y).set_index("feature")
    assert set(report.index) == {"contract_signed_days", "deal_stage"}
    assert "filled for 100% of winners but 0% of the others" in report.loc["contract_signed_days", "reason"]
    assert report.loc["deal_stage", "auc"] > 0.95


def test_training_refuses_leaky_columns_unless_allowed_by_name():
    X, y = _data()
    with pytest.raises(BadInputError, match="'contract_signed_days': .*'deal_stage'.*model.allow_features"):
        refuse_leaky_features(X, y)
    report = refuse_leaky_features(X, y, allowed=("contract_signed_days", "deal_stage"))
    assert len(report) == 2


def test_the_registered_features_pass_the_guard(trained):
    """No registered feature gives the outcome away, on the training slice (training would refuse
    it) nor on the later test slice the guard never saw."""
    _, _, result = trained
    assert result.bundle.manifest["leakage_allowed"] == []
    test = pd.read_parquet(result.bundle_dir / "test_slice.parquet")
    assert len(test) > 1000 and test["label"].sum() > 40
    assert leakage_report(test[result.bundle.feature_names], test["label"]).empty
