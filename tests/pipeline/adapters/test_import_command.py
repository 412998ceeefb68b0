"""`leadscore import`: the written tables read back equal to the mapped frames; bad exports exit 2 naming file and column."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from leadscore.features.loaders import load_crm
from leadscore.pipeline.adapters.exports import ImportResult, write_import
from leadscore.pipeline.adapters.hubspot import from_hubspot, read_hubspot
from leadscore.pipeline.adapters.salesforce import from_salesforce, read_salesforce
from leadscore.pipeline.cli import main
from leadscore.pipeline.errors import BadInputError
from tests.pipeline.adapters.conftest import HERE, assert_meets_contract_columns

VENDORS = {"salesforce": ("salesforce_export", from_salesforce, read_salesforce),
           "hubspot": ("hubspot_export", from_hubspot, read_hubspot)}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_an_import_round_trips_its_tables_and_vocabulary(vendor, fmt, tmp_path, capsys):
    folder, mapper, reader = VENDORS[vendor]
    out = tmp_path / "crm"
    assert main(["import", vendor, str(HERE / folder), "--out", str(out), "--format", fmt]) == 0
    expected = mapper(reader(HERE / folder))
    for name in ("leads", "activities", "opportunities"):
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            written = pd.read_parquet(path)
        else:
            written = pd.read_csv(path, dtype=str, keep_default_na=False)
            written = _typed_like(written, getattr(expected, name))
        pd.testing.assert_frame_equal(written, getattr(expected, name), check_dtype=fmt == "parquet")
    if fmt == "parquet":
        assert_meets_contract_columns({n: pd.read_parquet(out / f"{n}.parquet") for n in ("leads", "activities", "opportunities")})
    settings = yaml.safe_load((out / "leadscore.yaml").read_text())
    declared = settings["features"]["activity_types"]
    assert set(declared) == set(expected.activities["activity_type"])
    assert all(set(d) == {"label", "role", "family", "channel", "value"} for d in declared.values())
    printed = capsys.readouterr().out
    assert "not imported" in printed and "leadscore.yaml" in printed


def _typed_like(text: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Return a CSV read as text with the types of `like`: what the contract's CSV loader does."""
    typed = {}
    for column in like.columns:
        values = text[column].where(text[column] != "")
        dtype = str(like[column].dtype)
        if dtype.startswith("datetime"):
            typed[column] = pd.to_datetime(values, utc=True, format="ISO8601").astype(dtype)
        elif dtype in ("float64", "Int64"):
            typed[column] = pd.to_numeric(values).astype(dtype)
        else:
            typed[column] = values.astype(dtype)
    return pd.DataFrame(typed)


@pytest.mark.parametrize(("vendor", "remove", "message"), [
    ("salesforce", "Lead.csv", "no Salesforce Lead export (Lead.csv) in this folder"),
    ("salesforce", "Opportunity.csv", "no Salesforce Opportunity export (Opportunity.csv)"),
    ("hubspot", "hubspot-crm-exports-all-deals-2024-05-01.csv", "no HubSpot deals export (deals.csv)"),
])
def test_a_missing_export_file_exits_2_naming_it(vendor, remove, message, export_copy, tmp_path, capsys):
    folder = export_copy(VENDORS[vendor][0])
    (folder / remove).unlink()
    assert main(["import", vendor, str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("vendor", "file", "column"), [
    ("salesforce", "Task.csv", "WhoId"),
    ("salesforce", "CampaignMember.csv", "Status"),
    ("salesforce", "Opportunity.csv", "IsWon"),
    ("hubspot", "calls.csv", "Associated Contact IDs"),
    ("hubspot", "hubspot-crm-exports-all-contacts-2024-05-01.csv", "Create Date"),
])
def test_a_missing_required_column_exits_2_naming_the_file_and_column(vendor, file, column, export_copy, tmp_path, capsys):
    folder = export_copy(VENDORS[vendor][0])
    frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    frame.drop(columns=[column]).to_csv(folder / file, index=False)
    assert main(["import", vendor, str(folder), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{file}: missing column '{column}'" in err


def test_an_unknown_vendor_is_refused_before_reading(tmp_path, capsys):
    assert main(["import", "pipedrive", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "pipedrive" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_the_written_tables_pass_the_contract_validator_once_types_are_their_roles(vendor, fmt, tmp_path):
    """Check timestamps, keys, outcomes and channels with the real loader, on tables the built-in contract accepts.

    Each raw type is replaced by its role (a custom one by web_visit) and the lead columns the
    export has no field for are added empty; everything else is the adapter's output as written.
    """
    folder, mapper, reader = VENDORS[vendor]
    result = mapper(reader(HERE / folder))
    roles = {name: ("web_visit" if t.role == "custom" else t.role) for name, t in result.vocabulary.items()}
    as_roles = ImportResult(result.leads.assign(seniority=pd.NA, department=pd.NA),
                            result.activities.assign(activity_type=result.activities["activity_type"].map(roles)),
                            result.opportunities, {}, [])
    write_import(as_roles, tmp_path, vendor, fmt)
    crm = load_crm(tmp_path, now=pd.Timestamp("2030-01-01", tz="UTC"))
    assert crm.summary["leads_rows"] == len(result.leads) and crm.summary["opportunities_rows"] == len(result.opportunities)
    assert crm.summary["activities_rows"] == len(result.activities) and crm.summary["duplicate_activities_dropped"] == 0


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_an_imported_crm_validates_as_written_with_its_vocabulary(vendor, tmp_path, capsys):
    """The import's own types and its leads table without seniority or department load as they are."""
    folder, _, _ = VENDORS[vendor]
    assert main(["import", vendor, str(HERE / folder), "--out", str(tmp_path)]) == 0
    crm = load_crm(tmp_path, now=pd.Timestamp("2030-01-01", tz="UTC"))
    written = pd.read_parquet(tmp_path / "activities.parquet")
    # a built-in name in any case means its role ('Meeting' is loaded as 'meeting'); the CRM's own names stay as written
    assert {t.lower() for t in crm.summary["activity_types"]} == {t.lower() for t in written["activity_type"]}
    capsys.readouterr()
    assert main(["validate", "--data", str(tmp_path), "--config", str(tmp_path / "leadscore.yaml")]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "undeclared" not in printed  # every type the import wrote is declared in its leadscore.yaml


@pytest.mark.parametrize(("vendor", "zone", "message"), [
    ("hubspot", "Mars/Olympus", "--timezone Mars/Olympus: not a time zone"),
    ("salesforce", "Europe/Lisbon", "a Salesforce export writes every time in UTC"),
])
def test_a_bad_time_zone_is_refused_before_reading(vendor, zone, message, tmp_path, capsys):
    assert main(["import", vendor, str(HERE / VENDORS[vendor][0]), "--out", str(tmp_path / "out"), "--timezone", zone]) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out").exists()
