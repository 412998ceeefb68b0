"""Map a Salesforce export (Lead, Task, Event, CampaignMember, Campaign, Opportunity CSVs) to the contract tables.

The files are those the Data Export Service and Data Loader write: one CSV per object, named
after it (`Lead.csv`), API field names as headers. `read_salesforce` reads them;
`from_salesforce` is a pure function of those frames, so a test can hand it a frame.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.pipeline.adapters.exports import (
    ActivityType,
    ExportFile,
    ImportResult,
    activities_frame,
    blank_to_na,
    booleans,
    builtin,
    finish_activities,
    keep_known_leads,
    numbers,
    read_export,
    timestamps,
    used_vocabulary,
    values_that,
    where,
)
from leadscore.pipeline.errors import BadInputError

_STAMPS = ("LastModifiedDate", "SystemModstamp")
"""Audit fields every object carries; their latest value is when the export was taken, near enough."""


def _spec(name: str, required: set[str], *optional: str) -> ExportFile:
    fields = (*sorted(required), *optional, *_STAMPS)
    return ExportFile(f"Salesforce {name}", (f"{name}.csv",), {f: (f,) for f in fields}, frozenset(required))


LEAD = _spec("Lead", {"Id", "CreatedDate"}, "Email", "Title", "Company", "NumberOfEmployees", "Industry", "Country",
             "LeadSource", "IsConverted", "ConvertedOpportunityId", "ConvertedContactId", "ConvertedDate")
TASK = _spec("Task", {"Id", "WhoId"}, "ActivityDate", "CreatedDate", "CompletedDateTime", "TaskSubtype", "Type", "Subject",
             "Status", "IsClosed", "CallDurationInSeconds")
EVENT = _spec("Event", {"Id", "WhoId"}, "ActivityDateTime", "StartDateTime", "ActivityDate", "IsAllDayEvent", "CreatedDate",
              "Type", "Subject")
CAMPAIGN_MEMBER = _spec("CampaignMember", {"LeadId", "CampaignId", "Status", "CreatedDate"}, "ContactId", "HasResponded",
                        "FirstRespondedDate")
CAMPAIGN = _spec("Campaign", {"Id"}, "Name", "Type")
OPPORTUNITY = _spec("Opportunity", {"Id", "CreatedDate", "IsClosed", "IsWon"}, "CloseDate", "Amount")
FILES = {"lead": LEAD, "task": TASK, "event": EVENT, "campaign_member": CAMPAIGN_MEMBER, "campaign": CAMPAIGN, "opportunity": OPPORTUNITY}
REQUIRED = ("lead", "opportunity")
"""Without leads nothing is scored and without opportunities nothing is learnt; the activity objects may be absent."""

TASK_TYPES: dict[str, ActivityType] = {
    "Call": builtin("sales_call", "call", value="seconds"),
    "Email": builtin("email_sent", "email sent"),
    "List Email": builtin("email_sent", "list email sent"),
    "Meeting": builtin("meeting", "meeting"),
    "Cadence step": ActivityType("sales cadence step", channel="offline"),
    "LinkedIn message": ActivityType("LinkedIn message"),
    "Task": ActivityType("task", channel="offline"),
}
"""The raw type each Task (by TaskSubtype, else Type) and Event becomes, and its declaration.

