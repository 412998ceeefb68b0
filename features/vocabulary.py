"""Resolve the CRM's activity vocabulary: every raw activity type with its label, role, family, channel and value.

Feature declarations are generated from the resolved vocabulary, not from hard-coded lists.
It holds the 14 built-in types (always, so the packaged points table and a model's columns do
not depend on which types one extract happens to hold), the types declared in
`features.activity_types`, and the types present in the data (`features.present_activity_types`).

The types present must be known before any data is read (the registry declares features from
settings alone, for `features --list` and the checks at registration), so they are settings:
training reads them from the loaded CRM (`with_present_types`) and a model bundle records them
with its other feature settings; scoring rebuilds exactly those columns, and a type that appears
later and is undeclared is left out with a warning (`new_types`) instead of adding a column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadscore.features.contract import OFFLINE_ACTIVITY_TYPES
from leadscore.features.settings import ROLES, ActivityTypeDeclaration, FeatureSettings

OFFLINE_ROLES: frozenset[str] = OFFLINE_ACTIVITY_TYPES
NEGATIVE_ROLES: frozenset[str] = frozenset({"email_bounce", "unsubscribe"})
LEAD_INITIATED_ROLES: tuple[str, ...] = (
    "web_visit", "email_open", "email_click", "content_download", "form_submit", "webinar_registered",
    "webinar_attended", "event_attended", "demo_request", "meeting", "sales_call",
)
"""Built-in roles that show the lead's own interest (not sends, bounces or unsubscribes)."""

ROLE_LABELS: dict[str, str] = {
    "email_sent": "email sent", "email_open": "email open", "email_click": "email click", "email_bounce": "email bounce",
    "unsubscribe": "unsubscribe", "web_visit": "web visit", "form_submit": "form submission",
    "content_download": "content download", "webinar_registered": "webinar registration",
    "webinar_attended": "webinar attended", "event_attended": "offline event attended", "sales_call": "sales call",
    "meeting": "meeting", "demo_request": "demo request",
}


@dataclass(frozen=True)
class ActivityType:
    """One raw activity type as the features see it.

    `origin` says where its meaning came from: `built-in` (its raw name is a built-in role),
    `declared` (in `features.activity_types`) or `undeclared` (found in the data: a custom implicit type).
    """

    raw: str
    label: str
    role: str
    family: str
    channel: str
    value: str
    origin: str
    slug: str = ""
    plural: str | None = None

    @property
    def custom(self) -> bool:
        return self.role == "custom"

    @property
    def noun(self) -> str:
        """Return what one event of this type is called in reasons: its declared label, else "'raw name' event"."""
        return self.label if self.plural else f"'{self.raw}' event"

    @property
    def nouns(self) -> str:
        """Return the plural of `noun`."""
        return self.plural or f"'{self.raw}' events"


@dataclass(frozen=True)
class Vocabulary:
    """The resolved activity types, in a stable order: the built-ins, then the others by raw name.

    `present` holds the raw types the data has, once read (None before): a filter then names
    only those, so a role the data never holds costs the query nothing (its counts are a constant 0).
    """

    types: tuple[ActivityType, ...]
    present: frozenset[str] | None = None

    def _names(self, chosen) -> tuple[str, ...]:
        return tuple(t.raw for t in chosen if self.present is None or t.raw in self.present)

    def of_role(self, *roles: str) -> tuple[str, ...]:
        """Return the raw names whose role is one of `roles` (a built-in name and its aliases)."""
        return self._names(t for t in self.types if t.role in roles)

    @property
    def custom(self) -> tuple[ActivityType, ...]:
        """Return the types that get features of their own (role `custom`)."""
        return tuple(t for t in self.types if t.custom)

    def with_channel(self, channel: str) -> tuple[str, ...]:
        """Return the raw names whose declared (or role's) channel is `channel`."""
        return self._names(t for t in self.types if t.channel == channel)

    def own_activity(self) -> tuple[str, ...]:
        """Return the raw types that count as the lead's own activity: lead-initiated roles and custom implicit types."""
        return self._names(t for t in self.types if t.role in LEAD_INITIATED_ROLES or (t.custom and t.family == "implicit"))


def plural_of(noun: str) -> str:
    """Return the English plural of a noun phrase by its last word's ending (a declaration's `plural` overrides it).

    >>> [plural_of(n) for n in ("follow-up call", "status change", "fax", "inquiry", "day", "Brush")]
    ['follow-up calls', 'status changes', 'faxes', 'inquiries', 'days', 'Brushes']
    """
    if re.search(r"(s|x|z|ch|sh)$", noun, re.IGNORECASE):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun, re.IGNORECASE):
        return noun[:-1] + "ies"
    return noun + "s"


def slug(raw: str) -> str:
    """Return a feature-name-safe slug of a raw type name.

    >>> slug("Follow-up call"), slug("  Doc. sent (v2) ")
    ('follow_up_call', 'doc_sent_v2')
    """
    text = re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")
    return text or "type"


