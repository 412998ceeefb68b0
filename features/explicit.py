"""Explicit features: who the lead is (title, seniority, company, industry, country, source).

They come from the lead row alone, so they are known from the day the lead is created; only
`lead_age_days` depends on the snapshot time.
"""

from __future__ import annotations

from leadscore.features.declarations import Feature, email_domain_sql, quoted, title_is_student_sql
from leadscore.features.settings import FeatureSettings

_EXECUTIVE = r"(chief|\bc[eftmior]o\b|\bvp\b|vice president|president|founder|owner|director|head of)"
_MANAGER = r"(manager|\blead\b|supervisor)"


def _category(name: str, column: str, description: str, lower: bool = True) -> Feature:
    value = f"lower(trim(l.{column}))" if lower else f"upper(trim(l.{column}))"
    return Feature(name, "explicit", description, "lead", f"coalesce(nullif({value}, ''), 'unknown')", "category",
                   f"{description.split(' (')[0].lower()}: {{value}}")


def declare(settings: FeatureSettings) -> list[Feature]:
    """Return the explicit features."""
    student = title_is_student_sql(settings.features.student_markers)
    personal = quoted(settings.features.personal_email_domains)
    features = [
        _category("seniority", "seniority", "Seniority level (c_level, vp, director, manager, individual, student)"),
        Feature("title_bucket", "explicit", "Job title bucket (executive, manager, individual, student, other)", "lead",
                f"""CASE WHEN {student} THEN 'student'
                     WHEN regexp_matches(lower(coalesce(l.job_title, '')), '{_EXECUTIVE}') THEN 'executive'
                     WHEN regexp_matches(lower(coalesce(l.job_title, '')), '{_MANAGER}') THEN 'manager'
                     WHEN nullif(trim(l.job_title), '') IS NOT NULL THEN 'individual'
                     ELSE 'other' END""", "category", "job title is {value} level"),
        _category("department", "department", "Department"),
        Feature("company_size_band", "explicit", "Company size band (employees)", "lead",
                """CASE WHEN l.company_size IS NULL OR l.company_size < 1 THEN 'unknown'
                     WHEN l.company_size <= 10 THEN '1-10' WHEN l.company_size <= 50 THEN '11-50'
                     WHEN l.company_size <= 200 THEN '51-200' WHEN l.company_size <= 1000 THEN '201-1000'
                     WHEN l.company_size <= 5000 THEN '1001-5000' ELSE '5000+' END""", "category",
                "company of {value} employees"),
        # the exact head count as well as the band: fit varies smoothly with size, and a band hides where in it a company sits
        Feature("company_employees", "explicit", "Company size in employees (NaN if unknown)", "lead",
                "CASE WHEN l.company_size >= 1 THEN CAST(l.company_size AS DOUBLE) END", "float",
                "company of {value:,.0f} employees"),
        _category("industry", "industry", "Industry"),
        _category("country", "country", "Country", lower=False),
        _category("lead_source", "lead_source", "Lead source (where the lead came from)"),
        Feature("is_business_email", "explicit", "Uses a business email domain", "lead",
                f"(l.email IS NOT NULL AND {email_domain_sql()} <> '' AND {email_domain_sql()} NOT IN {personal})", "bool",
                "uses a business email address"),
        Feature("lead_age_days", "explicit", "Days since the lead entered the CRM", "lead",
                "(epoch(s.as_of) - epoch(l.created_at)) / 86400.0", "float", "in the CRM for {value:.0f} days"),
    ]
    for column in settings.features.extra_lead_columns:
        features.append(Feature(f"attr_{column}", "explicit", f"Lead attribute {column}", "lead",
                                f'l."{column}"', "category", f"{column}: {{value}}"))
    return features
