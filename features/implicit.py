"""Implicit features: what the lead does — visits, downloads, forms, webinars, offline events,
sales calls and email engagement — counted in windows, with recency and decay.

Decay is offered at several half-lives (7, 30, 90 days by default) so the model learns how
fast interest fades instead of inheriting a hand-set decay from a points table.
"""

from __future__ import annotations

from leadscore.features.declarations import Feature, count_events, counted, days_since, is_type, quoted, total
from leadscore.features.settings import FeatureSettings
from leadscore.features.type_features import declare_type_features
from leadscore.features.vocabulary import Vocabulary, resolve

COUNTED_TYPES: tuple[str, ...] = (
    "email_open", "email_click", "web_visit", "form_submit", "content_download", "webinar_registered",
    "webinar_attended", "event_attended", "sales_call", "meeting", "demo_request",
)
"""Activity types with window counts and recency features."""

ENGAGEMENT_WEIGHTS: dict[str, float] = {
    "web_visit": 1, "email_open": 0.5, "email_click": 2, "content_download": 5, "form_submit": 5,
    "webinar_registered": 3, "webinar_attended": 8, "event_attended": 10, "demo_request": 20,
    "meeting": 15, "sales_call": 10,
}
"""Weight of each lead-initiated event in the decayed engagement scores."""

def lead_initiated(vocabulary: Vocabulary) -> str:
    """Return the condition: events that show the lead's own interest (not sends, bounces or unsubscribes)."""
    return is_type(vocabulary.own_activity())


LEAD_INITIATED = lead_initiated(resolve())
"""Events of the built-in vocabulary that show the lead's own interest."""


def is_offline(vocabulary: Vocabulary) -> str:
    """Return the condition: an offline event (its channel, or where the data gives none, its type's declared channel)."""
    return f"(t.channel = 'offline' OR (t.channel IS NULL AND {is_type(vocabulary.with_channel('offline'))}))"

_SINGULAR = {"webinars attended": "webinar attended", "offline events attended": "offline event attended"}
"""Singulars the last-word -s rule does not give."""
_PHRASES = {
    "email_open": ("email opens", "opened an email"),
    "email_click": ("email clicks", "clicked an email"),
    "web_visit": ("web visits", "visited the website"),
    "form_submit": ("form submissions", "submitted a form"),
    "content_download": ("content downloads", "downloaded content"),
    "webinar_registered": ("webinar registrations", "registered for a webinar"),
    "webinar_attended": ("webinars attended", "attended a webinar"),
    "event_attended": ("offline events attended", "attended an offline event"),
    "sales_call": ("sales calls", "had a sales call"),
    "meeting": ("meetings", "had a meeting"),
    "demo_request": ("demo requests", "requested a demo"),
}


def _window_label(days: int | None) -> str:
    return "ever" if days is None else f"in the last {days} days"