def _resolved(raw: str, declaration: ActivityTypeDeclaration | None) -> ActivityType:
    if declaration is None:
        if raw in ROLES:
            return ActivityType(raw, ROLE_LABELS[raw], raw, "negative" if raw in NEGATIVE_ROLES else "implicit",
                                "offline" if raw in OFFLINE_ROLES else "online", "seconds" if raw == "web_visit" else "none",
                                "built-in")
        return ActivityType(raw, raw, "custom", "implicit", "online", "none", "undeclared")
    role = declaration.role
    if role == "custom":
        defaults = ActivityType(raw, raw, "custom", "implicit", "online", "none", "declared")
    else:
        builtin = _resolved(role, None)
        defaults = ActivityType(raw, builtin.label, role, builtin.family, builtin.channel, builtin.value, "declared")
    # a declared label is a noun reasons can count; a raw name may be any phrase ("Status changed"), so it is quoted
    plural = (declaration.plural or plural_of(declaration.label)) if declaration.label else None
    return ActivityType(raw, declaration.label or defaults.label, role, declaration.family or defaults.family,
                        declaration.channel or defaults.channel, declaration.value or defaults.value, "declared", plural=plural)


def resolve(settings: FeatureSettings | None = None) -> Vocabulary:
    """Return the vocabulary of `settings`: built-in types, declared types and the types present in the data.

    A built-in name may be declared too (to relabel it or move its channel). Two custom types whose
    raw names slug alike get numbered slugs (declared types first, then in raw-name order), so
    every feature name is unique.

    >>> v = resolve(FeatureSettings(features={"present_activity_types": ["Follow-up call", "email_sent"]}))
    >>> [(t.raw, t.role, t.slug) for t in v.custom]
    [('Follow-up call', 'custom', 'follow_up_call')]
    """
    settings = settings or FeatureSettings()
    declared = settings.features.activity_types
    names = list(ROLES) + sorted((set(declared) | set(settings.features.present_activity_types or ())) - set(ROLES))
    types = [_resolved(raw, declared.get(raw)) for raw in names]
    slugs: dict[str, str] = {}
    # declared types take their slugs first (a name the user wrote down keeps its plain slug), then by raw name
    for t in sorted((t for t in types if t.custom), key=lambda t: (t.origin != "declared", t.raw)):
        base = slug(t.raw)
        candidate, n = base, 2
        while candidate in slugs.values():
            candidate, n = f"{base}_{n}", n + 1
        slugs[t.raw] = candidate
    present = settings.features.present_activity_types
    return Vocabulary(tuple(ActivityType(**{**t.__dict__, "slug": slugs[t.raw]}) if t.custom else t for t in types),
                      None if present is None else frozenset(present))


def produced_roles(settings: FeatureSettings) -> set[str] | None:
    """Return the roles (and raw custom types) the data's activities have, which features count; None if not read yet."""
    present = settings.features.present_activity_types
    if present is None:
        return None
    return {t.raw if t.custom else t.role for t in resolve(settings).types if t.raw in set(present)}


def new_types(settings: FeatureSettings, present: dict[str, int] | list[str]) -> list[str]:
    """Return the raw types in `present` that the vocabulary of `settings` has no features for (scoring leaves them out)."""
    known = {t.raw for t in resolve(settings).types}
    return sorted(t for t in present if t not in known)


def with_present_types(settings: FeatureSettings, present: dict[str, int] | list[str]) -> FeatureSettings:
    """Return `settings` recording the raw types `present` in the data, unless settings already record them."""
    if settings.features.present_activity_types is not None:
        return settings
    options = settings.features.model_copy(update={"present_activity_types": tuple(sorted(present))})
    return settings.model_copy(update={"features": options})


def undeclared_snippet(vocabulary: Vocabulary) -> str:
    """Return a ready-to-edit `features.activity_types` YAML section for the undeclared types.

    >>> print(undeclared_snippet(resolve(FeatureSettings(features={"present_activity_types": ["Follow-up call"]}))))
    features:
      activity_types:
        "Follow-up call":
          label: "Follow-up call"
          role: custom   # or a built-in role it means: email_sent, email_open, ..., demo_request
          family: implicit   # implicit | negative
          channel: online   # online | offline
          value: none   # none | seconds | amount
    """
    lines = ["features:", "  activity_types:"]
    for t in vocabulary.types:
        if t.origin != "undeclared":
            continue
        lines += [f"    {_yaml_text(t.raw)}:", f"      label: {_yaml_text(t.label)}",
                  "      role: custom   # or a built-in role it means: email_sent, email_open, ..., demo_request",
                  f"      family: {t.family}   # implicit | negative", f"      channel: {t.channel}   # online | offline",
                  f"      value: {t.value}   # none | seconds | amount"]
    return "\n".join(lines)


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
