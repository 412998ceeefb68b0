"""Define the `Feature` declaration and the SQL helpers that keep declarations to one line.

A feature is a small declaration, never a function that scans the events itself: the
builder compiles every declaration into one query. Family modules (the built-in `explicit`,
`implicit` and `negative`, and any plug-in) import this module alone and expose
`declare(settings) -> list[Feature]`; `features.registry` collects and checks them, and
`features.relations` says what each kind of declaration may read.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

FAMILIES: tuple[str, ...] = ("explicit", "implicit", "negative")
"""Who the lead is, what the lead does, what counts against the lead: points-table caps and reports group by these."""
KINDS: tuple[str, ...] = ("lead", "event", "email", "opportunity", "day", "derived")
DTYPES: tuple[str, ...] = ("category", "float", "int", "bool")


@dataclass(frozen=True)
class Feature:
    """Describe one feature column: what it is, how to compute it, how to explain it.

    >>> Feature("is_vip", "explicit", "Marked VIP", "lead", "l.lead_source = 'vip'", "bool", "is a VIP",
    ...         negated="is not a VIP").explain(False)
    'is not a VIP'
    """

    name: str
    family: str
    description: str
    kind: str
    sql: str
    dtype: str
    # plain-words template with {value}, e.g. f"{counted('unopened email', 'unopened emails')} in a row" (the noun agrees
    # with the number as shown), `{value:duration}` for seconds said in the unit a person uses (see `counted`, `duration`)
    reason: str = ""
    empty: str | None = None  # SQL value when nothing of its kind is visible; default 0 for counts, FALSE for flags, else NULL
    module: str = ""  # the family module that declared it; the registry fills it in
    # the activity roles (or raw custom types) whose events it counts: a CRM holding none of them cannot produce it
    roles: tuple[str, ...] = ()
    # raw activity types whose summary rows alone an `event` declaration reads, its value on no rows being `empty`
    # (or the default fill): the builder may then aggregate it over those rows only (empty: it reads every row)
    rows_of: tuple[str, ...] = ()
    # the words for a missing value (NULL, or a category's 'unknown'): "never attended a webinar", "company size unknown"
    missing: str = ""
    # the words for a false flag: "has no open sales opportunity" (a flag's `reason` says the true case)
    negated: str = ""

    def explain(self, value, labels: Mapping[str, str] | None = None) -> str:
        """Return the feature's value in plain words, as Sales reads them.

        A missing value gets the declaration's `missing` words, a false (or missing) flag its
        `negated` words, a category value its label (`labels`, else the value with underscores as
        spaces and a capital first letter: paid_search reads "Paid search").

        >>> f = Feature("lead_source", "explicit", "Lead source", "lead", "l.lead_source", "category", "lead source: {value}",
        ...             missing="lead source unknown")
        >>> f.explain("paid_search"), f.explain("vp", {"vp": "VP"}), f.explain("unknown"), f.explain(None)
        ('lead source: Paid search', 'lead source: VP', 'lead source unknown', 'lead source unknown')
        """
        if self.dtype == "bool" and (is_missing(value) or not bool(value)):  # a flag's SQL fill is FALSE: missing is false
            return self.negated or f"{self.description.split(' (')[0].lower()}: no"
        if is_missing(value) or (self.dtype == "category" and str(value).strip().lower() in ("", "unknown")):
            return self.missing or f"{self.description.split(' (')[0].lower()} unknown"
        if self.dtype == "category":
            value = readable(value, labels)
        if self.reason:
            try:
                return _REASONS.format(self.reason, value=value)
            except (ValueError, TypeError):
                pass
        return f"{self.description}: {value}"


def is_missing(value) -> bool:
    """Return whether `value` is a missing value of any kind (None, NaN, pandas' NA).

    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0), is_missing("nan")
    (True, True, False, False)
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves; pandas' NA raises
    except TypeError:
        return True


