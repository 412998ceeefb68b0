"""Read a vendor's export files, parse their values, and write the contract tables and vocabulary they map to.

The vendor modules (`salesforce`, `hubspot`) are pure functions of frames; this module is
their edge: it finds each export file, checks its headers, turns the vendor's text into
timestamps, booleans and numbers (naming the file, column and distinct bad values on
failure), and writes the result atomically with `features.io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from leadscore.features.contract import ACTIVITY_TYPES, OFFLINE_ACTIVITY_TYPES
from leadscore.features.io import write_frame, write_text
from leadscore.pipeline.errors import BadInputError

NEGATIVE_ROLES = frozenset({"email_bounce", "unsubscribe"})
"""Built-in roles whose events count against a lead (the negative family)."""

_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n", ""})
_SHOWN = 10
"""How many distinct bad values a message lists; the count of the others follows."""


@dataclass(frozen=True)
class ActivityType:
    """Declare one raw activity type an adapter writes, in the `features.activity_types` format."""

    label: str
    role: str = "custom"
    family: str = "implicit"
    channel: str = "online"
    value: str = "none"

    def as_config(self) -> dict[str, str]:
        """Return the declaration as the YAML mapping the vocabulary config reads."""
        return {"label": self.label, "role": self.role, "family": self.family, "channel": self.channel, "value": self.value}


def builtin(role: str, label: str | None = None, value: str = "none") -> ActivityType:
    """Return the declaration of a raw type that means built-in `role`, with the role's family and channel.

    >>> builtin("sales_call", "call", value="seconds").channel
    'offline'
    """
    if role not in ACTIVITY_TYPES:
        raise ValueError(f"{role!r} is not a built-in role")
    return ActivityType(label=label or role.replace("_", " "), role=role,
                        family="negative" if role in NEGATIVE_ROLES else "implicit",
                        channel="offline" if role in OFFLINE_ACTIVITY_TYPES else "online", value=value)


@dataclass
class ImportResult:
    """Hold what an adapter produced: the three contract frames, the vocabulary, and what it left out and why."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    opportunities: pd.DataFrame
    vocabulary: dict[str, ActivityType]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportFile:
    """Describe one export file: the names it goes by and its columns (each with the headers it may carry)."""

    object_name: str
    file_names: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    required: frozenset[str]
    name_contains: str | None = None  # a vendor's dated file name, e.g. hubspot-crm-exports-all-contacts-2024-05-01.csv


def find_export(folder: Path, spec: ExportFile) -> Path | None:
    """Return the file of `spec` in `folder` (names compared case-insensitively), or None when it is absent."""
    files = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for name in spec.file_names:
        if name.lower() in files:
            return files[name.lower()]
    if spec.name_contains:
        found = sorted(p for n, p in files.items() if spec.name_contains in n and n.endswith(".csv"))
        if len(found) > 1:
            raise BadInputError(f"{folder}: more than one {spec.object_name} export ({', '.join(p.name for p in found)}); keep one")
        if found:
            return found[0]
    return None