A Call task's CallDurationInSeconds is its value. A List Email is a mass email: sent, with no
open or click recorded on the Task, so it is email_sent and nothing more. A generic Task is a
rep's to-do, not something the lead did, so it is custom (its own features), offline.
"""
_SUBTYPES = {"call": "Call", "email": "Email", "listemail": "List Email", "cadence": "Cadence step",
             "linkedin": "LinkedIn message", "task": "Task", "meeting": "Meeting"}

OFFLINE_CAMPAIGNS = frozenset({"conference", "trade show", "seminar / conference", "direct mail", "telemarketing", "event", "in-person event"})
"""Campaign types (Salesforce's standard picklist and common additions) whose members meet the company off line."""
_ATTENDED = frozenset({"attended", "attended on-demand", "attended on demand"})
_REGISTERED = frozenset({"registered"})


def read_salesforce(folder: str | Path) -> dict[str, pd.DataFrame | None]:
    """Read every Salesforce object file of `folder` as text; a missing Lead or Opportunity file is an error."""
    return {key: read_export(Path(folder), spec, required=key in REQUIRED) for key, spec in FILES.items()}


def from_salesforce(exports: dict[str, pd.DataFrame | None]) -> ImportResult:
    """Return the contract tables and vocabulary of a Salesforce export read by `read_salesforce`.

    A lead's Status and IsConverted are not imported: they are its state at export time, so as
    lead attributes they would tell the model the outcome it is asked to predict.
    """
    notes: list[str] = []
    lead = exports["lead"]
    leads = _leads(lead)
    lead_ids = pd.Index(lead["Id"])
    contact_to_lead = _converted_contacts(lead)
    vocabulary = dict(TASK_TYPES)
    parts = []
    if exports.get("task") is not None:
        parts.append(_tasks(_as_lead(exports["task"], "WhoId", contact_to_lead), lead_ids, notes))
    if exports.get("event") is not None:
        parts.append(_events(_as_lead(exports["event"], "WhoId", contact_to_lead), lead_ids, notes))
    if exports.get("campaign_member") is not None:
        member = exports["campaign_member"]
        if "ContactId" in member:
            member = member.assign(LeadId=member["LeadId"].where(member["LeadId"] != "", member["ContactId"]))
            member.attrs = exports["campaign_member"].attrs
        member = _as_lead(member, "LeadId", contact_to_lead)
        part, types = _campaign_members(member, exports.get("campaign"), lead_ids, notes)
        vocabulary.update(types)
        parts.append(part)
    missing = [FILES[k].file_names[0] for k in ("task", "event", "campaign_member") if exports.get(k) is None]
    if missing:
        notes.append(f"not in the export, so no activities from it: {', '.join(missing)}")
    activities = finish_activities(parts, _export_end(exports), notes)
    opportunities = _opportunities(exports["opportunity"], lead, notes)
    return ImportResult(leads, activities, opportunities, used_vocabulary(vocabulary, activities), notes)


def _converted_contacts(lead: pd.DataFrame) -> pd.Series:
    """Return the lead each converted lead's contact came from (ConvertedContactId -> Id).

    Salesforce moves a converted lead's later tasks, events and campaign memberships to the
    contact it became; they are still that person's activities, so they stay with the lead.
    """
    if "ConvertedContactId" not in lead:
        return pd.Series(dtype=object)
    converted = lead[lead["ConvertedContactId"] != ""]
    return converted.drop_duplicates("ConvertedContactId").set_index("ConvertedContactId")["Id"]


def _as_lead(frame: pd.DataFrame, column: str, contact_to_lead: pd.Series) -> pd.DataFrame:
    """Return `frame` with ids of converted contacts in `column` replaced by the lead each came from."""
    mapped = frame[column].map(contact_to_lead)
    out = frame.assign(**{column: mapped.fillna(frame[column])})
    out.attrs = frame.attrs
    return out


def _leads(lead: pd.DataFrame) -> pd.DataFrame:
    duplicated = lead["Id"].duplicated(keep=False) & (lead["Id"] != "")
    if (lead["Id"] == "").any() or duplicated.any():
        counts = lead.loc[duplicated, "Id"].value_counts()
        raise BadInputError(f"{where(lead, 'Id')} must hold one unique id per lead: {int((lead['Id'] == '').sum())} blank, "
                            f"{len(counts)} repeated ({', '.join(f'{v!r} ({c})' for v, c in counts.head(10).items())})")
    created = timestamps(lead, "CreatedDate")
    if created.isna().any():
        raise BadInputError(f"{where(lead, 'CreatedDate')} is blank in {int(created.isna().sum())} rows, first lead {lead.loc[created.isna(), 'Id'].iloc[0]!r}")
    frame = pd.DataFrame({"lead_id": lead["Id"].astype("string"), "created_at": created})
    for column, field in (("email", "Email"), ("job_title", "Title"), ("company_name", "Company"),
                          ("industry", "Industry"), ("country", "Country"), ("lead_source", "LeadSource")):
        if field in lead:
            frame[column] = blank_to_na(lead[field])
    if "NumberOfEmployees" in lead:
        size = numbers(lead, "NumberOfEmployees")
        fraction = size.notna() & (size != size.round())
        if fraction.any():
            raise BadInputError(f"{where(lead, 'NumberOfEmployees')} has {values_that(int(fraction.sum()))} not whole numbers: "
                                + ", ".join(f"{v!r} ({c})" for v, c in lead.loc[fraction, "NumberOfEmployees"].value_counts().head(10).items()))
        frame["company_size"] = size.astype("Int64")
    return frame


def _task_type(task: pd.DataFrame) -> pd.Series:
    subtype = task["TaskSubtype"] if "TaskSubtype" in task else pd.Series("", index=task.index)
    kind = subtype.where(subtype != "", task["Type"] if "Type" in task else "")
    return kind.str.lower().str.replace(" ", "", regex=False).map(_SUBTYPES).fillna("Task")


def _tasks(task: pd.DataFrame, lead_ids: pd.Index, notes: list[str]) -> pd.DataFrame:
    task = keep_known_leads(task, "WhoId", lead_ids, notes, "tasks")
    if "IsClosed" in task:
        done = booleans(task, "IsClosed")
    elif "Status" in task:
        done = task["Status"].str.lower() == "completed"
    else:
        done = pd.Series(True, index=task.index)
    if (~done).any():
        notes.append(f"{task.attrs['file']}: {int((~done).sum()):,} open tasks (not done yet), not imported")
    task = task[done]
    # a task is logged no earlier than it happens, and ActivityDate is a day without a time: the later of the two is safe
    moment = timestamps(task, "CompletedDateTime")
    logged = pd.concat([timestamps(task, "ActivityDate"), timestamps(task, "CreatedDate")], axis=1).max(axis=1)
    occurred = moment.fillna(logged)
    kind = _task_type(task)
    value = numbers(task, "CallDurationInSeconds").where(kind == "Call")
    return activities_frame(task["WhoId"].to_numpy(), occurred.to_numpy(), kind.to_numpy(), TASK_TYPES, value=value.to_numpy())


def _events(event: pd.DataFrame, lead_ids: pd.Index, notes: list[str]) -> pd.DataFrame:
    event = keep_known_leads(event, "WhoId", lead_ids, notes, "events")
    start = timestamps(event, "ActivityDateTime").fillna(timestamps(event, "StartDateTime")).fillna(timestamps(event, "ActivityDate"))
    kind = (event["Type"].str.lower() if "Type" in event else pd.Series("", index=event.index)).map({"call": "Call"}).fillna("Meeting")
    return activities_frame(event["WhoId"].to_numpy(), start.to_numpy(), kind.to_numpy(), TASK_TYPES)


def _campaign_members(member: pd.DataFrame, campaign: pd.DataFrame | None, lead_ids: pd.Index,
                      notes: list[str]) -> tuple[pd.DataFrame, dict[str, ActivityType]]:
    """Return one activity per campaign member, typed by its campaign's type and its status.

    A member's Status is its current one and Salesforce keeps no history of it: a responded
    status is dated at FirstRespondedDate (a date, so no earlier than the member's CreatedDate
    on that day), any other at CreatedDate, when the member was added with it.
    """
    member = keep_known_leads(member, "LeadId", lead_ids, notes, "campaign members")
    campaign_type = pd.Series("", index=member.index)
    if campaign is not None and "Type" in campaign:
        types = campaign.set_index("Id")["Type"]
        types = types[~types.index.duplicated()]
        campaign_type = member["CampaignId"].map(types).fillna("")
    prefix = campaign_type.where(campaign_type != "", "Campaign")
    status = member["Status"].where(member["Status"] != "", "Member")
    raw = prefix + ": " + status
    created = timestamps(member, "CreatedDate")
    responded = booleans(member, "HasResponded")
    first = pd.concat([timestamps(member, "FirstRespondedDate"), created], axis=1).max(axis=1)
    occurred = created.where(~responded, first)
    kinds = pd.DataFrame({"raw": raw, "kind": campaign_type, "status": status}).drop_duplicates("raw")
    vocabulary = {name: _member_type(kind, state) for name, kind, state in kinds.itertuples(index=False)}
    part = activities_frame(member["LeadId"].to_numpy(), occurred.to_numpy(), raw.to_numpy(), vocabulary,
                            asset_id=member["CampaignId"].to_numpy())
    return part, vocabulary


def _member_type(campaign_type: str, status: str) -> ActivityType:
    """Return a member status's declaration: a built-in role only where the campaign type makes it honest."""
    kind, state = campaign_type.lower(), status.lower()
    offline = kind in OFFLINE_CAMPAIGNS
    if kind == "webinar" and state in _ATTENDED:
        return builtin("webinar_attended", "webinar attended")
    if kind == "webinar" and state in _REGISTERED:
        return builtin("webinar_registered", "webinar registration")
    if offline and kind not in {"direct mail", "telemarketing"} and state in _ATTENDED:
        return builtin("event_attended", f"{kind} attended")
    label = f"{kind + ' ' if kind else ''}campaign {state}"
    return ActivityType(label=label, channel="offline" if offline else "online")


def _opportunities(opportunity: pd.DataFrame, lead: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Return opportunities linked to the lead converted into each; outcome from IsClosed and IsWon.

    CloseDate is a date: a closed opportunity's closed_at is midnight UTC of it, but never
    before its CreatedDate (one opened and closed on the same day closes when it opened).
    """
    converted = lead[(lead.get("ConvertedOpportunityId", pd.Series("", index=lead.index)) != "")]
    if not converted.empty:
        converted = converted.assign(_created=timestamps(converted, "CreatedDate")).sort_values("_created", kind="stable")
        shared = converted["ConvertedOpportunityId"].duplicated()
        if shared.any():
            notes.append(f"{lead.attrs['file']}: {int(shared.sum()):,} leads converted into an opportunity another lead was "
                         "converted into first; the opportunity belongs to the first")
        owner = converted[~shared].set_index("ConvertedOpportunityId")["Id"]
    else:
        owner = pd.Series(dtype="string")
    duplicated = opportunity["Id"].duplicated()
    if duplicated.any():
        raise BadInputError(f"{where(opportunity, 'Id')} repeats {int(duplicated.sum())} ids: "
                            + ", ".join(repr(v) for v in opportunity.loc[duplicated, "Id"].unique()[:10]))
    lead_id = opportunity["Id"].map(owner)
    unlinked = lead_id.isna()
    if unlinked.any():
        notes.append(f"{opportunity.attrs['file']}: {int(unlinked.sum()):,} opportunities no lead was converted into "
                     "(opened on a contact or account), not imported")
    opportunity = opportunity[~unlinked]
    created = timestamps(opportunity, "CreatedDate")
    closed, won = booleans(opportunity, "IsClosed"), booleans(opportunity, "IsWon")
    close_day = timestamps(opportunity, "CloseDate")
    closed_at = pd.concat([close_day, created], axis=1).max(axis=1).where(closed)
    outcome = pd.Series("open", index=opportunity.index).mask(closed & won, "won").mask(closed & ~won, "lost")
    frame = pd.DataFrame({"opportunity_id": opportunity["Id"].astype("string"), "lead_id": lead_id[~unlinked].astype("string"),
                          "created_at": created, "closed_at": closed_at.astype("datetime64[ns, UTC]"),
                          "outcome": outcome.astype("string"), "amount": numbers(opportunity, "Amount")})
    return frame.reset_index(drop=True)


def _export_end(exports: dict[str, pd.DataFrame | None]) -> pd.Timestamp:
    """Return the latest audit or creation time of any record: the export was taken no earlier."""
    latest = []
    for frame in exports.values():
        if frame is None:
            continue
        for column in ("CreatedDate", "CompletedDateTime", *_STAMPS):
            if column in frame:
                latest.append(timestamps(frame, column).max())
    latest = [t for t in latest if pd.notna(t)]
    return max(latest) if latest else pd.Timestamp.now(tz="UTC")
