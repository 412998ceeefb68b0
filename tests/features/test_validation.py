"""Bad CRM input: every case stops with exit code 2 and a message naming file, column and rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from leadscore.features.loaders import load_crm
from leadscore.pipeline.cli import main
from leadscore.pipeline.errors import BadInputError

NOW = pd.Timestamp("2025-01-01", tz="UTC")

LEADS = """lead_id,created_at,email,job_title,seniority,department,company_name,company_size,industry,country,lead_source
L1,2024-01-05T10:00:00Z,ann@acme.com,VP Marketing,vp,marketing,Acme,500,software,US,referral
L2,2024-02-01 09:30:00,bob@gmail.com,Student,student,,,,education,DE,organic
L3,2024-03-01,cy@beta.io,IT Manager,manager,it,Beta,40,retail,FR,paid_search
"""
ACTIVITIES = """lead_id,occurred_at,activity_type,channel,value,asset_id
L1,2024-01-06T10:00:00Z,web_visit,online,120,
L1,2024-01-07T10:00:00+02:00,content_download,online,,A001
L2,2024-02-02T10:00:00Z,email_sent,online,,C001
L3,2024-03-05T08:00:00Z,event_attended,offline,,E001
"""
OPPORTUNITIES = """opportunity_id,lead_id,created_at,closed_at,outcome,amount
O1,L1,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,won,12000
O2,L3,2024-04-01T00:00:00Z,,open,
"""


def _crm(tmp_path: Path, leads=LEADS, activities=ACTIVITIES, opportunities=OPPORTUNITIES) -> Path:
    for name, text in (("leads", leads), ("activities", activities), ("opportunities", opportunities)):
        if text is not None:
            (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def _fails(folder: Path, *fragments: str) -> str:
    with pytest.raises(BadInputError) as err:
        load_crm(folder, now=NOW)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_a_valid_crm_loads_with_contract_types_and_utc_times(tmp_path):
    crm = load_crm(_crm(tmp_path), now=NOW)
    leads = crm.table("leads").set_index("lead_id")
    acts = crm.table("activities")
    assert str(acts["occurred_at"].dtype) == "datetime64[us, UTC]"
    # an offset timestamp is converted to UTC; naive and date-only values are read as UTC
    assert acts.loc[acts["activity_type"] == "content_download", "occurred_at"].iloc[0] == pd.Timestamp("2024-01-07T08:00Z")
    assert leads.loc["L2", "created_at"] == pd.Timestamp("2024-02-01T09:30Z")
    assert leads.loc["L3", "created_at"] == pd.Timestamp("2024-03-01T00:00Z")
    assert pd.isna(leads.loc["L2", "company_size"]) and leads.loc["L1", "company_size"] == 500
    assert crm.summary["leads_rows"] == 3 and crm.summary["duplicate_activities_dropped"] == 0


def test_missing_file(tmp_path):
    _fails(_crm(tmp_path, opportunities=None), str(tmp_path), "no opportunities file")


def test_empty_file(tmp_path):
    (tmp_path / "leads.csv").write_text("")
    _crm(tmp_path, leads=None)
    _fails(tmp_path, "leads.csv")


def test_header_only_leads_is_empty(tmp_path):
    _fails(_crm(tmp_path, leads=LEADS.splitlines()[0] + "\n",
                activities="lead_id,occurred_at,activity_type,channel\n", opportunities="opportunity_id,lead_id,created_at,closed_at,outcome\n"),
           "leads.csv", "the leads table is empty")


def test_missing_columns_are_named(tmp_path):
    broken = ACTIVITIES.replace("activity_type,", "kind,")
    _fails(_crm(tmp_path, activities=broken), "activities.csv", "missing required column activity_type", "found columns: lead_id, occurred_at, kind")


def test_wrong_delimiter_is_recognised(tmp_path):
    _fails(_crm(tmp_path, leads=LEADS.replace(",", ";")), "leads.csv", "missing required columns", "';'-separated")


def test_extra_lead_columns_are_kept(tmp_path):
    leads = LEADS.replace("lead_source\n", "lead_source,budget\n").replace("referral\n", "referral,high\n") \
        .replace("organic\n", "organic,low\n").replace("paid_search\n", "paid_search,\n")
    crm = load_crm(_crm(tmp_path, leads=leads), now=NOW)
    assert crm.table("leads").set_index("lead_id").loc["L1", "budget"] == "high"


def test_a_bom_is_accepted(tmp_path):
    _crm(tmp_path)
    (tmp_path / "leads.csv").write_bytes(b"\xef\xbb\xbf" + LEADS.encode())
    assert load_crm(tmp_path, now=NOW).summary["leads_rows"] == 3


def test_non_utf8_text_names_the_line(tmp_path):
    _crm(tmp_path)
    (tmp_path / "leads.csv").write_bytes(LEADS.replace("Acme", "Acm\xe9").encode("latin-1"))
    _fails(tmp_path, "leads.csv", "line 2 is not UTF-8")


def test_wrong_types_name_the_rows(tmp_path):
    _fails(_crm(tmp_path, leads=LEADS.replace(",500,", ",five hundred,")), "leads.csv", "column 'company_size'",
           "1 value that is not a whole number", "row 1", "'five hundred'")
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace(",120,", ",lots,")), "activities.csv", "column 'value'", "'lots'")


def test_a_fraction_in_a_whole_number_column_is_an_error_not_rounded(tmp_path):
    _fails(_crm(tmp_path, leads=LEADS.replace(",500,", ",12.5,")), "leads.csv", "column 'company_size'",
           "1 value that is not a whole number", "row 1", "'12.5'")
    leads = load_crm(_crm(tmp_path, leads=LEADS.replace(",500,", ",500.0,")), now=NOW).table("leads").set_index("lead_id")
    assert leads.loc["L1", "company_size"] == 500


def test_mixed_timestamp_formats_and_unparseable_ones(tmp_path):
    bad = ACTIVITIES.replace("2024-02-02T10:00:00Z", "02/02/2024").replace("2024-03-05T08:00:00Z", "yesterday")
    _fails(_crm(tmp_path, activities=bad), "activities.csv", "column 'occurred_at' has 2 values that are not timestamps",
           "rows 3, 4", "'02/02/2024'", "'yesterday'")


def test_future_timestamps(tmp_path):
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace("2024-03-05T08:00:00Z", "2030-01-01T00:00:00Z")),
           "activities.csv", "future timestamp in column 'occurred_at'", "row 4")


def test_duplicate_keys(tmp_path):
    _fails(_crm(tmp_path, leads=LEADS.replace("L3,", "L1,")), "leads.csv", "a repeated lead_id (column 'lead_id' must be unique) in 2 rows", "row 1", "row 3")
    _fails(_crm(tmp_path, opportunities=OPPORTUNITIES.replace("O2,", "O1,")), "opportunities.csv", "a repeated opportunity_id")


def test_activities_and_opportunities_for_unknown_leads(tmp_path):
    _fails(_crm(tmp_path, activities=ACTIVITIES + "L9,2024-03-05T08:00:00Z,web_visit,online,3,\n"),
           "activities.csv", "not in the leads table", "row 5 (lead_id L9)")
    _fails(_crm(tmp_path, opportunities=OPPORTUNITIES.replace("O2,L3", "O2,L7")), "opportunities.csv", "row 2 (lead_id L7)")


def test_closed_before_created_and_closed_outcome_without_date(tmp_path):
    _fails(_crm(tmp_path, opportunities=OPPORTUNITIES.replace("2024-03-01T00:00:00Z,won", "2024-01-01T00:00:00Z,won")),
           "opportunities.csv", "a close before the opportunity was created", "row 1")
    _fails(_crm(tmp_path, opportunities=OPPORTUNITIES.replace(",,open,", ",,lost,")), "opportunities.csv",
           "won or lost but no closed_at in 1 row:", "row 2")


def test_unknown_categories_and_empty_required_values(tmp_path):
    opportunities = OPPORTUNITIES + "O3,L1,2024-04-02T00:00:00Z,,pending,\nO4,L2,2024-04-03T00:00:00Z,,Pending ,\nO5,L2,2024-04-03T00:00:00Z,,stalled,\n"
    _fails(_crm(tmp_path, opportunities=opportunities), "opportunities.csv",
           "column 'outcome' has 3 unknown values: 'Pending' (1 row), 'pending' (1 row), 'stalled' (1 row); allowed: won, lost, open")
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace("online", "web")), "activities.csv",
           "column 'channel' has 3 unknown values: 'web' (3 rows); allowed: online, offline")
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace("L3,2024-03-05", ",2024-03-05")), "activities.csv",
           "column 'lead_id' is empty in 1 row", "row 4")


def test_any_activity_type_is_valid_and_channel_is_optional(tmp_path):
    """A CRM's own type names are kept as written; built-in names in any case mean the built-in type."""
    own = ACTIVITIES.replace("web_visit", "Follow-up call").replace("content_download", "Email_Sent")
    crm = load_crm(_crm(tmp_path, activities=own), now=NOW)
    assert crm.summary["activity_types"] == {"Follow-up call": 1, "email_sent": 2, "event_attended": 1}
    no_channel = "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 3) for line in ACTIVITIES.splitlines()) + "\n"
    crm = load_crm(_crm(tmp_path, activities=no_channel), now=NOW)
    assert crm.table("activities")["channel"].isna().all()
    assert crm.summary["activity_channels"]["web_visit"] == {"none": 1}