def read_export(folder: Path, spec: ExportFile, required: bool = True) -> pd.DataFrame | None:
    """Read the export file of `spec` as text, its columns renamed to the field names of `spec.columns`.

    A blank cell is an empty string, so a blank and a missing value read the same. A missing
    file (when `required`) or a missing required column is one error naming the file and column.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"{folder}: not a folder of {spec.object_name} exports")
    path = find_export(folder, spec)
    if path is None:
        if required:
            raise BadInputError(f"{folder}: no {spec.object_name} export ({' or '.join(spec.file_names)}) in this folder")
        return None
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start}); export it as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInputError(f"{path}: not a CSV file ({str(exc).strip()})") from None
    headers = {h.strip().lower(): h for h in raw.columns}
    picked = {}
    for name, aliases in spec.columns.items():
        header = next((headers[a.lower()] for a in aliases if a.lower() in headers), None)
        if header is not None:
            picked[name] = raw[header].str.strip()
        elif name in spec.required:
            raise BadInputError(f"{path}: missing column '{aliases[0]}'" + (f" (or {', '.join(repr(a) for a in aliases[1:])})" if aliases[1:] else "")
                                + f"; its columns are {', '.join(raw.columns[:20])}" + (" ..." if len(raw.columns) > 20 else ""))
    frame = pd.DataFrame(picked, index=raw.index)
    frame.attrs["file"] = path.name
    frame.attrs["headers"] = {name: next(headers[a.lower()] for a in spec.columns[name] if a.lower() in headers) for name in picked}
    return frame


def where(frame: pd.DataFrame, column: str) -> str:
    """Return "file: column 'header'" for messages about `column` of an export frame."""
    header = frame.attrs.get("headers", {}).get(column, column)
    return f"{frame.attrs.get('file', 'export')}: column '{header}'"


def _bad_values(frame: pd.DataFrame, column: str, bad: pd.Series, what: str) -> BadInputError:
    counts = frame.loc[bad, column].value_counts()
    shown = ", ".join(f"{value!r} ({count})" for value, count in counts.head(_SHOWN).items())
    more = f" and {len(counts) - _SHOWN} more distinct values" if len(counts) > _SHOWN else ""
    return BadInputError(f"{where(frame, column)} has {values_that(int(bad.sum()))} not {what}: {shown}{more}")


def values_that(n: int) -> str:
    """Return "1 value that is" or "N values that are", for messages about bad values.

    >>> values_that(1), values_that(1200)
    ('1 value that is', '1,200 values that are')
    """
    return f"{n:,} value that is" if n == 1 else f"{n:,} values that are"


def timestamps(frame: pd.DataFrame, column: str, timezone: str = "UTC") -> pd.Series:
    """Return `column` as UTC timestamps: ISO 8601 with `Z` or an offset, epoch milliseconds, naive times in `timezone`.

    A date without a time is midnight UTC of that day whatever `timezone` says (a vendor's date
    fields carry no zone); blank cells are NaT.

    >>> f = pd.DataFrame({"d": ["2024-03-05T14:22:10.000Z", "2024-03-05", "", "1709648530000"]})
    >>> timestamps(f, "d").dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    ['2024-03-05 14:22:10', '2024-03-05 00:00:00', nan, '2024-03-05 14:22:10']
    """
    text = frame[column] if column in frame else pd.Series("", index=frame.index)
    epoch = text.str.fullmatch(r"\d{11,13}")
    parsed = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    if epoch.any():
        parsed[epoch] = pd.to_datetime(text[epoch].astype("int64"), unit="ms", utc=True)
    rest = ~epoch & (text != "")
    # ISO order only: 01/02/2024 is January in one locale and February in another, so it is refused, not guessed
    iso = rest & text.str.match(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")
    if iso.any():
        parsed[iso] = _iso_timestamps(text[iso], timezone)
    bad = rest & parsed.isna()
    if bad.any():
        raise _bad_values(frame, column, bad, "timestamps (ISO 8601, e.g. 2024-03-05T14:22:10Z, or a date)")
    return parsed


def _iso_timestamps(text: pd.Series, timezone: str) -> pd.Series:
    """Parse ISO 8601 text in bulk: values with a zone as written, bare dates as UTC, the rest in `timezone`; bad ones are NaT."""
    zoned = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True) | (text.str.len() == 10)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        parsed[zoned] = pd.to_datetime(text[zoned], format="ISO8601", utc=True, errors="coerce")
    if (~zoned).any():
        local = pd.to_datetime(text[~zoned], format="ISO8601", errors="coerce")
        parsed[~zoned] = local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return parsed


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone (Europe/Lisbon, UTC), else a BadInputError naming it.

    >>> check_timezone("Europe/Lisbon")
    'Europe/Lisbon'
    """
    try:
        pd.Timestamp("2024-01-01").tz_localize(name)
    except Exception:  # pytz and zoneinfo raise different classes for an unknown zone
        raise BadInputError(f"--timezone {name}: not a time zone (an IANA name such as Europe/Lisbon or UTC)") from None
    return name