def readable(value, labels: Mapping[str, str] | None = None) -> str:
    """Return a category value as a person reads it: its label, else underscores as spaces and a capital first letter.

    The rest of the value keeps its case, so codes such as country 'US' stay as they are.

    >>> readable("paid_search"), readable("US"), readable("c_level", {"c_level": "C-level"}), readable("201-1000")
    ('Paid search', 'US', 'C-level', '201-1000')
    """
    text = str(value)
    if labels and text in labels:
        return labels[text]
    text = " ".join(text.replace("_", " ").split())
    return text[:1].upper() + text[1:]


class _ReasonFormatter(string.Formatter):
    """Format reason templates: a count that agrees with its noun, seconds in a person's unit.

    Spec `#<number format>|singular|plural` gives "N noun" (the singular when N shows as 1),
    `duration` gives seconds as seconds, minutes or hours, and `singular|plural` the bare
    noun that agrees with the value.
    """

    def format_field(self, value, format_spec: str) -> str:
        if format_spec == "duration":
            return duration(value)
        if format_spec.startswith("#") and format_spec.count("|") >= 2:
            number_spec, singular, plural = format_spec[1:].split("|", 2)
            number = format(value, number_spec)
            return f"{number} {singular if number.lstrip('+') in ('1', '1.0') else plural}"
        if "|" in format_spec:
            singular, plural = format_spec.split("|", 1)
            return singular if format(value, ".0f") == "1" else plural
        return super().format_field(value, format_spec)


def duration(seconds) -> str:
    """Return a number of seconds in the unit a person uses: seconds under a minute, minutes under an hour, else hours.

    >>> duration(1), duration(45), duration(3258), duration(5400), duration(36000)
    ('1 second', '45 seconds', '54 minutes', '1.5 hours', '10 hours')
    """
    seconds = float(seconds)
    if round(seconds) < 60:
        return _REASONS.format(counted("second", "seconds"), value=seconds)
    if round(seconds / 60) < 60:
        return _REASONS.format(counted("minute", "minutes"), value=seconds / 60)
    hours = seconds / 3600
    return _REASONS.format(counted("hour", "hours", ".1f" if hours < 9.95 else ".0f"), value=hours).replace(".0 ", " ")


_REASONS = _ReasonFormatter()


def counted(singular: str, plural: str, number: str = ".0f") -> str:
    """Return the reason fragment "N thing(s)": the value shown with `number`, then the noun that agrees with it.

    Words are escaped for the template (a label may hold braces, colons or bars).

    >>> Feature("n", "implicit", "", "event", "", "int", f"had {counted('call', 'calls')} in the last 30 days").explain(1)
    'had 1 call in the last 30 days'
    >>> Feature("n", "implicit", "", "event", "", "int", f"had {counted('call', 'calls')} in the last 30 days").explain(3)
    'had 3 calls in the last 30 days'
    >>> Feature("n", "explicit", "", "lead", "", "float", f"company of {counted('employee', 'employees', ',.0f')}").explain(1200)
    'company of 1,200 employees'
    """
    return f"{{value:#{number}|{_spec_text(singular)}|{_spec_text(plural)}}}"