def test_large_values_parse_and_overflowing_or_infinite_ones_are_rejected(tmp_path):
    crm = load_crm(_crm(tmp_path, activities=ACTIVITIES.replace(",120,", ",1e14,")), now=NOW)
    assert crm.table("activities")["value"].max() == 1e14
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace(",120,", ",1e300,")), "activities.csv", "beyond ±1e+15", "row 1")
    _fails(_crm(tmp_path, activities=ACTIVITIES.replace(",120,", ",inf,")), "activities.csv", "infinite or NaN", "row 1")


def test_exact_duplicate_activities_are_dropped_and_counted(tmp_path):
    crm = load_crm(_crm(tmp_path, activities=ACTIVITIES + ACTIVITIES.splitlines()[1] + "\n"), now=NOW)
    assert crm.summary["duplicate_activities_dropped"] == 1
    assert crm.summary["activities_rows"] == 5 and len(crm.table("activities")) == 4


def test_leads_with_no_activity_are_fine(tmp_path):
    crm = load_crm(_crm(tmp_path, activities="lead_id,occurred_at,activity_type,channel\n"), now=NOW)
    assert len(crm.table("activities")) == 0


def test_gzipped_and_parquet_and_duckdb_sources(tmp_path, synthetic_dir):
    folder = tmp_path / "gz"
    folder.mkdir()
    _crm(folder)
    data = (folder / "activities.csv").read_bytes()
    (folder / "activities.csv").unlink()
    (folder / "activities.csv.gz").write_bytes(gzip.compress(data))
    assert load_crm(folder, now=NOW).summary["activities_rows"] == 4
    assert load_crm(synthetic_dir).summary["leads_rows"] == 3000
    import duckdb

    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    for name in ("leads", "activities", "opportunities"):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{synthetic_dir / (name + '.parquet')}')")
    con.close()
    assert load_crm(path).summary["activities_rows"] == load_crm(synthetic_dir).summary["activities_rows"]


