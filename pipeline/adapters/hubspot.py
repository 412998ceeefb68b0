"""Map a HubSpot export (contacts, calls, emails, meetings, notes, tasks, form submissions, deals) to the contract tables.

HubSpot's export writes one CSV per object with property labels as headers ("Record ID",
"Create Date", "Associated Contact IDs"); an API dump names the same properties by their
internal names (`hs_object_id`, `createdate`, `hs_timestamp`). Either is read. `read_hubspot`
reads the files; `from_hubspot` is a pure function of those frames.
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

_ID = ("Record ID", "hs_object_id")
_CONTACT_IDS = ("Associated Contact IDs", "Associated Contact ID", "Contact IDs", "associated_contact_ids")
_WHEN = ("Activity date", "Activity Date", "hs_timestamp")
_AUDIT = {"last_modified": ("Last Modified Date", "hs_lastmodifieddate"), "created": ("Create Date", "Created Date", "hs_createdate", "createdate")}

CONTACTS = ExportFile("HubSpot contacts", ("contacts.csv",), {
    "id": ("Record ID", "Contact ID", "hs_object_id", "vid"), "created": ("Create Date", "createdate"), "email": ("Email", "email"),
    "job_title": ("Job Title", "jobtitle"), "company": ("Company Name", "company"),
    "employees": ("Number of Employees", "numemployees"), "industry": ("Industry", "industry"),
    "country": ("Country/Region", "Country", "country"), "source": ("Original Source", "Original source", "hs_analytics_source"),
    "last_modified": _AUDIT["last_modified"],
}, frozenset({"id", "created"}), name_contains="contacts")


def _engagement(name: str, **extra: tuple[str, ...]) -> ExportFile:
    columns = {"id": _ID, "when": _WHEN, "contacts": _CONTACT_IDS, **extra, **_AUDIT}
    return ExportFile(f"HubSpot {name}", (f"{name}.csv",), columns, frozenset({"id", "when", "contacts"}), name_contains=name)


CALLS = _engagement("calls", duration=("Call duration", "Duration", "hs_call_duration"), direction=("Call direction", "hs_call_direction"))
EMAILS = _engagement("emails", direction=("Email direction", "hs_email_direction"))
MEETINGS = _engagement("meetings", outcome=("Meeting outcome", "Outcome", "hs_meeting_outcome"))
NOTES = _engagement("notes")
TASKS = _engagement("tasks", status=("Task status", "Status", "hs_task_status"))
FORMS = ExportFile("HubSpot form submissions", ("form_submissions.csv", "form-submissions.csv"), {
    "contact": ("Contact ID", "Record ID", "Associated Contact IDs", "contact_id"), "email": ("Email", "email"),
    "when": ("Conversion Date", "Submission date", "Submitted At", "submittedAt"), "form": ("Form name", "Form Name", "Form", "form_id"),
}, frozenset({"when"}), name_contains="form")
DEALS = ExportFile("HubSpot deals", ("deals.csv",), {
    "id": _ID, "created": ("Create Date", "createdate"), "closed": ("Close Date", "closedate"), "stage": ("Deal Stage", "dealstage"),
    "won": ("Is Closed Won", "hs_is_closed_won"), "is_closed": ("Is Closed", "Is closed", "hs_is_closed"),
    "amount": ("Amount", "amount"), "contacts": _CONTACT_IDS, "last_modified": _AUDIT["last_modified"],
}, frozenset({"id", "created", "contacts"}), name_contains="deals")
FILES = {"contacts": CONTACTS, "calls": CALLS, "emails": EMAILS, "meetings": MEETINGS, "notes": NOTES, "tasks": TASKS,
         "forms": FORMS, "deals": DEALS}
REQUIRED = ("contacts", "deals")

TYPES: dict[str, ActivityType] = {
    "Call": builtin("sales_call", "call", value="seconds"),
    "Inbound call": ActivityType("inbound call", channel="offline", value="seconds"),
    "Email": builtin("email_sent", "email sent"),
    "Email reply": ActivityType("email reply"),
    "Email forwarded": ActivityType("email forwarded"),
    "Meeting": builtin("meeting", "meeting"),
    "Meeting no-show": ActivityType("missed meeting", family="negative", channel="offline"),
    "Meeting canceled": ActivityType("canceled meeting", family="negative", channel="offline"),
    "Note": ActivityType("note", channel="offline"),
    "Task": ActivityType("task", channel="offline"),
    "Form submission": builtin("form_submit", "form submission"),
}
"""The raw type each engagement becomes, and its declaration.

