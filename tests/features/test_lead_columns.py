"""Optional lead columns: a missing contract column gives no feature; extra columns are used as declared and checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.errors import BadInputError, DeclarationError
from leadscore.features.lead_columns import fit_lead_columns
from leadscore.features.loaders import load_crm
from leadscore.features.registry import all_features, feature_names
from leadscore.features.settings import FeatureSettings
from leadscore.pipeline.cli import main

NOW = pd.Timestamp("2025-01-01", tz="UTC")

# a minimal export in its own column order: one number, blank where the CRM does not know it, then the id and creation time
MINIMAL_LEADS = """annual_revenue,lead_id,created_at
1200000,00Q5e000001AbCdEAK,2024-01-05T10:00:00Z
,00Q5e000001AbCeEAK,2024-02-01 09:30:00
 85000.50 ,00Q5e000001AbCfEAK,2024-03-01
"""
ACTIVITIES = """lead_id,occurred_at,activity_type,channel,value,asset_id
00Q5e000001AbCdEAK,2024-01-06T10:00:00Z,web_visit,online,120,
00Q5e000001AbCdEAK,2024-01-07T10:00:00+02:00,content_download,online,,A001
00Q5e000001AbCeEAK,2024-02-02T10:00:00Z,email_sent,online,,C001
"""
OPPORTUNITIES = """opportunity_id,lead_id,created_at,closed_at,outcome,amount
006A,00Q5e000001AbCdEAK,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,won,12000
"""
FULL_LEADS = """lead_id,created_at,email,job_title,seniority,department,company_name,company_size,industry,country,lead_source
00Q5e000001AbCdEAK,2024-01-05T10:00:00Z,ann@acme.com,VP Marketing,vp,marketing,Acme,500,software,US,referral
00Q5e000001AbCeEAK,2024-02-01 09:30:00,bob@gmail.com,Student,student,,,,education,DE,organic
00Q5e000001AbCfEAK,2024-03-01,cy@beta.io,IT Manager,manager,it,Beta,40,retail,FR,paid_search
"""
LEAD_COLUMN_FEATURES = {"seniority", "title_bucket", "department", "company_size_band", "company_employees", "industry",
                        "country", "lead_source", "is_business_email", "is_student", "is_competitor", "is_personal_email"}


def _crm(folder: Path, leads: str) -> Path:
    for name, text in (("leads", leads), ("activities", ACTIVITIES), ("opportunities", OPPORTUNITIES)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _settings(**features) -> FeatureSettings:
    return FeatureSettings(features={"plugin_entry_points": False, **features})


def _snapshots(*dates: str) -> pd.DataFrame:
    ids = ["00Q5e000001AbCdEAK", "00Q5e000001AbCeEAK", "00Q5e000001AbCfEAK"]
    return pd.DataFrame([(i, pd.Timestamp(d, tz="UTC")) for d in dates for i in ids], columns=["lead_id", "as_of"])


def test_a_leads_table_with_only_id_creation_and_a_number_gives_the_number_and_no_lead_column_feature(tmp_path):
    crm = load_crm(_crm(tmp_path, MINIMAL_LEADS), now=NOW)
    settings, warnings = fit_lead_columns(crm, _settings(extra_lead_columns={"annual_revenue": "numeric"}))
    assert settings.features.lead_columns == () and warnings == []
    assert not LEAD_COLUMN_FEATURES & set(feature_names(settings))
    frame = build_features(crm, _snapshots("2024-03-02"), settings).set_index("lead_id")
    assert frame["attr_annual_revenue"].dtype == np.float64
    assert frame["attr_annual_revenue"].to_dict() == pytest.approx(
        {"00Q5e000001AbCdEAK": 1_200_000.0, "00Q5e000001AbCeEAK": np.nan, "00Q5e000001AbCfEAK": 85_000.5}, nan_ok=True)
    assert frame.loc["00Q5e000001AbCdEAK", "content_download_count_90d"] == 1  # the activities build as with every column


def test_a_full_leads_table_keeps_every_feature(tmp_path):
    crm = load_crm(_crm(tmp_path, FULL_LEADS), now=NOW)
    settings, _ = fit_lead_columns(crm, _settings())
    assert settings == _settings()  # a full leads table records no list of columns: unset means every one
    assert feature_names(settings) == feature_names(_settings())
    assert LEAD_COLUMN_FEATURES <= set(feature_names(settings))


def test_a_leads_table_missing_some_columns_drops_only_their_features(tmp_path):
    leads = pd.read_csv(pd.io.common.StringIO(FULL_LEADS)).drop(columns=["seniority", "email", "company_name"])
    crm = load_crm(_crm(tmp_path, leads.to_csv(index=False)), now=NOW)
    settings, _ = fit_lead_columns(crm, _settings())
    names = set(feature_names(settings))
    assert {"seniority", "is_business_email", "is_personal_email", "is_competitor"}.isdisjoint(names)
    assert {"title_bucket", "is_student", "company_size_band", "industry", "lead_source"} <= names
    frame = build_features(crm, _snapshots("2024-06-01"), settings).set_index("lead_id")
    assert frame.loc["00Q5e000001AbCeEAK", "is_student"]  # the job title alone still marks the student


def test_a_plug_in_reading_a_missing_lead_column_is_named():
    from leadscore.features.declarations import Feature
    from leadscore.features.registry import check_declarations

    feature = Feature("has_title", "explicit", "Has a title", "lead", "l.job_title IS NOT NULL", "bool", module="my_company.fit")
    with pytest.raises(DeclarationError, match=r"feature 'has_title' \(module my_company.fit\): reads l.job_title, which is not a column"):
        check_declarations([feature], _settings(lead_columns=["email"]))


def test_a_declared_extra_column_missing_from_the_leads_file_is_named(tmp_path):
    crm = load_crm(_crm(tmp_path, FULL_LEADS), now=NOW)
    with pytest.raises(BadInputError, match=r"leads.csv: no column 'annual_revenue' in the leads table.*found columns: lead_id, created_at"):
        fit_lead_columns(crm, _settings(extra_lead_columns={"annual_revenue": "numeric"}))


def test_a_missing_declared_extra_column_stops_the_command_with_exit_code_2(tmp_path, capsys):
    _crm(tmp_path, FULL_LEADS)
    (tmp_path / "config.yaml").write_text("features:\n  extra_lead_columns:\n    annual_revenue: numeric\n", encoding="utf-8")
    code = main(["features", "--data", str(tmp_path), "--out", str(tmp_path / "f.parquet"), "--as-of", "2024-06-01",
                 "--config", str(tmp_path / "config.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "leads.csv: no column 'annual_revenue'" in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "f.parquet").exists()


def test_a_numeric_extra_column_with_text_names_the_distinct_bad_values_with_counts(tmp_path):
    leads = FULL_LEADS.replace("lead_source\n", "lead_source,annual_revenue\n").replace("referral\n", "referral,n/a\n") \
        .replace("organic\n", "organic,\"1,200\"\n").replace("paid_search\n", "paid_search,n/a\n")
    crm = load_crm(_crm(tmp_path, leads), now=NOW)
    with pytest.raises(BadInputError) as raised:
        fit_lead_columns(crm, _settings(extra_lead_columns={"annual_revenue": "numeric"}))
    message = str(raised.value)
    assert "leads.csv: column 'annual_revenue' is declared numeric" in message
    assert "3 rows hold values that are not numbers: 'n/a' (2 rows), '1,200' (1 row)" in message


def test_a_boolean_extra_column_is_a_flag_and_other_words_are_named(tmp_path):
    leads = FULL_LEADS.replace("lead_source\n", "lead_source,Do_Not_Call\n").replace("referral\n", "referral,true\n") \
        .replace("organic\n", "organic,FALSE\n").replace("paid_search\n", "paid_search,\n")
    crm = load_crm(_crm(tmp_path, leads), now=NOW)
    settings, _ = fit_lead_columns(crm, _settings(extra_lead_columns={"Do_Not_Call": "boolean"}))
    frame = build_features(crm, _snapshots("2024-06-01"), settings).set_index("lead_id")
    assert frame["attr_Do_Not_Call"].to_dict() == {"00Q5e000001AbCdEAK": True, "00Q5e000001AbCeEAK": False, "00Q5e000001AbCfEAK": False}
    crm = load_crm(_crm(tmp_path, leads.replace(",true\n", ",maybe\n")), now=NOW)
    with pytest.raises(BadInputError, match=r"column 'Do_Not_Call' is declared boolean.*1 row hold.*'maybe' \(1 row\)"):
        fit_lead_columns(crm, _settings(extra_lead_columns={"Do_Not_Call": "boolean"}))


def test_a_date_extra_column_is_its_age_in_days_and_unseen_before_the_date(tmp_path):
    leads = FULL_LEADS.replace("lead_source\n", "lead_source,last_contract_date\n").replace("referral\n", "referral,2024-03-01\n") \
        .replace("organic\n", "organic,\n").replace("paid_search\n", "paid_search,2024-05-15T12:00:00Z\n")
    crm = load_crm(_crm(tmp_path, leads), now=NOW)
    settings, _ = fit_lead_columns(crm, _settings(extra_lead_columns={"last_contract_date": "date"}))
    frame = build_features(crm, _snapshots("2024-04-01", "2024-06-01"), settings)
    ages = frame.set_index(["lead_id", pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m-%d")])["attr_last_contract_date_age_days"]
    assert ages[("00Q5e000001AbCdEAK", "2024-04-01")] == pytest.approx(31.0)  # March has 31 days
    assert ages[("00Q5e000001AbCdEAK", "2024-06-01")] == pytest.approx(31 + 30 + 31)
    assert np.isnan(ages[("00Q5e000001AbCfEAK", "2024-04-01")])  # the date comes after this snapshot: it cannot see it
    assert ages[("00Q5e000001AbCfEAK", "2024-06-01")] == pytest.approx(16.5)
    assert ages[("00Q5e000001AbCeEAK", "2024-06-01")] != ages[("00Q5e000001AbCeEAK", "2024-06-01")]  # blank: NaN
    crm = load_crm(_crm(tmp_path, leads.replace(",2024-03-01\n", ",last spring\n")), now=NOW)
    with pytest.raises(BadInputError, match=r"declared date.*'last spring' \(1 row\)"):
        fit_lead_columns(crm, _settings(extra_lead_columns={"last_contract_date": "date"}))


def test_a_categorical_extra_column_with_too_many_levels_is_warned_about(tmp_path):
    leads = FULL_LEADS.replace("lead_source\n", "lead_source,territory\n").replace("referral\n", "referral,EMEA-1\n") \
        .replace("organic\n", "organic,EMEA-2\n").replace("paid_search\n", "paid_search,APAC-7\n")
    crm = load_crm(_crm(tmp_path, leads), now=NOW)
    _, warnings = fit_lead_columns(crm, _settings(extra_lead_columns={"territory": "categorical"}, max_category_levels=2))
    assert len(warnings) == 1
    assert "leads.csv: column 'territory'" in warnings[0] and "has 3 distinct values, more than features.max_category_levels (2)" in warnings[0]
    assert fit_lead_columns(crm, _settings(extra_lead_columns={"territory": "categorical"}))[1] == []


def test_the_list_form_of_extra_lead_columns_types_them_categorical():
    settings = _settings(extra_lead_columns=["budget"])
    assert settings.features.extra_lead_columns == {"budget": "categorical"}
    assert {f.name: f.dtype for f in all_features(settings)}["attr_budget"] == "category"
    with pytest.raises(ValueError, match="extra_lead_columns.budget"):
        _settings(extra_lead_columns={"budget": "money"})


def test_recorded_lead_columns_must_be_in_the_leads_table(tmp_path):
    crm = load_crm(_crm(tmp_path, FULL_LEADS.replace(",seniority,", ",level,")), now=NOW)
    with pytest.raises(BadInputError, match="no column 'seniority'"):
        fit_lead_columns(crm, _settings(lead_columns=["seniority", "industry"]))


def test_a_model_trained_on_every_lead_column_cannot_score_a_leads_table_without_one(tmp_path):
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.errors import SchemaMismatchError
    from leadscore.pipeline.lead_columns import for_crm

    crm = load_crm(_crm(tmp_path, FULL_LEADS.replace(",seniority,", ",level,")), now=NOW)
    with pytest.raises(SchemaMismatchError, match=r"leads.csv: model leadscore v3 was trained with the lead column 'seniority'"):
        for_crm(load_config(), crm, model="leadscore v3")
    assert for_crm(load_config(), crm).features.lead_columns == tuple(
        c for c in ("email", "job_title", "department", "company_name", "company_size", "industry", "country", "lead_source"))


def test_the_spark_contract_view_leaves_out_the_lead_columns_the_parquet_lacks():
    from leadscore.features.contract import LEADS
    from leadscore.features.spark import _contract_sql

    sql = _contract_sql(LEADS, {"lead_id": "string", "created_at": "timestamp", "annual_revenue": "double"}, "leads.parquet")
    assert "lead_id" in sql and "`annual_revenue`" in sql
    assert "seniority" not in sql and "email" not in sql  # absent, as in DuckDB's leads view, so no feature reads NULLs
