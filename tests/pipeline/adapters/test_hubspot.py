"""The HubSpot adapter maps contacts, engagements, form submissions and deals exports row by row."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.pipeline.adapters.hubspot import from_hubspot, read_hubspot
from leadscore.pipeline.errors import BadInputError
from tests.pipeline.adapters.conftest import HERE, assert_meets_contract_columns

EXPORT = HERE / "hubspot_export"
CONTACTS = "hubspot-crm-exports-all-contacts-2024-05-01.csv"


@pytest.fixture(scope="module")
def imported():
    return from_hubspot(read_hubspot(EXPORT))


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def test_contacts_become_leads_with_their_documented_properties(imported):
    leads = imported.leads.set_index("lead_id")
    assert list(leads.index) == ["51", "52", "53"]
    assert leads.loc["52", "created_at"] == ts("2024-02-04 00:00")  # 19:00 at -05:00
    assert leads.loc["53", "created_at"] == ts("2024-02-20")  # a date alone is midnight UTC
    assert leads.loc["51", "company_size"] == 25 and leads.loc["52", "company_size"] == 1000  # ranges: their lower bound
    assert leads.loc["51", "country"] == "Portugal" and leads.loc["52", "lead_source"] == "Paid Social"
    assert leads.loc["53", "job_title"] == "CTO" and pd.isna(leads.loc["52", "industry"])
    assert "lifecycle_stage" not in leads and not any("Lifecycle" in c for c in leads.columns)  # today's stage leaks the outcome


def test_each_engagement_and_form_submission_becomes_an_activity_per_associated_contact(imported):
    acts = imported.activities
    rows = [tuple(r) for r in acts[["lead_id", "occurred_at", "activity_type", "value", "asset_id"]]
            .astype(object).where(acts.notna(), None).itertuples(index=False)]
    assert rows == [
        ("51", ts("2024-01-10 08:10"), "Form submission", None, "Contact us"),  # matched by email, case-insensitively
        ("51", ts("2024-01-12 10:00"), "Call", 305.0, None),  # hs_call_duration is milliseconds
        ("51", ts("2024-01-13 09:00"), "Email", None, None),
        ("51", ts("2024-01-14 11:20"), "Email reply", None, None),  # INCOMING_EMAIL: the lead wrote, nobody sent
        ("51", ts("2024-01-15 15:30"), "Inbound call", 130.0, None),  # 0:02:10 at +01:00
        ("51", ts("2024-01-20 14:00"), "Meeting", None, None),
        ("51", ts("2024-02-01 12:00"), "Task", None, None),
        ("52", ts("2024-02-05 09:00"), "Call", None, None),
        ("52", ts("2024-02-10 15:00"), "Meeting no-show", None, None),
        ("52", ts("2024-02-21 07:00"), "Email", None, None),  # one email to two contacts: one activity each
        ("53", ts("2024-02-21 07:00"), "Email", None, None),
    ]
    channels = dict(zip(acts["activity_type"], acts["channel"], strict=True))
    assert channels["Call"] == channels["Meeting"] == "offline" and channels["Email"] == "online"


def test_the_vocabulary_gives_built_in_roles_only_where_they_are_honest(imported):
    vocab = imported.vocabulary
    assert set(vocab) == set(imported.activities["activity_type"])
    assert (vocab["Call"].role, vocab["Call"].value) == ("sales_call", "seconds")
    assert vocab["Email"].role == "email_sent" and vocab["Email reply"].role == "custom"
    assert vocab["Form submission"].role == "form_submit" and vocab["Meeting"].role == "meeting"
    assert (vocab["Inbound call"].role, vocab["Inbound call"].value) == ("custom", "seconds")
    assert (vocab["Meeting no-show"].role, vocab["Meeting no-show"].family) == ("custom", "negative")


def test_deals_become_opportunities_of_their_first_contact_with_outcome_from_is_closed_won(imported):
    opps = imported.opportunities.set_index("opportunity_id")
    assert list(opps.index) == ["7001", "7002"]
    assert tuple(opps.loc["7001", ["lead_id", "outcome", "closed_at", "amount"]]) == ("51", "won", ts("2024-03-15"), 24000.0)
    assert tuple(opps.loc["7002", ["lead_id", "outcome"]]) == ("52", "open") and pd.isna(opps.loc["7002", "closed_at"])


def test_rows_that_cannot_be_imported_are_counted_and_named(imported):
    notes = "\n".join(imported.notes)
    assert "calls.csv: column 'Associated Contact IDs': 1 calls whose id matches no lead (1 distinct ids: '999' (1))" in notes
    assert "tasks.csv: 1 open tasks" in notes
    assert "form_submissions.csv: 1 form submissions whose email matches no contact" in notes
    assert "1 activities dated after the export's last record (2024-04-30 17:00 UTC), not imported: 'Meeting' (1)" in notes
    assert "1 deals with no lead id" in notes and "1 deals with several contacts" in notes
    assert "notes.csv" in notes


def test_the_tables_have_the_contract_columns_and_types(imported):
    assert_meets_contract_columns({"leads": imported.leads, "activities": imported.activities, "opportunities": imported.opportunities})


def test_internal_property_names_of_an_api_dump_read_like_the_export_labels(export_copy):
    folder = export_copy("hubspot_export")
    calls = pd.read_csv(folder / "calls.csv", dtype=str, keep_default_na=False)
    calls = calls.rename(columns={"Record ID": "hs_object_id", "Activity date": "hs_timestamp", "Call duration": "hs_call_duration",
                                  "Call direction": "hs_call_direction"})
    calls["hs_timestamp"] = ["1705053600000", "2024-01-15T15:30:00Z", "2024-02-05T09:00:00Z"]  # epoch milliseconds too
    calls.to_csv(folder / "calls.csv", index=False)
    first = from_hubspot(read_hubspot(folder)).activities.query("activity_type == 'Call'").iloc[0]
    assert (first["occurred_at"], first["value"]) == (ts("2024-01-12 10:00"), 305.0)


@pytest.mark.parametrize(("file", "column", "value", "message"), [
    (CONTACTS, "Number of Employees", "a few", "column 'Number of Employees' has 1 value that is not a number or a range"),
    ("calls.csv", "Activity date", "31/01/2024", "calls.csv: column 'Activity date' has 1 value that is not timestamps"),
    ("hubspot-crm-exports-all-deals-2024-05-01.csv", "Is Closed Won", "Yes please", "column 'Is Closed Won' has 1 value that is not true or false"),
])
def test_a_bad_value_is_one_error_naming_the_file_column_and_distinct_values(export_copy, file, column, value, message):
    folder = export_copy("hubspot_export")
    frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(folder / file, index=False)
    with pytest.raises(BadInputError, match=message) as error:
        from_hubspot(read_hubspot(folder))
    assert repr(value) in str(error.value)


def test_times_without_an_offset_are_in_the_given_time_zone_and_bare_dates_stay_midnight_utc(export_copy):
    folder = export_copy("hubspot_export")
    contacts = pd.read_csv(folder / CONTACTS, dtype=str, keep_default_na=False)
    contacts.loc[0, "Create Date"] = "2024-01-10 08:15"  # the account's local time, as HubSpot's export writes it
    contacts.to_csv(folder / CONTACTS, index=False)
    leads = from_hubspot(read_hubspot(folder), timezone="America/New_York").leads.set_index("lead_id")
    assert leads.loc["51", "created_at"] == ts("2024-01-10 13:15")
    assert leads.loc["53", "created_at"] == ts("2024-02-20 00:00")  # a date alone has no zone
    assert leads.loc["52", "created_at"] == ts("2024-02-04 00:00")  # an explicit offset wins


def test_deals_closed_only_by_their_stage_name_the_stages_taken_as_open(export_copy):
    """A pipeline whose closing stages were renamed would pass for open deals: the note lists every open stage."""
    folder = export_copy("hubspot_export")
    deals_file = folder / "hubspot-crm-exports-all-deals-2024-05-01.csv"
    deals = pd.read_csv(deals_file, dtype=str, keep_default_na=False).drop(columns=["Is Closed Won", "Is Closed"])
    deals.loc[0, "Deal Stage"] = "Signed"
    deals.to_csv(deals_file, index=False)
    notes = " ".join(from_hubspot(read_hubspot(folder)).notes)
    assert "hubspot-crm-exports-all-deals-2024-05-01.csv: column 'Deal Stage': with no 'Is Closed Won' column" in notes
    assert "'Signed' (1)" in notes and "'Appointment Scheduled' (1)" in notes
