"""Explicit features: who the lead is (title, seniority, company, industry, country, source).

They come from the lead row alone, so they are known from the day the lead is created; only
`lead_age_days` depends on the snapshot time.
"""

from __future__ import annotations

from leadscore.features.declarations import Feature, counted, email_domain_sql, quoted, title_is_student_sql
from leadscore.features.settings import FeatureSettings

_EXECUTIVE = r"(chief|\bc[eftmior]o\b|\bvp\b|vice president|president|founder|owner|director|head of)"
_MANAGER = r"(manager|\blead\b|supervisor)"


def _category(name: str, column: str, description: str, lower: bool = True) -> Feature:
    value = f"lower(trim(l.{column}))" if lower else f"upper(trim(l.{column}))"
    said = description.split(' (')[0].lower()
    return Feature(name, "explicit", description, "lead", f"coalesce(nullif({value}, ''), 'unknown')", "category",
                   f"{said}: {{value}}", missing=f"{said} unknown")


def declare(settings: FeatureSettings) -> list[Feature]:
    """Return the explicit features of the lead columns the CRM has (a missing column gives none)."""
    options = settings.features
    has = options.has_lead_column
    student = title_is_student_sql(options.student_markers, [c for c in ("seniority", "job_title") if has(c)])
    personal = quoted(options.personal_email_domains)
    features = [
        (("seniority",), _category("seniority", "seniority", "Seniority level (c_level, vp, director, manager, individual, student)")),
        (("job_title",), Feature("title_bucket", "explicit", "Job title bucket (executive, manager, individual, student, other)", "lead",
                f"""CASE WHEN {student} THEN 'student'
                     WHEN regexp_matches(lower(coalesce(l.job_title, '')), '{_EXECUTIVE}') THEN 'executive'
                     WHEN regexp_matches(lower(coalesce(l.job_title, '')), '{_MANAGER}') THEN 'manager'
                     WHEN nullif(trim(l.job_title), '') IS NOT NULL THEN 'individual'
                     ELSE 'other' END""", "category", "job title level: {value}", missing="job title unknown")),
        (("department",), _category("department", "department", "Department")),
        (("company_size",), Feature("company_size_band", "explicit", "Company size band (employees)", "lead",
                """CASE WHEN l.company_size IS NULL OR l.company_size < 1 THEN 'unknown'
                     WHEN l.company_size <= 10 THEN '1-10' WHEN l.company_size <= 50 THEN '11-50'
                     WHEN l.company_size <= 200 THEN '51-200' WHEN l.company_size <= 1000 THEN '201-1000'
                     WHEN l.company_size <= 5000 THEN '1001-5000' ELSE '5000+' END""", "category",
                "company of {value} employees", missing="company size unknown")),
        # the exact head count as well as the band: fit varies smoothly with size, and a band hides where in it a company sits
        (("company_size",), Feature("company_employees", "explicit", "Company size in employees (NaN if unknown)", "lead",
                "CASE WHEN l.company_size >= 1 THEN CAST(l.company_size AS DOUBLE) END", "float",
                f"company of {counted('employee', 'employees', ',.0f')}", missing="company size unknown")),
        (("industry",), _category("industry", "industry", "Industry")),
        (("country",), _category("country", "country", "Country", lower=False)),
        (("lead_source",), _category("lead_source", "lead_source", "Lead source (where the lead came from)")),
        (("email",), Feature("is_business_email", "explicit", "Uses a business email domain", "lead",
                f"(l.email IS NOT NULL AND {email_domain_sql()} <> '' AND {email_domain_sql()} NOT IN {personal})", "bool",
                "uses a business email address", negated="does not use a business email address")),
        ((), Feature("lead_age_days", "explicit", "Days since the lead entered the CRM", "lead",
                "(epoch(s.as_of) - epoch(l.created_at)) / 86400.0", "float", f"in the CRM for {counted('day', 'days')}")),
    ]
    return [f for columns, f in features if all(has(c) for c in columns)] + \
        [extra_column_feature(name, kind) for name, kind in options.extra_lead_columns.items()]


def extra_column_feature(column: str, kind: str) -> Feature:
    """Declare the feature of an extra lead column by its declared type (`features.extra_lead_columns`).

    Values are read through text, so a CSV column and a typed Parquet one give the same
    feature; `lead_columns.fit_lead_columns` rejects values that are not of the type before
    any build. A numeric column is a number (as a category, each distinct amount would be a
    level of its own), a boolean a flag (blank is false, as for every flag), and a date the days from it to
    `as_of`. A date after `as_of` gives NULL: the lead row is read as exported, so such a date
    was written after the snapshot (a renewal booked later, a field edited since), and a
    snapshot must not see what only happened later.

    >>> feature = extra_column_feature("annual_revenue", "numeric")
    >>> feature.name, feature.dtype
    ('attr_annual_revenue', 'float')
    """
    said = column.replace("_", " ")  # reasons name the column in words: annual_revenue reads "annual revenue"
    text = f'nullif(trim(CAST(l."{column}" AS VARCHAR)), \'\')'
    if kind == "numeric":
        return Feature(f"attr_{column}", "explicit", f"Lead attribute {column} (a number)", "lead",
                       f"TRY_CAST({text} AS DOUBLE)", "float", f"{said}: {{value:,.6g}}",
                       missing=f"{said} unknown")
    if kind == "boolean":
        return Feature(f"attr_{column}", "explicit", f"Lead attribute {column} (a flag)", "lead",
                       f"coalesce(lower({text}) IN {quoted(TRUE_WORDS)}, FALSE)", "bool", f"{said}: yes", negated=f"{said}: no")
    if kind == "date":
        moment = f"TRY_CAST({text} AS TIMESTAMPTZ)"
        return Feature(f"attr_{column}_age_days", "explicit", f"Days since the lead's {column} (NaN if empty or after as_of)",
                       "lead", f"CASE WHEN {moment} < s.as_of THEN (epoch(s.as_of) - epoch({moment})) / 86400.0 END",
                       "float", f"{said} {counted('day', 'days')} ago", missing=f"no {said} date")
    return Feature(f"attr_{column}", "explicit", f"Lead attribute {column}", "lead", f'l."{column}"', "category",
                   f"{said}: {{value}}", missing=f"{said} unknown")


TRUE_WORDS: tuple[str, ...] = ("true", "t", "yes", "y", "1")
"""The words a boolean lead column holds for true (any case), beside `FALSE_WORDS`."""
FALSE_WORDS: tuple[str, ...] = ("false", "f", "no", "n", "0")
"""The words a boolean lead column may hold (any case): CRMs export flags as true/false (Salesforce),
yes/no or 1/0."""