def declare(settings: FeatureSettings) -> list[Feature]:
    """Return the implicit features."""
    vocabulary = resolve(settings)
    own = lead_initiated(vocabulary)
    windows = list(settings.windows.lookback_days)
    features: list[Feature] = []
    for activity_type in COUNTED_TYPES:
        plural, verb = _PHRASES[activity_type]
        for days in windows + [None]:
            suffix = f"{days}d" if days is not None else "all"
            features.append(count_events(
                f"{activity_type}_count_{suffix}", "implicit", f"Number of {plural} {_window_label(days)}",
                f"{counted(_SINGULAR.get(plural, plural[:-1]), plural)} {_window_label(days)}",
                activity_type=vocabulary.of_role(activity_type), days=days,
                roles=(activity_type,)))
    for days in (30, 90):
        features.append(Feature(f"web_seconds_{days}d", "implicit", f"Seconds on the website in the last {days} days", "event",
                                total(f"t.value_{days}d", is_type(vocabulary.of_role("web_visit")), "DOUBLE"), "float",
                                f"{{value:duration}} on the website in the last {days} days", empty="0",
                                roles=("web_visit",)))
        features.append(Feature(f"active_days_{days}d", "implicit", f"Distinct calendar days (UTC) with own activity in the last {days} days", "day",
                                f"count(*) FILTER (WHERE d.age_days <= {days})", "int",
                                f"active on {counted('day', 'days')} in the last {days} days"))
    for activity_type in COUNTED_TYPES:
        plural, verb = _PHRASES[activity_type]
        features.append(days_since(f"days_since_last_{activity_type}", "implicit", f"Days since the lead last {verb}",
                                   is_type(vocabulary.of_role(activity_type)), f"{verb} {counted('day', 'days')} ago",
                                   roles=(activity_type,), missing=f"never {verb}"))
    features.append(days_since("days_since_last_activity", "implicit", "Days since the lead's last own activity",
                               own, f"last active {counted('day', 'days')} ago", missing="no activity of the lead's own yet"))
    weights = " ".join(f"WHEN {quoted([raw])[1:-1]} THEN {w}"
                       for role, w in ENGAGEMENT_WEIGHTS.items() for raw in vocabulary.of_role(role))
    for half_life in settings.windows.half_lives_days:
        features.append(Feature(
            f"engagement_decay_{half_life}d", "implicit",
            f"Engagement score decayed with a {half_life}-day half-life", "event",
            f"coalesce(sum((CASE t.activity_type {weights} ELSE 0 END) * t.decay_{half_life}d), 0)" if weights else "CAST(0 AS DOUBLE)",
            "float", f"recent engagement score {{value:.1f}} ({half_life}-day half-life)", empty="0",
            roles=tuple(ENGAGEMENT_WEIGHTS)))
    features.append(count_events("offline_count_90d", "implicit", "Offline touches (events, calls, meetings) in the last 90 days",
                                 f"{counted('offline touch', 'offline touches')} in the last 90 days", days=90, extra=is_offline(vocabulary)))
    # lifetime rates: how active this person is in general, not just lately (trees cannot divide two columns)
    features.append(Feature("web_visits_per_30d_lifetime", "implicit", "Web visits per 30 days since the lead was created", "derived",
                            "CAST(web_visit_count_all AS DOUBLE) * 30 / greatest(lead_age_days, 1.0)", "float",
                            "{value:.1f} web visits a month on average"))
    features.append(Feature("own_activity_per_30d_lifetime", "implicit", "Own activities per 30 days since the lead was created",
                            "derived", "CAST(web_visit_count_all + content_download_count_all + form_submit_count_all"
                            " + webinar_attended_count_all + email_click_count_all AS DOUBLE) * 30 / greatest(lead_age_days, 1.0)",
                            "float", "{value:.1f} own activities a month on average"))
    # False in every row when the population leaves out leads with an open opportunity (`features.snapshots`, the
    # default): kept so that a model's feature schema does not depend on the rule, and a tree never splits on a constant
    features.append(Feature("has_open_opportunity", "implicit", "Sales has an open opportunity with the lead", "opportunity",
                            "count(*) FILTER (WHERE o.outcome = 'open') > 0", "bool", "has an open sales opportunity",
                            negated="has no open sales opportunity"))
    features.append(Feature("days_since_opportunity_opened", "implicit", "Days since the open opportunity was opened (NaN if none)",
                            "opportunity", "min(o.age_days) FILTER (WHERE o.outcome = 'open')", "float",
                            f"opportunity opened {counted('day', 'days')} ago", missing="no open sales opportunity"))
    features.append(Feature(
        "activity_trend_30d_vs_prior_60d", "implicit",
        "Own activity in the last 30 days relative to the 60 days before (1 = steady, above 1 = rising)", "event",
        f"({total('t.n_30d', own)} + 1.0)"
        f" / (({total('t.n_90d', own)} - {total('t.n_30d', own)}) / 2.0 + 1.0)",
        "float", "activity trend {value:.1f}x the previous two months", empty="1.0"))
    features += declare_type_features(vocabulary, settings, "implicit")
    return features
