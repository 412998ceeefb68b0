"""Declare the CRM data contract: three tables, their columns, types and keys.

Every loader, validator, generator and feature builder reads the contract from here, so
a column is named and typed in exactly one place. All timestamps are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTIVITY_TYPES: tuple[str, ...] = (
    "email_sent",
    "email_open",
    "email_click",
    "email_bounce",
    "unsubscribe",
    "web_visit",
    "form_submit",
    "content_download",
    "webinar_registered",
    "webinar_attended",
    "event_attended",
    "sales_call",
    "meeting",
    "demo_request",
)
"""The built-in activity types: each means its role (`features.vocabulary`). Any other non-empty
`activity_type` is valid too: a type of the CRM's own, declared in `features.activity_types` or
taken as a custom implicit type with features of its own."""

OFFLINE_ACTIVITY_TYPES: frozenset[str] = frozenset({"event_attended", "sales_call", "meeting"})
"""Types that happen offline (channel `offline`); all others are online."""

CHANNELS: tuple[str, ...] = ("online", "offline")
OUTCOMES: tuple[str, ...] = ("won", "lost", "open")


@dataclass(frozen=True)
class Column:
    """Describe one column: its logical type, whether it must exist and may be empty."""

    name: str
    dtype: str  # one of: string, timestamp, integer, float, category
    description: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """Describe one table of the contract: its columns and its primary key."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    extra_columns_allowed: bool = False
    time_columns: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Return the declared column names in order."""
        return tuple(c.name for c in self.columns)


LEADS = Table(
    name="leads",
    key=("lead_id",),
    description="One row per lead (a person at a company), as the CRM knows them; only lead_id and created_at are required.",
    extra_columns_allowed=True,
    time_columns=("created_at",),
    columns=(
        Column("lead_id", "string", "Unique id of the lead in the CRM."),
        Column("created_at", "timestamp", "When the lead entered the CRM (UTC)."),
        Column("email", "string", "Email address; only its domain is used, never written to reports.", required=False, nullable=True),
        Column("job_title", "string", "Free-text job title.", required=False, nullable=True),
        Column("seniority", "category", "Seniority level, e.g. c_level, vp, director, manager, individual, student.", required=False, nullable=True),
        Column("department", "category", "Department, e.g. it, marketing, sales, finance, operations.", required=False, nullable=True),
        Column("company_name", "string", "Company name.", required=False, nullable=True),
        Column("company_size", "integer", "Number of employees of the company.", required=False, nullable=True),
        Column("industry", "category", "Industry of the company.", required=False, nullable=True),
        Column("country", "category", "ISO 3166 alpha-2 country code.", required=False, nullable=True),
        Column("lead_source", "category", "Where the lead came from, e.g. organic, paid_search, referral, event, purchased_list.", required=False, nullable=True),
    ),
)

OPTIONAL_LEAD_COLUMNS: tuple[str, ...] = tuple(c.name for c in LEADS.columns if not c.required)
"""Lead columns a CRM may lack: only `lead_id` and `created_at` are required. A missing one
gives no feature (a constant 'unknown' column would only add noise), so the features read
the ones a leads table has (`features.lead_columns`)."""

ACTIVITIES = Table(
    name="activities",
    key=(),  # exact duplicate rows are dropped and counted, not rejected
    description="One row per thing a lead did or that was done to them, online or offline.",
    time_columns=("occurred_at",),
    columns=(
        Column("lead_id", "string", "The lead the activity belongs to (must exist in leads)."),
        Column("occurred_at", "timestamp", "When it happened (UTC)."),
        Column("activity_type", "category", "What happened: a built-in type (ACTIVITY_TYPES, any case) or the CRM's own."),
        Column("channel", "category", "online or offline; when missing or empty, the type's declared (or role's) channel.",
               required=False, nullable=True, allowed=CHANNELS),
        Column("value", "float", "A measure of the activity, e.g. seconds on page for web_visit.", required=False, nullable=True),
        Column("asset_id", "string", "Campaign, asset, webinar or event id.", required=False, nullable=True),
    ),
)

OPPORTUNITIES = Table(
    name="opportunities",
    key=("opportunity_id",),
    description="Sales opportunities and how they ended; won ones are the label.",
    time_columns=("created_at", "closed_at"),
    columns=(
        Column("opportunity_id", "string", "Unique id of the opportunity."),
        Column("lead_id", "string", "The lead it came from (must exist in leads)."),
        Column("created_at", "timestamp", "When the opportunity was opened (UTC)."),
        Column("closed_at", "timestamp", "When it was won or lost (UTC); empty while open.", nullable=True),
        Column("outcome", "category", "won, lost or open.", allowed=OUTCOMES),
        Column("amount", "float", "Deal value.", required=False, nullable=True),
    ),
)

TABLES: tuple[Table, ...] = (LEADS, ACTIVITIES, OPPORTUNITIES)

LIFECYCLE_ROLES: tuple[str, ...] = ("lead", "mql", "sql", "opportunity", "customer", "recycled", "disqualified")
"""What a lifecycle stage means, whatever the CRM calls it: the funnel in order (a plain lead or
subscriber, marketing-qualified, sales-accepted or sales-qualified, an open opportunity, a customer),
then the two ways Sales hands a lead back (recycled to nurture, disqualified). The config maps the
CRM's own stage names to these (`lifecycle.stages`)."""

FUNNEL_ROLES: tuple[str, ...] = LIFECYCLE_ROLES[:5]
"""The forward stages in funnel order: a lead entering an earlier one after a later one, with no
recycling in between, is out of order."""

LIFECYCLE = Table(
    name="lifecycle",
    key=(),
    description="Optional: one row per lifecycle stage a lead entered (HubSpot lifecycle stages, Salesforce lead status history).",
    time_columns=("entered_at",),
    columns=(
        Column("lead_id", "string", "The lead that entered the stage (should exist in leads)."),
        Column("stage", "string", "The CRM's name of the stage, mapped to a role in `lifecycle.stages`."),
        Column("entered_at", "timestamp", "When the lead entered the stage (UTC)."),
        Column("reason", "string", "Why, e.g. the reason Sales gave for recycling.", required=False, nullable=True),
    ),
)

OPTIONAL_TABLES: tuple[Table, ...] = (LIFECYCLE,)
"""Tables a CRM may lack: read and validated when present, and the features never depend on them."""