An outbound call is a sales call; an inbound one is the lead calling, a different signal, so
it has its own features. An email HubSpot logs as INCOMING_EMAIL is the lead's reply, not an
email sent. A meeting the lead missed or canceled counts against them (negative family).
"""
_EMAIL_DIRECTIONS = {"email": "Email", "incoming_email": "Email reply", "forwarded_email": "Email forwarded"}
_MEETING_OUTCOMES = {"no_show": "Meeting no-show", "no show": "Meeting no-show", "canceled": "Meeting canceled", "cancelled": "Meeting canceled"}
_WON_STAGES = frozenset({"closedwon", "closed won"})
_LOST_STAGES = frozenset({"closedlost", "closed lost"})


def read_hubspot(folder: str | Path) -> dict[str, pd.DataFrame | None]:
    """Read every HubSpot export file of `folder` as text; missing contacts or deals files are an error."""
    return {key: read_export(Path(folder), spec, required=key in REQUIRED) for key, spec in FILES.items()}


def from_hubspot(exports: dict[str, pd.DataFrame | None], timezone: str = "UTC") -> ImportResult:
    """Return the contract tables and vocabulary of a HubSpot export read by `read_hubspot`.

    `timezone` is the zone of times written without an offset: HubSpot's export writes them
    in the account's time zone.

    A contact's Lifecycle Stage and Lead Status are not imported: they hold the contact's state
    today (a customer is "customer"), so as a lead attribute they would leak the outcome.
    """
    notes: list[str] = []
    contacts = exports["contacts"]
    leads = _leads(contacts, timezone)
    lead_ids = pd.Index(contacts["id"])
    parts = [_engagements(key, exports[key], lead_ids, notes, timezone) for key in ("calls", "emails", "meetings", "notes", "tasks")
             if exports.get(key) is not None]
    if exports.get("forms") is not None:
        parts.append(_forms(exports["forms"], contacts, notes, timezone))
    missing = [FILES[k].file_names[0] for k in ("calls", "emails", "meetings", "notes", "tasks", "forms") if exports.get(k) is None]
    if missing:
        notes.append(f"not in the export, so no activities from it: {', '.join(missing)}")
    activities = finish_activities(parts, _export_end(exports, timezone), notes)
    opportunities = _deals(exports["deals"], lead_ids, notes, timezone)
    return ImportResult(leads, activities, opportunities, used_vocabulary(TYPES, activities), notes)


def _leads(contacts: pd.DataFrame, timezone: str) -> pd.DataFrame:
    ids = contacts["id"]
    repeated = ids[ids.duplicated(keep=False) & (ids != "")].value_counts()
    if (ids == "").any() or len(repeated):
        raise BadInputError(f"{where(contacts, 'id')} must hold one unique id per contact: {int((ids == '').sum())} blank, "
                            f"{len(repeated)} repeated ({', '.join(f'{v!r} ({c})' for v, c in repeated.head(10).items())})")
    created = timestamps(contacts, "created", timezone)
    if created.isna().any():
        raise BadInputError(f"{where(contacts, 'created')} is blank in {int(created.isna().sum())} rows, first contact {ids[created.isna()].iloc[0]!r}")
    frame = pd.DataFrame({"lead_id": ids.astype("string"), "created_at": created})
    for column, field in (("email", "email"), ("job_title", "job_title"), ("company_name", "company"),
                          ("industry", "industry"), ("country", "country"), ("lead_source", "source")):
        if field in contacts:
            frame[column] = blank_to_na(contacts[field])
    if "employees" in contacts:
        frame["company_size"] = _employees(contacts)
    return frame


def _employees(contacts: pd.DataFrame) -> pd.Series:
    """Return Number of Employees as an integer: a number as it is, a range ("25-50", "1000+") as its lower bound.

    The contact property is a picklist of ranges; the lower bound keeps their order, which is
    all a tree model uses.
    """
    text = contacts["employees"].str.replace(",", "", regex=False)
    lower = text.str.extract(r"^\s*(\d+)\s*(?:-\s*\d+|\+)?\s*$")[0]
    bad = (text != "") & lower.isna()
    if bad.any():
        counts = contacts.loc[bad, "employees"].value_counts()
        raise BadInputError(f"{where(contacts, 'employees')} has {values_that(int(bad.sum()))} not a number or a range (25-50, 1000+): "
                            + ", ".join(f"{v!r} ({c})" for v, c in counts.head(10).items()))
    return pd.to_numeric(lower).astype("Int64")


def _explode_contacts(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one row per associated contact (an engagement with two contacts happened to both)."""
    ids = frame["contacts"].str.replace(",", ";", regex=False).str.split(";")
    out = frame.assign(contacts=ids).explode("contacts")
    out["contacts"] = out["contacts"].fillna("").str.strip()
    out.attrs = frame.attrs
    return out