def booleans(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return `column` as booleans (true/false, 1/0, yes/no in any case; blank is false), or name the bad values."""
    if column not in frame:
        return pd.Series(False, index=frame.index)
    text = frame[column].str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        raise _bad_values(frame, column, bad, "true or false")
    return text.isin(_TRUE)


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return `column` as floats (blank is NaN; a thousands separator ',' is allowed), or name the bad values."""
    if column not in frame:
        return pd.Series(float("nan"), index=frame.index)
    text = frame[column].str.replace(",", "", regex=False)
    parsed = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & (parsed.isna() | ~parsed.abs().lt(float("inf")))
    if bad.any():
        raise _bad_values(frame, column, bad, "numbers")
    return parsed.astype("float64")


def blank_to_na(series: pd.Series) -> pd.Series:
    """Return a text column with blank cells as missing values (the contract's nulls)."""
    return series.where(series != "").astype("string")


def keep_known_leads(frame: pd.DataFrame, column: str, lead_ids: pd.Index, notes: list[str], what: str) -> pd.DataFrame:
    """Return the rows of `frame` whose `column` names a lead in `lead_ids`; count the others in `notes`.

    Activities of contacts or of deleted leads cannot be scored, but dropping them silently
    would hide a wrong export (contacts' tasks instead of leads'), so they are counted and named.
    """
    ids = frame[column]
    blank = ids == ""
    unknown = ~blank & ~ids.isin(lead_ids)
    if blank.any():
        notes.append(f"{where(frame, column)}: {int(blank.sum()):,} {what} with no lead id, not imported")
    if unknown.any():
        distinct = ids[unknown].value_counts()
        shown = ", ".join(f"{v!r} ({c})" for v, c in distinct.head(5).items())
        notes.append(f"{where(frame, column)}: {int(unknown.sum()):,} {what} whose id matches no lead "
                     f"({len(distinct):,} distinct ids: {shown}{' ...' if len(distinct) > 5 else ''}), not imported")
    return frame[~blank & ~unknown]


def activities_frame(lead_id, occurred_at, activity_type, vocabulary: Mapping[str, ActivityType], value=None, asset_id=None) -> pd.DataFrame:
    """Return contract activity rows, with each row's channel taken from its type's declaration."""
    frame = pd.DataFrame({"lead_id": pd.Series(lead_id, dtype="string"), "occurred_at": occurred_at,
                          "activity_type": pd.Series(activity_type, dtype="string")})
    frame["channel"] = frame["activity_type"].map({name: t.channel for name, t in vocabulary.items()}).astype("string")
    frame["value"] = pd.Series(value, index=frame.index, dtype="float64") if value is not None else float("nan")
    frame["asset_id"] = pd.Series(asset_id, index=frame.index, dtype="string") if asset_id is not None else pd.NA
    frame["asset_id"] = frame["asset_id"].astype("string")
    return frame.reset_index(drop=True)


def finish_activities(parts: list[pd.DataFrame], export_end: pd.Timestamp, notes: list[str]) -> pd.DataFrame:
    """Concatenate activity parts in time order; drop and count rows with no time or after the export was taken.

    A task due next week or a meeting booked for tomorrow has not happened yet: kept, it would
    be a future event every snapshot before the export's end could not have seen coming.
    """
    columns = ["lead_id", "occurred_at", "activity_type", "channel", "value", "asset_id"]
    frame = pd.concat([p[columns] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=columns)
    no_time = frame["occurred_at"].isna()
    later = frame["occurred_at"] > export_end
    for mask, why in ((no_time, "with no date"), (later, f"dated after the export's last record ({export_end:%Y-%m-%d %H:%M} UTC)")):
        if mask.any():
            kinds = frame.loc[mask, "activity_type"].value_counts()
            notes.append(f"{int(mask.sum()):,} activities {why}, not imported: " + ", ".join(f"{k!r} ({c})" for k, c in kinds.items()))
    frame = frame[~no_time & ~later]
    frame = frame.sort_values(["occurred_at", "lead_id", "activity_type"], kind="stable").reset_index(drop=True)
    frame["occurred_at"] = frame["occurred_at"].astype("datetime64[ns, UTC]")
    return frame


def used_vocabulary(vocabulary: Mapping[str, ActivityType], activities: pd.DataFrame) -> dict[str, ActivityType]:
    """Return the declarations of the types `activities` holds, in name order (a type never written is not declared)."""
    present = set(activities["activity_type"].dropna())
    return {name: vocabulary[name] for name in sorted(present)}


SETTINGS_NOTE = """\
# Written by `leadscore import {vendor}`: the activity types found in the export and the role
# each was given. Edit a label, role, family, channel or value and pass this file with --config.
"""


def write_import(result: ImportResult, out: str | Path, vendor: str, fmt: str = "parquet") -> dict[str, Path]:
    """Write the three tables (`fmt`: parquet or csv) and `leadscore.yaml` into `out`, each atomically."""
    out = Path(out)
    paths = {name: write_frame(getattr(result, name), out / f"{name}.{fmt}") for name in ("leads", "activities", "opportunities")}
    settings = {"features": {"activity_types": {name: t.as_config() for name, t in result.vocabulary.items()}}}
    paths["settings"] = write_text(SETTINGS_NOTE.format(vendor=vendor) + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True),
                                   out / "leadscore.yaml")
    return paths
