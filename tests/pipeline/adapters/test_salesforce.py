"""The Salesforce adapter maps Lead, Task, Event, CampaignMember, Campaign and Opportunity exports row by row."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.pipeline.adapters.salesforce import from_salesforce, read_salesforce
from leadscore.pipeline.errors import BadInputError
from tests.pipeline.adapters.conftest import HERE, assert_meets_contract_columns

EXPORT = HERE / "salesforce_export"
ANA, KEN, LUC = "00Q5g000001AbcDEAS", "00Q5g000001AbcFEAS", "00Q5g000001AbcGEAS"


@pytest.fixture(scope="module")
def imported():
    return from_salesforce(read_salesforce(EXPORT))


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def test_leads_take_the_documented_lead_fields_with_timestamps_in_utc(imported):
    leads = imported.leads.set_index("lead_id")
    assert list(leads.index) == [ANA, KEN, LUC]
    assert leads.loc[KEN, "created_at"] == ts("2024-02-01 14:45")  # 23:45 at +0900
    assert leads.loc[ANA, "job_title"] == "VP Operations" and leads.loc[ANA, "company_name"] == "Acme Logistics"
    assert leads.loc[ANA, "company_size"] == 250 and pd.isna(leads.loc[KEN, "company_size"])
    assert leads.loc[KEN, "lead_source"] == "Trade Show" and leads.loc[LUC, "industry"] == "Retail"
    assert pd.isna(leads.loc[LUC, "email"]) and pd.isna(leads.loc[KEN, "job_title"])  # blank cells are missing, not ""
    assert "Status" not in leads and "IsConverted" not in leads  # the lead's state today would leak its outcome
    assert {"seniority", "department"}.isdisjoint(leads.columns)  # Salesforce has no such field: no column, not a constant


def test_each_task_event_and_campaign_member_becomes_one_activity_of_an_honest_type(imported):
    rows = [tuple(r) for r in imported.activities[["lead_id", "occurred_at", "activity_type", "channel", "value", "asset_id"]]
            .astype(object).where(imported.activities.notna(), None).itertuples(index=False)]
    assert rows == [
        (ANA, ts("2024-01-18 08:00"), "Email", "online", None, None),
        (ANA, ts("2024-01-20 15:09"), "Call", "offline", 420.0, None),  # CompletedDateTime, CallDurationInSeconds
        (KEN, ts("2024-02-05 00:00"), "Task", "offline", None, None),  # ActivityDate (a date) is later than CreatedDate
        (LUC, ts("2024-02-10 15:00"), "Email: Responded", "online", None, "7015g000000Cmp2AAA"),  # responded the day it was added
        (ANA, ts("2024-02-14 13:00"), "Meeting", "offline", None, None),
        (ANA, ts("2024-02-20 12:00"), "Webinar: Registered", "online", None, "7015g000000Cmp1AAA"),
        (KEN, ts("2024-03-01 00:00"), "Webinar: Attended", "online", None, "7015g000000Cmp1AAA"),  # FirstRespondedDate
        (LUC, ts("2024-03-03 07:00"), "List Email", "online", None, None),
        (KEN, ts("2024-03-07 00:00"), "Meeting", "offline", None, None),  # all-day event: its ActivityDate
        (ANA, ts("2024-03-20 10:29"), "Call", "offline", 95.0, None),  # logged on the contact Ana was converted into
    ]


def test_the_vocabulary_declares_every_written_type_with_a_role_only_where_it_is_honest(imported):
    roles = {name: (t.role, t.channel, t.value) for name, t in imported.vocabulary.items()}
    assert set(roles) == set(imported.activities["activity_type"])
    assert roles["Call"] == ("sales_call", "offline", "seconds")
    assert roles["Email"][0] == roles["List Email"][0] == "email_sent"
    assert roles["Meeting"][:2] == ("meeting", "offline")
    assert roles["Webinar: Attended"][0] == "webinar_attended" and roles["Webinar: Registered"][0] == "webinar_registered"
    assert roles["Email: Responded"][0] == "custom" and roles["Task"][0] == "custom"
    assert imported.vocabulary["Email: Responded"].label == "email campaign responded"


def test_rows_that_cannot_be_imported_are_counted_and_named(imported):
    notes = "\n".join(imported.notes)
    assert "Task.csv: column 'WhoId': 1 tasks whose id matches no lead" in notes and "0035g000009Zzz1AAA" in notes
    assert "Task.csv: 1 open tasks" in notes
    assert "CampaignMember.csv: column 'LeadId': 1 campaign members whose id matches no lead" in notes  # a contact never a lead
    assert "1 activities dated after the export's last record (2024-04-20 16:00 UTC)" in notes  # the meeting booked for June
    assert "Opportunity.csv: 1 opportunities no lead was converted into" in notes


def test_opportunities_belong_to_the_lead_converted_into_them_with_outcome_from_is_closed_and_is_won(imported):
    opps = imported.opportunities.set_index("opportunity_id")
    assert list(opps.index) == ["0065g000001Opp1AAA", "0065g000001Opp2AAA"]
    won, open_ = opps.loc["0065g000001Opp1AAA"], opps.loc["0065g000001Opp2AAA"]
    assert (won["lead_id"], won["outcome"], won["closed_at"], won["amount"]) == (ANA, "won", ts("2024-04-02"), 12500.0)
    assert (open_["lead_id"], open_["outcome"], open_["amount"]) == (LUC, "open", 3000.0)
    assert pd.isna(open_["closed_at"])  # an open opportunity's CloseDate is a forecast, not a close


def test_the_tables_have_the_contract_columns_and_types(imported):
    assert_meets_contract_columns({"leads": imported.leads, "activities": imported.activities, "opportunities": imported.opportunities})


def test_a_closed_lost_opportunity_and_one_closed_the_day_it_opened(export_copy):
    folder = export_copy("salesforce_export")
    opp = pd.read_csv(folder / "Opportunity.csv", dtype=str, keep_default_na=False)
    opp.loc[1, ["IsClosed", "IsWon", "CloseDate", "CreatedDate"]] = ["true", "false", "2024-04-20", "2024-04-20T16:00:00.000Z"]
    opp.to_csv(folder / "Opportunity.csv", index=False)
    lost = from_salesforce(read_salesforce(folder)).opportunities.set_index("opportunity_id").loc["0065g000001Opp2AAA"]
    assert (lost["outcome"], lost["closed_at"]) == ("lost", ts("2024-04-20 16:00"))  # never before it was created


@pytest.mark.parametrize(("file", "column", "value", "message"), [
    ("Lead.csv", "CreatedDate", "yesterday", "Lead.csv: column 'CreatedDate' has 1 value that is not timestamps"),
    ("Opportunity.csv", "IsWon", "maybe", "Opportunity.csv: column 'IsWon' has 1 value that is not true or false: 'maybe' (1)"),
    ("Task.csv", "CallDurationInSeconds", "7 min", "Task.csv: column 'CallDurationInSeconds' has 1 value that is not numbers: '7 min' (1)"),
    ("Lead.csv", "NumberOfEmployees", "12.5", "Lead.csv: column 'NumberOfEmployees' has 1 value that is not whole numbers: '12.5' (1)"),
])
def test_a_bad_value_is_one_error_naming_the_file_column_and_distinct_values(export_copy, file, column, value, message):
    folder = export_copy("salesforce_export")
    frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(folder / file, index=False)
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_salesforce(read_salesforce(folder))


def test_missing_activity_objects_are_noted_not_required(export_copy):
    folder = export_copy("salesforce_export")
    for name in ("Task.csv", "Event.csv", "CampaignMember.csv", "Campaign.csv"):
        (folder / name).unlink()
    result = from_salesforce(read_salesforce(folder))
    assert result.activities.empty and result.vocabulary == {}
    assert "not in the export, so no activities from it: Task.csv, Event.csv, CampaignMember.csv" in result.notes