def _engagements(key: str, frame: pd.DataFrame, lead_ids: pd.Index, notes: list[str], timezone: str) -> pd.DataFrame:
    frame = keep_known_leads(_explode_contacts(frame), "contacts", lead_ids, notes, key)
    value = None
    if key == "calls":
        inbound = frame["direction"].str.lower() == "inbound" if "direction" in frame else pd.Series(False, index=frame.index)
        kind = pd.Series("Call", index=frame.index).mask(inbound, "Inbound call")
        value = _duration_seconds(frame)
    elif key == "emails":
        direction = frame["direction"].str.lower() if "direction" in frame else pd.Series("", index=frame.index)
        kind = direction.map(_EMAIL_DIRECTIONS).fillna("Email")
    elif key == "meetings":
        outcome = frame["outcome"].str.lower() if "outcome" in frame else pd.Series("", index=frame.index)
        kind = outcome.map(_MEETING_OUTCOMES).fillna("Meeting")
    elif key == "tasks":
        done = frame["status"].str.lower().isin({"completed", "complete"}) if "status" in frame else pd.Series(True, index=frame.index)
        if (~done).any():
            notes.append(f"{frame.attrs['file']}: {int((~done).sum()):,} open tasks (not done yet), not imported")
        frame, value = frame[done], None
        kind = pd.Series("Task", index=frame.index)
    else:
        kind = pd.Series("Note", index=frame.index)
    when = timestamps(frame, "when", timezone)
    return activities_frame(frame["contacts"].to_numpy(), when.to_numpy(), kind.to_numpy(), TYPES,
                            value=None if value is None else value.to_numpy())


def _duration_seconds(calls: pd.DataFrame) -> pd.Series:
    """Return a call's duration in seconds: `hs_call_duration` is milliseconds; a H:MM:SS or MM:SS text is read as such."""
    if "duration" not in calls:
        return pd.Series(float("nan"), index=calls.index)
    text = calls["duration"]
    clock = text.str.fullmatch(r"\d+(:\d{1,2}){1,2}")
    seconds = text[clock].map(lambda v: float(sum(int(p) * 60 ** i for i, p in enumerate(reversed(v.split(":"))))))
    millis = numbers(calls.assign(duration=text.where(~clock, "")), "duration") / 1000.0
    return millis.where(~clock, seconds)


def _forms(forms: pd.DataFrame, contacts: pd.DataFrame, notes: list[str], timezone: str) -> pd.DataFrame:
    """Return form submissions, linked by contact id or, where the export has none, by email address (case-insensitive)."""
    if "contact" in forms:
        lead = forms["contact"]
    elif "email" in forms and "email" in contacts:
        by_email = contacts.assign(key=contacts["email"].str.lower()).query("key != ''").drop_duplicates("key").set_index("key")["id"]
        lead = forms["email"].str.lower().map(by_email).fillna("")
        unmatched = (lead == "") & (forms["email"] != "")
        if unmatched.any():
            notes.append(f"{forms.attrs['file']}: {int(unmatched.sum()):,} form submissions whose email matches no contact, not imported")
            forms, lead = forms[~unmatched], lead[~unmatched]
    else:
        raise BadInputError(f"{forms.attrs['file']}: missing column 'Contact ID' (or 'Email' to match submissions to contacts)")
    forms = _named(forms.assign(lead=lead), "lead", "contact" if "contact" in forms else "email")
    forms = keep_known_leads(forms, "lead", pd.Index(contacts["id"]), notes, "form submissions")
    asset = forms["form"].where(forms["form"] != "") if "form" in forms else None
    return activities_frame(forms["lead"].to_numpy(), timestamps(forms, "when", timezone).to_numpy(), ["Form submission"] * len(forms), TYPES,
                            asset_id=None if asset is None else asset.to_numpy())