def braced(text: str) -> str:
    """Return `text` safe as literal text of a reason template (a label may hold braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _spec_text(text: str) -> str:
    # inside a field's spec no brace can be escaped and a bar splits the forms: round brackets and a slash stand in
    return text.replace("{", "(").replace("}", ")").replace("|", "/")


def quoted(values) -> str:
    """Return a SQL list of string literals, for declarations built from config values.

    >>> quoted(["a", "b'c"])
    "('a', 'b''c')"
    """
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


def is_type(raw_types, alias: str = "t") -> str:
    """Return the condition "`alias`.activity_type is one of `raw_types`" (FALSE for none).

    >>> is_type(["email_open"]), is_type(["a", "b'c"]), is_type([])
    ("t.activity_type = 'email_open'", "t.activity_type IN ('a', 'b''c')", 'FALSE')
    """
    raw_types = list(raw_types)
    if not raw_types:
        return "FALSE"
    if len(raw_types) == 1:
        return f"{alias}.activity_type = " + quoted(raw_types)[1:-1]
    return f"{alias}.activity_type IN {quoted(raw_types)}"


def type_filter(activity_type=None, extra: str | None = None) -> str:
    """Return the condition selecting the event summaries of one activity type or a list of raw types (and `extra`).

    None selects every type; an empty list none (a role the data never holds counts nothing).

    >>> type_filter(None, "t.channel = 'offline'"), type_filter([]), type_filter([], "t.channel = 'offline'")
    ("t.channel = 'offline'", 'FALSE', 'FALSE')
    """
    if isinstance(activity_type, str):
        activity_type = [activity_type]
    if activity_type is not None and not list(activity_type):
        return "FALSE"
    parts = [is_type(activity_type)] if activity_type is not None else []
    if extra:
        parts.append(extra)
    return " AND ".join(parts) if parts else "TRUE"


def window_column(prefix: str, days: int | None) -> str:
    """Return the summary column for a window: `n_30d` for 30 days, `n` for ever.

    >>> window_column("n", 30), window_column("n", None)
    ('t.n_30d', 't.n')
    """
    return f"t.{prefix}" if days is None else f"t.{prefix}_{days}d"


def total(column: str, condition: str = "TRUE", dtype: str = "BIGINT") -> str:
    """Return the SQL sum of a summary column over the matching summaries, 0 when none match.

    CASE rather than FILTER: DuckDB evaluates ~80 CASE sums in one pass faster than ~80
    filtered aggregates, and Spark reads both. The summary counts are DOUBLE, so the sums are
    too (a BIGINT sum accumulates in 128 bits); `dtype` casts the result back.
    """
    if condition == "FALSE":  # a type the data never holds: a constant, not an aggregate over every summary
        return f"CAST(0 AS {dtype})"
    return f"CAST(sum(CASE WHEN {condition} THEN {column} ELSE 0 END) AS {dtype})"


def count_events(name: str, family: str, description: str, reason: str = "", activity_type=None,
                 days: int | None = None, extra: str | None = None, roles: tuple[str, ...] = (),
                 rows_of: tuple[str, ...] = ()) -> Feature:
    """Declare a count of the visible events of one type or raw types (and `extra`) in the last `days` days (None: ever)."""
    return Feature(name, family, description, "event", total(window_column("n", days), type_filter(activity_type, extra)),
                   "int", reason, roles=roles, rows_of=rows_of)


def days_since(name: str, family: str, description: str, condition: str, reason: str = "",
               roles: tuple[str, ...] = (), rows_of: tuple[str, ...] = (), missing: str = "") -> Feature:
    """Declare the days since the latest visible event whose summary matches `condition` (NaN if none: `missing` says so)."""
    sql = "CAST(NULL AS DOUBLE)" if condition == "FALSE" else f"min(CASE WHEN {condition} THEN t.age_min END)"
    return Feature(name, family, description, "event", sql, "float", reason, roles=roles, rows_of=rows_of, missing=missing)


def email_domain_sql() -> str:
    """Return the SQL for the lower-cased domain of the lead's email (a `lead` expression)."""
    return "lower(split_part(l.email, '@', 2))"


def title_is_student_sql(markers, columns=("seniority", "job_title")) -> str:
    """Return the SQL condition (a `lead` expression): the job title or seniority marks a student.

    Markers match whole words: as a substring, 'intern' made students of every Head of
    International Sales and Internal Audit Manager. Only the lead `columns` named are read (a
    CRM may lack either).

    >>> title_is_student_sql(["intern"], columns=("seniority",))
    "(lower(coalesce(l.seniority, '')) = 'student')"
    """
    words = "|".join(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", m.lower().replace("'", "")) for m in markers)
    parts = ["lower(coalesce(l.seniority, '')) = 'student'"] if "seniority" in columns else []
    if "job_title" in columns:
        parts.append(f"regexp_matches(lower(coalesce(l.job_title, '')), '\\b({words})\\b')" if words else "FALSE")
    return f"({' OR '.join(parts) or 'FALSE'})"
