"""A CRM whose leads table holds only lead_id, created_at and one number runs every command end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.features.synthetic import generate_crm
from leadscore.pipeline.cli import main
from tests.quick_training import QUICK_TRAINING

pytestmark = pytest.mark.slow

LEAD_RULES = {"senior_title", "target_company_size", "referral_or_event_source", "student", "competitor", "personal_email"}
"""The packaged points table's rules on lead columns this CRM lacks; the table the test writes keeps the others."""


@pytest.fixture(scope="module")
def minimal_crm(tmp_path_factory):
    """A generated CRM exported with only the lead id, the creation time and annual revenue (blank for some leads)."""
    crm = generate_crm(4000, seed=21, months=30)
    folder = tmp_path_factory.mktemp("minimal-crm")
    rng = np.random.default_rng(3)
    revenue = (crm.leads["company_size"].astype("float") * rng.lognormal(11.5, 0.4, len(crm.leads))).round(-3)
    revenue[rng.random(len(revenue)) < 0.15] = np.nan  # unknown to the CRM: a blank cell
    leads = pd.DataFrame({"annual_revenue": revenue, "lead_id": crm.leads["lead_id"],
                          "created_at": crm.leads["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")})
    leads.to_csv(folder / "leads.csv", index=False)
    crm.activities.to_parquet(folder / "activities.parquet", index=False)
    crm.opportunities.to_parquet(folder / "opportunities.parquet", index=False)
    table = yaml.safe_load(open(_packaged_points_table(), encoding="utf-8"))
    table["rules"] = [rule for rule in table["rules"] if rule["id"] not in LEAD_RULES]
    table["name"] = "activity only"
    (folder / "points.yaml").write_text(yaml.safe_dump(table), encoding="utf-8")
    (folder / "leadscore.yaml").write_text(yaml.safe_dump({
        **QUICK_TRAINING, "workdir": str(folder / "work"), "points_table": str(folder / "points.yaml"),
        "features": {"extra_lead_columns": {"annual_revenue": "numeric"}}}), encoding="utf-8")
    return folder


def _packaged_points_table():
    from importlib import resources

    return resources.files("leadscore.models").joinpath("conf/points.yaml")


def test_validate_train_evaluate_and_score_run_on_a_minimal_leads_table(minimal_crm, capsys):
    config = ["--config", str(minimal_crm / "leadscore.yaml")]
    assert main(["validate", "--data", str(minimal_crm), *config]) == 0
    assert main(["train", "--data", str(minimal_crm), "--promote", *config]) == 0
    reports = sorted((minimal_crm / "work" / "reports").glob("*/metrics.json"))
    metrics = json.loads(reports[-1].read_text())["metrics"]
    assert metrics["model"]["roc_auc"] > 0.6 and metrics["rule"]["roc_auc"] > 0.5
    assert 0 <= metrics["model"]["ece"] < 0.05

    manifest = json.loads(next((minimal_crm / "work").rglob("manifest.json")).read_text())
    assert manifest["feature_settings"]["features"]["lead_columns"] == []
    features = {f["name"]: f for f in manifest["features"]} if isinstance(manifest["features"], list) else manifest["features"]
    assert "attr_annual_revenue" in json.dumps(features) and "seniority" not in json.dumps(features)

    evaluated = minimal_crm / "evaluated"
    assert main(["evaluate", "--data", str(minimal_crm), "--out", str(evaluated), *config]) == 0
    slices = json.loads((evaluated / "metrics.json").read_text())["slices"]
    assert {row["slice"] for row in slices} == {"all"}  # no source, country or company size to slice by

    scores = minimal_crm / "scores.parquet"
    assert main(["score", "--data", str(minimal_crm), "--out", str(scores), *config]) == 0
    scored = pd.read_parquet(scores)
    assert len(scored) > 0 and scored["probability"].between(0, 1).all()
    err = capsys.readouterr().err
    assert "config differs" not in err  # the recorded lead columns are those of this CRM, no change of settings


def test_scoring_without_a_column_the_model_was_trained_with_is_a_schema_mismatch(minimal_crm, tmp_path, capsys):
    config = ["--config", str(minimal_crm / "leadscore.yaml")]
    if not (minimal_crm / "work" / "mlflow.db").exists():
        assert main(["train", "--data", str(minimal_crm), "--promote", *config]) == 0
    for name in ("activities.parquet", "opportunities.parquet"):
        (tmp_path / name).symlink_to(minimal_crm / name)
    pd.read_csv(minimal_crm / "leads.csv").drop(columns=["annual_revenue"]).to_csv(tmp_path / "leads.csv", index=False)
    capsys.readouterr()
    assert main(["score", "--data", str(tmp_path), "--out", str(tmp_path / "scores.parquet"), *config]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "leads.csv: model" in err and "'annual_revenue', which the leads table lacks" in err
    assert not (tmp_path / "scores.parquet").exists()


def test_the_points_table_check_names_the_rules_on_lead_features_the_crm_does_not_produce(minimal_crm):
    from leadscore.features.lead_columns import fit_lead_columns
    from leadscore.features.loaders import load_crm
    from leadscore.features.registry import all_features
    from leadscore.features.settings import FeatureSettings
    from leadscore.models.rules.table import check_against_registry, load_points_table
    from leadscore.pipeline.errors import BadInputError

    crm = load_crm(minimal_crm)
    settings, _ = fit_lead_columns(crm, FeatureSettings(features={"extra_lead_columns": {"annual_revenue": "numeric"}}))
    registry = {f.name: f for f in all_features(settings)}
    check_against_registry(load_points_table(minimal_crm / "points.yaml"), registry)
    with pytest.raises(BadInputError, match="seniority"):
        check_against_registry(load_points_table(None), registry)


def test_validate_features_list_and_rules_check_speak_of_the_crm_s_own_lead_columns(minimal_crm, capsys):
    config = ["--config", str(minimal_crm / "leadscore.yaml")]
    capsys.readouterr()
    assert main(["validate", "--data", str(minimal_crm), *config]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "lacks (no features from them): email, job_title, seniority" in shown
    assert "extra lead columns used: annual_revenue (numeric)" in shown
    assert main(["features", "--list", "--data", str(minimal_crm), *config]) == 0
    listed = capsys.readouterr().out
    assert "attr_annual_revenue" in listed and "lead_age_days" in listed
    assert "seniority" not in listed and "is_personal_email" not in listed
    assert main(["rules", "--check", "--data", str(minimal_crm), *config]) == 0
    assert main(["rules", "--check", "--data", str(minimal_crm), "--table", str(_packaged_points_table())]) == 2
    assert "seniority" in capsys.readouterr().err