def _deals(deals: pd.DataFrame, lead_ids: pd.Index, notes: list[str], timezone: str) -> pd.DataFrame:
    """Return deals as opportunities, each the first associated contact's that is a lead.

    The outcome is Is Closed Won (and Is Closed) where exported, since a pipeline's stages may be
    renamed; otherwise the default pipeline's Closed Won / Closed Lost stages. Close Date of a
    closed deal is its closed_at, never before its Create Date.
    """
    if "won" not in deals and "stage" not in deals:
        raise BadInputError(f"{deals.attrs['file']}: missing column 'Is Closed Won' (or 'Deal Stage')")
    repeated = deals["id"].duplicated()
    if repeated.any():
        raise BadInputError(f"{where(deals, 'id')} repeats {int(repeated.sum())} ids: "
                            + ", ".join(repr(v) for v in deals.loc[repeated, "id"].unique()[:10]))
    ids = deals["contacts"].str.replace(",", ";", regex=False).str.split(";").map(lambda xs: [x.strip() for x in xs if x.strip()])
    known = set(lead_ids)
    lead = ids.map(lambda xs: next((x for x in xs if x in known), ""))
    several = ids.map(len) > 1
    if several.any():
        notes.append(f"{deals.attrs['file']}: {int(several.sum()):,} deals with several contacts; each belongs to its first contact")
    first = ids.map(lambda xs: xs[0] if xs else "")
    linked = keep_known_leads(_named(deals.assign(lead=lead.where(lead != "", first)), "lead", "contacts"), "lead", lead_ids, notes, "deals")
    created = timestamps(linked, "created", timezone)
    stage = linked["stage"].str.lower() if "stage" in linked else pd.Series("", index=linked.index)
    won = booleans(linked, "won") if "won" in linked else stage.isin(_WON_STAGES)
    closed = (booleans(linked, "is_closed") | won) if "is_closed" in linked else (won | stage.isin(_LOST_STAGES))
    closed_at = pd.concat([timestamps(linked, "closed", timezone), created], axis=1).max(axis=1).where(closed)
    outcome = pd.Series("open", index=linked.index).mask(closed & won, "won").mask(closed & ~won, "lost")
    if "won" not in linked and "is_closed" not in linked:
        open_stages = linked.loc[~closed & (stage != ""), "stage"].value_counts()
        if len(open_stages):  # a renamed closing stage would pass for open: the user sees every value taken so
            notes.append(f"{where(linked, 'stage')}: with no 'Is Closed Won' column only the stages Closed Won and Closed Lost "
                         f"close a deal; {int(open_stages.sum()):,} deals are open, in stages "
                         + ", ".join(f"{v!r} ({c})" for v, c in open_stages.head(10).items())
                         + (" and more" if len(open_stages) > 10 else ""))
    return pd.DataFrame({"opportunity_id": linked["id"].astype("string"), "lead_id": linked["lead"].astype("string"),
                         "created_at": created, "closed_at": closed_at.astype("datetime64[ns, UTC]"),
                         "outcome": outcome.astype("string"), "amount": numbers(linked, "amount")}).reset_index(drop=True)


def _named(frame: pd.DataFrame, column: str, like: str) -> pd.DataFrame:
    """Return `frame` with derived `column` reported under the header of the column `like` it was derived from."""
    frame = frame.copy()
    frame.attrs = {**frame.attrs, "headers": {**frame.attrs.get("headers", {}), column: frame.attrs.get("headers", {}).get(like, like)}}
    return frame


def _export_end(exports: dict[str, pd.DataFrame | None], timezone: str) -> pd.Timestamp:
    """Return the latest creation or modification time of any record: the export was taken no earlier."""
    latest = [timestamps(frame, column, timezone).max() for frame in exports.values() if frame is not None
              for column in ("created", "last_modified") if column in frame]
    latest = [t for t in latest if pd.notna(t)]
    return max(latest) if latest else pd.Timestamp.now(tz="UTC")
