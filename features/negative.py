"""Negative features: what counts against a lead — unsubscribes, bounces, streaks of unopened
email, low email engagement, long inactivity and disqualifying attributes.
"""

from __future__ import annotations

from leadscore.features.declarations import Feature, counted, email_domain_sql, is_type, quoted, title_is_student_sql, total, window_column
from leadscore.features.settings import FeatureSettings
from leadscore.features.type_features import declare_type_features
from leadscore.features.vocabulary import Vocabulary, resolve


def _rate(vocabulary: Vocabulary, role: str, days: int | None = 90) -> str:
    """Return events of `role` per email sent in the last `days` days (None: ever), capped at 1; NULL if none sent."""
    sends = total(window_column("n", days), is_type(vocabulary.of_role("email_sent")))
    hits = total(window_column("n", days), is_type(vocabulary.of_role(role)))
    return f"CASE WHEN {sends} > 0 THEN least(1.0, {hits} * 1.0 / {sends}) END"


def _recent_rate(engagement: str, sends: int) -> Feature:
    """Declare opens (clicks) per email over the lead's last `sends` emails, capped at 1; NaN if none sent.

    Opens are counted from the first of those sends on, so an open of an older email in that
    time counts too: email events carry no link from an open to the send it answers.
    """
    return Feature(f"email_{engagement}_rate_last_sends", "negative",
                   f"Email {engagement}s per email over the last {sends} sent (NaN if none sent)", "email",
                   f"CASE WHEN m.recent_sends > 0 THEN least(1.0, coalesce(m.recent_{engagement}s, 0) * 1.0 / m.recent_sends) END",
                   "float", f"{engagement}ed {{value:.0%}} of the last {sends} emails", roles=("email_sent",),
                   missing="no email sent to the lead yet")


def declare(settings: FeatureSettings) -> list[Feature]:
    """Return the negative features; a disqualifier reading lead columns the CRM lacks is left out."""
    vocabulary = resolve(settings)
    sent = ("email_sent",)
    has = settings.features.has_lead_column
    personal = quoted(settings.features.personal_email_domains)
    # a plain substring test on lower case: a marker is text, never a LIKE pattern ('%' and '_' match only themselves)
    markers = "" if not has("company_name") else " OR ".join(
        f"instr(lower(coalesce(l.company_name, '')), {quoted([m.lower()])[1:-1]}) > 0"
        for m in settings.features.competitor_markers if m.strip()
    ) or "FALSE"
    domains = settings.features.competitor_domains
    competitor_domain = f" OR {email_domain_sql()} IN {quoted(domains)}" if domains and has("email") else ""
    students = [c for c in ("seniority", "job_title") if has(c)]
    disqualifiers = [
        Feature("is_student", "negative", "Job title or seniority marks a student", "lead",
                title_is_student_sql(settings.features.student_markers, students), "bool", "is a student", negated="is not a student") if students else None,
        Feature("is_competitor", "negative", "Works for a competitor", "lead", f"({markers or 'FALSE'}{competitor_domain})", "bool",
                "works for a competitor", negated="does not work for a competitor") if has("company_name") or competitor_domain else None,
        Feature("is_personal_email", "negative", "Uses a personal email domain", "lead",
                f"coalesce({email_domain_sql()} IN {personal}, FALSE)", "bool", "uses a personal email address",
                negated="does not use a personal email address") if has("email") else None,
    ]
    return [
        Feature("is_unsubscribed", "negative", "Unsubscribed from marketing email", "event",
                f"max(CASE WHEN {is_type(vocabulary.of_role('unsubscribe'))} THEN 1 ELSE 0 END) = 1", "bool", "unsubscribed from email",
                negated="has not unsubscribed from email", roles=("unsubscribe",)),
        Feature("is_bounced", "negative", "An email to the lead bounced", "event",
                f"max(CASE WHEN {is_type(vocabulary.of_role('email_bounce'))} THEN 1 ELSE 0 END) = 1", "bool", "email address bounced",
                negated="no bounced email", roles=("email_bounce",)),
        Feature("unopened_email_streak", "negative", "Emails sent since the lead last opened or clicked one", "email",
                "coalesce(m.unengaged_sends, 0)", "int", f"{counted('unopened email', 'unopened emails')} in a row", roles=sent),
        _recent_rate("open", settings.features.recent_sends),
        _recent_rate("click", settings.features.recent_sends),
        Feature("email_open_rate_recent", "negative", "Email opens per email sent in the last 90 days (NaN if none sent)", "event",
                _rate(vocabulary, "email_open"),
                "float", "opened {value:.0%} of recent emails", roles=sent,
                missing="no email sent in the last 90 days"),
        Feature("email_click_rate_recent", "negative", "Email clicks per email sent in the last 90 days (NaN if none sent)", "event",
                _rate(vocabulary, "email_click"),
                "float", "clicked {value:.0%} of recent emails", roles=sent,
                missing="no email sent in the last 90 days"),
        Feature("email_open_rate_lifetime", "negative", "Email opens per email sent since the lead was created (NaN if none sent)",
                "event", _rate(vocabulary, "email_open", days=None), "float", "opened {value:.0%} of all emails", roles=sent,
                missing="no email sent to the lead yet"),
        Feature("days_inactive", "negative", "Days without any own activity (since creation if never active)", "derived",
                "coalesce(days_since_last_activity, lead_age_days)", "float", f"inactive for {counted('day', 'days')}"),
        *(f for f in disqualifiers if f is not None),
        *declare_type_features(vocabulary, settings, "negative"),
    ]
