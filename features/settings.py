"""Declare the settings the features layer reads: engine resources, windows and feature options.

The pipeline composes these into its `Config` from YAML (`engine:`, `windows:`, `features:`),
and anyone can build them directly: a test or a notebook builds features with
`FeatureSettings()` and no config file. Unknown keys and wrong types are validation errors
that name the key.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

from leadscore.features.contract import ACTIVITY_TYPES, LEADS, LIFECYCLE_ROLES, OPTIONAL_LEAD_COLUMNS

REQUIRED_LEAD_COLUMNS: tuple[str, ...] = tuple(c.name for c in LEADS.columns if c.required)

FEATURE_WINDOWS: tuple[str, ...] = ("lookback_days", "half_lives_days")
"""The window settings that define features (their names and values); the rest schedule snapshots and labels."""

_PLUGIN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineSettings(_Strict):
    """Where feature queries run and with what resources."""

    name: Literal["duckdb", "spark"] = "duckdb"
    memory_limit: str = "4GB"
    threads: int = Field(2, ge=1)
    temp_directory: str | None = None
    spark_master: str = "local[2]"
    # activity tables up to this many rows are copied into DuckDB once at load: training scans them
    # once per build, and a copy scans ~2x faster than Parquet; larger ones stay views over the files
    copy_activities_up_to: int = Field(30_000_000, ge=0)
    # a run checks only the activity parts (Parquet) that are new or changed since a run with the
    # same store validated them (`features.validated_parts`); the commands keep it in the working folder
    reuse_validated_parts: bool = True
    validated_store: str | None = None

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip()):
            raise ValueError(f"{value!r} is not a size like '4GB' or '512MB'")
        return value


def _duration(text: str) -> pd.Timedelta:
    """Return the duration `text` names ("6h", "30min", "7d", "2w"); pandas wants day and week units upper-case."""
    return pd.Timedelta(re.sub(r"(?<=\d)\s*([dw])\b", lambda m: m.group(1).upper(), text.strip()))


class WindowSettings(_Strict):
    """Snapshot schedule, lookback windows and prediction horizon (in days).

    `slide` spaces the snapshots by any duration ("6h", "90min", "2d"), for processes decided
    within hours; when set it replaces `slide_days`, and snapshot times need not be midnights.

    >>> WindowSettings(slide="6h").slide_step
    Timedelta('0 days 06:00:00')
    >>> WindowSettings(slide_days=7).slide_step
    Timedelta('7 days 00:00:00')
    """

    slide_days: int = Field(30, ge=1)
    slide: str | None = None  # a duration such as "6h" or "30min"; replaces slide_days when set
    horizon_days: int = Field(90, ge=1)
    gap_days: int = Field(0, ge=0)
    lookback_days: tuple[PositiveInt, ...] = Field((7, 30, 90), min_length=1)
    half_lives_days: tuple[PositiveInt, ...] = Field((7, 30, 90), min_length=1)
    first_snapshot: str | None = None  # ISO date; default: earliest lead + longest lookback
    last_snapshot: str | None = None  # ISO date; default: data end - horizon (uncensored)

    @field_validator("slide")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                step = _duration(value)
            except (ValueError, TypeError):
                raise ValueError(f"{value!r} is not a duration such as '6h', '30min' or '2d'") from None
            if step < pd.Timedelta(minutes=1):
                raise ValueError(f"{value!r}: a slide must be at least one minute")
        return value

    @property
    def slide_step(self) -> pd.Timedelta:
        """Return the time between two snapshots: `slide` when set, else `slide_days` days."""
        return _duration(self.slide) if self.slide is not None else pd.Timedelta(days=self.slide_days)

    @field_validator("first_snapshot", "last_snapshot")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                # a calendar date only: Python 3.11 also reads week dates (2025-W01-1), which pandas cannot
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}", value):
                    raise ValueError(value)
                date.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        return value


class PopulationSettings(_Strict):
    """Which leads a score decides about: by default those not yet in Sales' hands.

    A lead with an open opportunity at `as_of` (opened before it, not closed by it) is already
    worked by Sales; the score exists to decide which leads to hand over. `exclude` leaves such
    snapshots out of training, evaluation, the threshold audit and scoring (they are counted,
    and the report shows how they convert); `include` keeps them, reports them as their own
    group and flags them in the scores (column `in_sales_pipeline`).
    """

    open_opportunities: Literal["exclude", "include"] = "exclude"


ROLES: tuple[str, ...] = ACTIVITY_TYPES
"""The built-in activity roles: each is also the raw `activity_type` name that means it."""


class ActivityTypeDeclaration(_Strict):
    """Declare one of the CRM's own activity types (`features.activity_types`, keyed by the raw name).

    A type whose role is a built-in role is an alias: its events count as that role's (a raw
    "Email Sent" is an `email_sent`); keys left out default from the role. A `custom` type gets
    its own features, named after its raw name; undeclared keys default to an implicit online
    type with no value, labelled with its raw name. A `label` is a singular noun ("follow-up
    call"): reasons count it ("had 3 follow-up calls"), with `plural` where English rules miss.

    >>> ActivityTypeDeclaration(label="follow-up call", channel="offline").role
    'custom'
    """

    label: str | None = Field(None, min_length=1)
    plural: str | None = Field(None, min_length=1)  # the label's plural where adding -s is wrong ("fax" → "faxes" is made)
    role: Literal[ROLES + ("custom",)] = "custom"  # type: ignore[valid-type]
    family: Literal["implicit", "negative"] | None = None
    channel: Literal["online", "offline"] | None = None
    value: Literal["none", "seconds", "amount"] | None = None


LEAD_COLUMN_TYPES: tuple[str, ...] = ("numeric", "categorical", "boolean", "date")
"""What an extra lead column holds, which decides its feature: a number, a category, a flag or an age in days."""


class FeatureOptions(_Strict):
    """Options of the feature declarations, and the plug-in modules that add declarations."""

    # extra lead columns to use, each with its type; a plain list types every one categorical
    extra_lead_columns: dict[str, Literal[LEAD_COLUMN_TYPES]] = Field(default_factory=dict)
    # the contract's optional lead columns the features read; None: every one (a CRM lacking some sets those it has)
    lead_columns: tuple[str, ...] | None = None
    # a categorical extra column with more distinct values than this is warned about: LightGBM's category splits
    # weigh at most 32 levels (max_cat_threshold) and want 100 rows per level (min_data_per_group), so beyond a few
    # dozen levels most are too rare to learn from, and such a column is usually a number or an id declared a category
    max_category_levels: int = Field(50, ge=2)
    # the CRM's own activity types by raw name: a label, a role (an alias of a built-in role, or custom), ...
    activity_types: dict[str, ActivityTypeDeclaration] = {}
    # the raw activity types the data holds, recorded by training so that scoring rebuilds the same
    # columns; None: not read from data yet (only the built-in and the declared types have features)
    present_activity_types: tuple[str, ...] | None = None
    recent_sends: int = Field(10, ge=1)
    personal_email_domains: tuple[str, ...] = (
        "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com",
        "aol.com", "gmx.de", "web.de", "mail.ru", "yandex.ru", "proton.me", "live.com",
    )
    student_markers: tuple[str, ...] = ("student", "intern", "internship", "phd candidate")  # whole words of the title
    competitor_domains: tuple[str, ...] = ()
    competitor_markers: tuple[str, ...] = ("competitor",)
    # modules (or module:function) whose declare(settings) adds features, after the built-in families
    plugins: tuple[str, ...] = ()
    # also load the modules installed under the entry point group `leadscore.features`
    plugin_entry_points: bool = True

    @field_validator("activity_types")
    @classmethod
    def _named_types(cls, value: dict[str, ActivityTypeDeclaration]) -> dict[str, ActivityTypeDeclaration]:
        blank = [name for name in value if not name.strip()]
        if blank:
            raise ValueError("an activity type is named by its raw, non-empty activity_type value")
        return value

    def has_lead_column(self, name: str) -> bool:
        """Return whether the leads table holds the contract column `name`, so a feature may read it.

        >>> FeatureOptions().has_lead_column("email"), FeatureOptions(lead_columns=()).has_lead_column("email")
        (True, False)
        """
        return name in REQUIRED_LEAD_COLUMNS or self.lead_columns is None or name in self.lead_columns

    @field_validator("lead_columns")
    @classmethod
    def _contract_columns(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = [name for name in value or () if name not in OPTIONAL_LEAD_COLUMNS]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))}: not an optional lead column of the contract "
                             f"({', '.join(OPTIONAL_LEAD_COLUMNS)}); other columns go in features.extra_lead_columns")
        return value

    @field_validator("extra_lead_columns", mode="before")
    @classmethod
    def _typed_columns(cls, value):
        if isinstance(value, (list, tuple)):
            value = {name: "categorical" for name in value}
        # a column name reaches SQL as a quoted identifier: a double quote or a control character could end it
        bad = [name for name in (value if isinstance(value, dict) else ()) if not isinstance(name, str) or not name.strip()
               or '"' in name or any(ord(ch) < 32 for ch in name)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: not a usable column name (empty, or holding a double quote or "
                             "a control character); rename the column in the export")
        return value

    @field_validator("plugins")
    @classmethod
    def _importable_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not _PLUGIN.fullmatch(name)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: a plug-in is a module name such as 'my_company.lead_features'"
                             " (or 'module:function')")
        return value


class FeatureSettings(_Strict):
    """Everything that decides what the features are: the declarations' options and the windows.

    >>> FeatureSettings().windows.lookback_days
    (7, 30, 90)
    >>> FeatureSettings(features={"recent_sends": 5}).features.recent_sends
    5
    """

    features: FeatureOptions = FeatureOptions()
    windows: WindowSettings = WindowSettings()
    population: PopulationSettings = PopulationSettings()

    def recorded(self) -> dict[str, Any]:
        """Return the settings that decide what every feature means, as a model bundle records them.

        The same feature name can mean another thing under other settings (who is a
        competitor, which domains are personal, how many recent sends a rate covers), which no
        column check can see: scoring rebuilds a model's features with the settings it was
        trained with. The snapshot schedule and the population are left out: they decide which rows,
        not what a column means.
        """
        return {"features": self.features.model_dump(mode="json"),
                "windows": {k: v for k, v in self.windows.model_dump(mode="json").items() if k in FEATURE_WINDOWS}}


_DEFAULT_STAGES: dict[str, str] = {
    "subscriber": "lead", "lead": "lead", "new": "lead",
    "marketingqualifiedlead": "mql", "mql": "mql", "marketing qualified lead": "mql",
    "salesqualifiedlead": "sql", "sql": "sql", "sales qualified lead": "sql", "sales accepted": "sql", "accepted": "sql",
    "opportunity": "opportunity", "customer": "customer", "closed won": "customer",
    "recycled": "recycled", "nurture": "recycled", "disqualified": "disqualified", "unqualified": "disqualified",
}
"""Stage names HubSpot's lifecycle stages and Salesforce's lead statuses use out of the box."""


class LifecycleSettings(_Strict):
    """How to read the optional lifecycle table: the role of each of the CRM's stage names.

    Stage names are matched without regard to case or surrounding spaces. A stage the table
    holds and the mapping lacks is an error naming it, so that no handoff goes uncounted.

    >>> LifecycleSettings().role_of("  Marketing Qualified Lead ")
    'mql'
    >>> LifecycleSettings(stages={"Working": "sql"}).role_of("working")
    'sql'
    """

    stages: dict[str, Literal[LIFECYCLE_ROLES]] = Field(default_factory=lambda: dict(_DEFAULT_STAGES))
    accept_within_days: int = Field(30, ge=1)  # a handoff Sales neither accepts nor recycles within this is "no decision"
    min_acceptance_rate: float = Field(0.5, gt=0, le=1)  # handoffs Sales accepts less often than this are over-generous

    def role_of(self, stage: str) -> str | None:
        """Return the role of the CRM stage name `stage`, or None when the mapping lacks it."""
        key = stage.strip().lower()
        return next((role for name, role in self.stages.items() if name.strip().lower() == key), None)


class LabelSettings(_Strict):
    """What a training label means: a win within the horizon, or reaching a lifecycle stage within it.

    `stage` (mql, sql, opportunity or customer) trains on "entered that stage or a later one of
    the funnel within the horizon", read from the lifecycle table: for teams with few wins or
    long sales cycles, where a win within 90 days is too rare or too slow to learn from.

    >>> LabelSettings().describe(90), LabelSettings(stage="sql").describe(90)
    ('won within 90 days', 'reached sql (or a later stage) within 90 days')
    """

    stage: Literal["mql", "sql", "opportunity", "customer"] | None = None

    def describe(self, horizon_days: int) -> str:
        """Return the label in words, as the report states it."""
        if self.stage is None:
            return f"won within {horizon_days} days"
        return f"reached {self.stage} (or a later stage) within {horizon_days} days"