def test_validate_command_exits_2_with_one_paragraph(tmp_path, capsys):
    assert main(["validate", "--data", str(_crm(tmp_path))]) == 0
    _crm(tmp_path, leads=LEADS.replace(",500,", ",many,"))
    assert main(["validate", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "leads.csv: column 'company_size'" in err.replace("\n", " ") and "Traceback" not in err


def test_columns_outside_the_contract_are_named_not_silently_dropped(tmp_path, capsys):
    lines = ACTIVITIES.splitlines()
    activities = "\n".join([lines[0] + ",campaign"] + [line + ",spring" for line in lines[1:]]) + "\n"
    crm = load_crm(_crm(tmp_path, activities=activities), now=NOW)
    assert crm.summary["ignored_columns"] == {"activities": ["campaign"], "opportunities": []}
    assert main(["validate", "--data", str(tmp_path)]) == 0
    assert "not read: activities.campaign" in capsys.readouterr().out.replace("\n", " ")


def test_validate_prints_ignored_column_names_as_written_not_as_markup(tmp_path, capsys):
    """Brackets in a header are text: '[internal]' is not dropped as a style, '[/x]' does not crash the command."""
    lines = ACTIVITIES.splitlines()
    activities = "\n".join([lines[0] + ",notes [internal],a[/x]"] + [line + ",n,m" for line in lines[1:]]) + "\n"
    assert main(["validate", "--data", str(_crm(tmp_path, activities=activities))]) == 0
    assert "not read: activities.notes [internal], activities.a[/x]" in capsys.readouterr().out.replace("\n", " ")


def test_an_error_quoting_markup_like_data_prints_it_as_written(tmp_path, capsys):
    _crm(tmp_path, leads=LEADS.replace(",500,", ",[/x],"))
    assert main(["validate", "--data", str(tmp_path)]) == 2
    assert "('[/x]')" in capsys.readouterr().err.replace("\n", " ")


def test_parquet_with_native_types_is_typed_without_text_and_still_checked(tmp_path):
    """Typed Parquet columns skip the text round trip, but required and allowed-value checks still run."""
    _crm(tmp_path)
    for name in ("leads", "activities", "opportunities"):
        frame = pd.read_csv(tmp_path / f"{name}.csv")
        for column in ("created_at", "occurred_at", "closed_at"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        (tmp_path / f"{name}.csv").unlink()
    crm = load_crm(tmp_path, now=NOW)
    assert crm.summary["activities_rows"] == 4
    assert str(crm.table("activities")["occurred_at"].dtype).startswith("datetime64")
    acts = pd.read_parquet(tmp_path / "activities.parquet")
    acts.loc[2, "occurred_at"] = pd.NaT
    acts.to_parquet(tmp_path / "activities.parquet", index=False)
    _fails(tmp_path, "activities.parquet", "'occurred_at' is empty in 1 row", "row 3")


def test_an_unsigned_64_bit_count_beyond_bigint_is_named_not_a_crash(tmp_path):
    """Parquet may store counts as uint64; one past BIGINT's range must be a named row, not a conversion error."""
    _crm(tmp_path)
    leads = pd.read_csv(tmp_path / "leads.csv")
    leads["company_size"] = leads["company_size"].fillna(0).astype("uint64")
    (tmp_path / "leads.csv").unlink()
    leads.to_parquet(tmp_path / "leads.parquet", index=False)
    assert load_crm(tmp_path, now=NOW).table("leads")["company_size"].max() == leads["company_size"].max()
    leads.loc[1, "company_size"] = 2**64 - 1
    leads.to_parquet(tmp_path / "leads.parquet", index=False)
    _fails(tmp_path, "leads.parquet", "column 'company_size'", "row 2", "'18446744073709551615'")


_TOO_OLD = {
    # (table, column): (a timestamp in the fixture, an absurd one in its place, the row it is in)
    ("leads", "created_at"): ("2024-03-01,", "0024-03-01,", 3),  # a typo in the year
    ("activities", "occurred_at"): ("2024-02-02T10:00:00Z", "1970-01-01T00:00:00Z", 3),  # the Unix epoch as "unknown"
    ("opportunities", "created_at"): ("2024-02-01T00:00:00Z", "1899-12-30", 1),  # a spreadsheet's day zero
    ("opportunities", "closed_at"): ("2024-03-01T00:00:00Z", "0001-01-01T00:00:00Z", 1),
}


def test_every_timestamp_column_of_the_contract_has_a_too_old_case():
    from leadscore.features.contract import TABLES

    assert set(_TOO_OLD) == {(t.name, c.name) for t in TABLES for c in t.columns if c.dtype == "timestamp"}


@pytest.mark.parametrize(("table", "column"), sorted(_TOO_OLD))
def test_timestamps_before_1990_are_rejected_naming_file_column_and_row(tmp_path, table, column):
    good, bad, row = _TOO_OLD[(table, column)]
    texts = {"leads": LEADS, "activities": ACTIVITIES, "opportunities": OPPORTUNITIES}
    assert texts[table].count(good) == 1
    texts[table] = texts[table].replace(good, bad)
    _fails(_crm(tmp_path, **texts), f"{table}.csv:", f"a timestamp before 1990-01-01 in column '{column}'",
           f": row {row} ({column} {bad[:4]}")


def test_the_oldest_timestamp_accepted_is_1990_01_01(tmp_path):
    crm = load_crm(_crm(tmp_path, leads=LEADS.replace("2024-03-01,", "1990-01-01T00:00:00Z,")), now=NOW)
    assert crm.table("leads")["created_at"].min() == pd.Timestamp("1990-01-01", tz="UTC")
    _fails(_crm(tmp_path, leads=LEADS.replace("2024-03-01,", "1989-12-31T23:59:59Z,")), "leads.csv", "before 1990-01-01", "row 3")


def test_validate_lists_every_activity_type_with_its_rows_and_role_and_a_yaml_section_for_the_undeclared(tmp_path, capsys):
    own = (ACTIVITIES.replace("web_visit", "Follow-up call").replace("content_download", "Mail sent")
           + "L1,2024-01-08T10:00:00Z,Follow-up call,online,,\nL2,2024-02-03T10:00:00Z,Documents sent,,,\n")
    config = tmp_path / "vocabulary.yaml"
    config.write_text('features:\n  activity_types:\n    "Mail sent": {role: email_sent}\n'
                      '    "Follow-up call": {label: follow-up call, channel: offline}\n', encoding="utf-8")
    assert main(["validate", "--data", str(_crm(tmp_path, activities=own)), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    lines = [" ".join(line.replace("│", " ").split()) for line in captured.out.splitlines()]
    assert "Follow-up call 2 custom declared follow-up call implicit offline none" in lines
    assert "Mail sent 1 email_sent declared email sent implicit online none" in lines
    assert "Documents sent 1 custom undeclared: custom Documents sent implicit online none" in lines
    assert "email_sent 1 email_sent built-in email sent implicit online none" in lines
    snippet = captured.out[captured.out.index("features:\n"):]
    import yaml
    section = yaml.safe_load(snippet.split("\n\n")[0])
    assert section == {"features": {"activity_types": {"Documents sent": {
        "label": "Documents sent", "role": "custom", "family": "implicit", "channel": "online", "value": "none"}}}}
    warning = " ".join(captured.err.split())
    assert ("activities.csv: column 'channel' contradicts the declared channel 'offline' of activity type 'Follow-up call' "
            "in 2 rows (row 1, row 5)") in warning
