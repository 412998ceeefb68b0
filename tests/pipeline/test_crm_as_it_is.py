"""A CRM as real exports give it: its own activity names, no channel, and a leads table of two columns and a number."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.features.contract import ACTIVITY_TYPES
from leadscore.features.synthetic import generate_crm
from leadscore.pipeline.cli import main

from .test_own_vocabulary import own_vocabulary
from tests.quick_training import QUICK_TRAINING

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """CSV files in the column order and with the blanks of an export; a config that names only the numeric column."""
    crm = generate_crm(4000, seed=11, months=30)
    folder = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(5)
    revenue = (crm.leads["company_size"].astype("float") * rng.lognormal(11.0, 0.5, len(crm.leads))).round(-3)
    revenue[rng.random(len(revenue)) < 0.2] = np.nan
    pd.DataFrame({"created_at": crm.leads["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "annual_revenue": revenue,
                  "lead_id": crm.leads["lead_id"]}).to_csv(folder / "leads.csv", index=False)
    activities = own_vocabulary(crm.activities).drop(columns=["channel"])
    activities["occurred_at"] = activities["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    activities.sample(frac=1.0, random_state=4).to_csv(folder / "activities.csv", index=False)  # in no order
    crm.opportunities.to_csv(folder / "opportunities.csv", index=False)
    (folder / "leadscore.yaml").write_text(yaml.safe_dump({
        **QUICK_TRAINING, "workdir": str(folder / "work"), "features": {"extra_lead_columns": {"annual_revenue": "numeric"}}}),
        encoding="utf-8")
    return folder


def test_a_crm_with_its_own_vocabulary_and_two_lead_columns_runs_every_command(export, capsys):
    config = ["--config", str(export / "leadscore.yaml")]
    assert main(["validate", "--data", str(export), *config]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "Follow-up call" in shown and "undeclared" in shown

    assert main(["train", "--data", str(export), "--promote", *config]) == 0
    manifest = json.loads(next((export / "work" / "models").rglob("manifest.json")).read_text())
    names = manifest["features"]["names"]
    recorded = manifest["feature_settings"]["features"]
    assert len(recorded["present_activity_types"]) >= 20 and not set(recorded["present_activity_types"]) & set(ACTIVITY_TYPES)
    assert manifest["features"]["dtypes"]["attr_annual_revenue"] == "number"
    assert "seniority" not in names and "company_size_band" not in names  # no feature from a column the CRM lacks
    assert {"type_follow_up_call_count_30d", "type_status_changed_count_all"} <= set(names)
    metrics = json.loads(sorted((export / "work" / "reports").glob("*/metrics.json"))[-1].read_text())["metrics"]
    assert metrics["model"]["roc_auc"] > 0.6 and 0 <= metrics["model"]["ece"] < 0.05 and "roc_auc" in metrics["rule"]

    assert main(["evaluate", "--data", str(export), "--out", str(export / "eval"), *config]) == 0
    assert main(["score", "--data", str(export), "--out", str(export / "scores.parquet"), *config]) == 0
    scores = pd.read_parquet(export / "scores.parquet")
    assert len(scores) > 0 and scores["probability"].between(0, 1).all()
    assert "unopened emails" not in " ".join(scores["reasons_model_down"].explode().dropna())
