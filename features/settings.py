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

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

from leadscore.features.contract import ACTIVITY_TYPES, LEADS, OPTIONAL_LEAD_COLUMNS

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

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip()):
            raise ValueError(f"{value!r} is not a size like '4GB' or '512MB'")
        return value


class WindowSettings(_Strict):
    """Snapshot schedule, lookback windows and prediction horizon (in days)."""

    slide_days: int = Field(30, ge=1)
    horizon_days: int = Field(90, ge=1)
    gap_days: int = Field(0, ge=0)
    lookback_days: tuple[PositiveInt, ...] = Field((7, 30, 90), min_length=1)
    half_lives_days: tuple[PositiveInt, ...] = Field((7, 30, 90), min_length=1)
    first_snapshot: str | None = None  # ISO date; default: earliest lead + longest lookback
    last_snapshot: str | None = None  # ISO date; default: data end - horizon (uncensored)

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
            return {name: "categorical" for name in value}
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

    def recorded(self) -> dict[str, Any]:
        """Return the settings that decide what every feature means, as a model bundle records them.

        The same feature name can mean another thing under other settings (who is a
        competitor, which domains are personal, how many recent sends a rate covers), which no
        column check can see: scoring rebuilds a model's features with the settings it was
        trained with. The snapshot schedule is left out: it decides which rows, not what a column means.
        """
        return {"features": self.features.model_dump(mode="json"),
                "windows": {k: v for k, v in self.windows.model_dump(mode="json").items() if k in FEATURE_WINDOWS}}
