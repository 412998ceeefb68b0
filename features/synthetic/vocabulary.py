"""Speak a CRM's own activity vocabulary: the generator's events under names of their own, and their declarations.

A real CRM rarely uses the 14 built-in type names: it records several kinds of call, documents
sent and returned, status changes and back-office checks. `custom_activities` renames every
generated event into such a vocabulary and adds the kinds the built-in types have no home for,
so one hidden truth drives both vocabularies: a built-in type splits into own-named kinds in
shares that depend on the lead's buying state that day (a call in an opportunity is more often
a negotiation call than a discovery call), and the extra kinds are Poisson per state like the
built-in behaviour. `DECLARATIONS` is the `features.activity_types` section a team would write
for it: which kinds are sends, opens, clicks, bounces and opt-outs, which happen offline and
which carry seconds, with plain-words labels for the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.synthetic.personas import OPEN_STATES, OPPORTUNITY

OWN_NAMES: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "email_sent": {"Newsletter sent": (0.6, 0.5, 0.4, 0.4), "Nurture mail sent": (0.4, 0.5, 0.6, 0.6)},
    "email_open": {"Mail opened": (1.0, 1.0, 1.0, 1.0)},
    "email_click": {"Mail link clicked": (1.0, 1.0, 1.0, 1.0)},
    "email_bounce": {"Mail undeliverable": (1.0, 1.0, 1.0, 1.0)},
    "unsubscribe": {"Opted out": (1.0, 1.0, 1.0, 1.0)},
    "web_visit": {"Page view": (0.8, 0.6, 0.4, 0.4), "Pricing page view": (0.05, 0.15, 0.4, 0.3),
                  "Docs page view": (0.15, 0.25, 0.2, 0.3)},
    "form_submit": {"Contact form": (0.9, 0.7, 0.4, 0.3), "Quote request form": (0.1, 0.3, 0.6, 0.7)},
    "content_download": {"Brochure downloaded": (0.7, 0.5, 0.4, 0.3), "Case study downloaded": (0.3, 0.5, 0.6, 0.7)},
    "webinar_registered": {"Webinar sign-up": (1.0, 1.0, 1.0, 1.0)},
    "webinar_attended": {"Webinar joined": (1.0, 1.0, 1.0, 1.0)},
    "event_attended": {"Trade fair visit": (1.0, 1.0, 1.0, 1.0)},
    "demo_request": {"Demo booked": (1.0, 1.0, 1.0, 1.0)},
    "sales_call": {"Discovery call": (1.0, 1.0, 0.6, 0.1), "Follow-up call": (0.0, 0.0, 0.3, 0.4),
                   "Check-in call": (0.0, 0.0, 0.1, 0.2), "Negotiation call": (0.0, 0.0, 0.0, 0.3)},
    "meeting": {"On-site meeting": (0.5, 0.5, 0.5, 0.6), "Video meeting": (0.5, 0.5, 0.5, 0.4)},
}
"""Each built-in type's own-named kinds, with the share of each in each open state (cold, warm, hot, opportunity)."""

EXTRA_RATES: dict[str, tuple[float, float, float, float]] = {
    "Status changed": (0.002, 0.010, 0.030, 0.020),
    "Documents sent": (0.0, 0.0, 0.010, 0.060),
    "Documents returned": (0.0, 0.0, 0.002, 0.035),
    "Credit check": (0.0, 0.0, 0.0, 0.020),
    "Compliance check": (0.0, 0.0, 0.001, 0.012),
}
"""Expected events per day in each open state of the kinds no built-in type holds."""

OFFLINE_KINDS: tuple[str, ...] = ("Discovery call", "Follow-up call", "Check-in call", "Negotiation call", "On-site meeting",
                                  "Trade fair visit", "Credit check", "Compliance check")

_ALIASES = {"Newsletter sent": "email_sent", "Nurture mail sent": "email_sent", "Mail opened": "email_open",
            "Mail link clicked": "email_click", "Mail undeliverable": "email_bounce", "Opted out": "unsubscribe",
            "Demo booked": "demo_request", "Webinar sign-up": "webinar_registered", "Webinar joined": "webinar_attended",
            "Trade fair visit": "event_attended"}
_LABELS = {"Status changed": "status change", "Documents sent": "document sent", "Documents returned": "document returned"}


def _declaration(name: str) -> dict:
    if name in _ALIASES:
        return {"role": _ALIASES[name]}
    declared = {"label": _LABELS.get(name, name.lower())}
    if name in OFFLINE_KINDS:
        declared["channel"] = "offline"
    if name in OWN_NAMES["web_visit"]:
        declared["value"] = "seconds"
    return declared


def own_types() -> list[str]:
    """Return every activity type name of the own vocabulary.

    >>> len(own_types()) >= 20 and "Follow-up call" in own_types()
    True
    """
    return sorted({name for names in OWN_NAMES.values() for name in names} | set(EXTRA_RATES))


DECLARATIONS: dict = {"features": {"activity_types": {name: _declaration(name) for name in own_types()}}}
"""The `features.activity_types` section a team would write for the own vocabulary: the kinds that are one
built-in type under another name (sends, opens, clicks, bounces, opt-outs, demo bookings, webinars, trade fairs)
as aliases of its role, so the email engagement features, the negative family and the points table see them;
the kinds a built-in type was split into, and those with no built-in home, as custom types with plain-words
labels, the offline ones offline and page views with their seconds."""


def custom_activities(events: pd.DataFrame, runs: pd.DataFrame, states: np.ndarray, persona: np.ndarray,
                      rng: np.random.Generator) -> pd.DataFrame:
    """Return `events` (lead, day, activity_type, value, asset_id) renamed into the own vocabulary, with the extra kinds added.

    The kind of each event is drawn from its built-in type's shares in the lead's state on the
    event's day; the extra kinds come from `behaviour_events` with `EXTRA_RATES`.
    """
    from leadscore.features.synthetic.activity import behaviour_events

    n_days = states.shape[1]
    state = states[events["lead"].to_numpy(), np.minimum(events["day"].to_numpy().astype(int), n_days - 1)]
    state = np.where(np.isin(state, OPEN_STATES), state, OPPORTUNITY)  # on its closing day a lead closes from an opportunity
    builtin = events["activity_type"].to_numpy().astype(str)
    renamed = builtin.astype(object)
    draw = rng.random(len(events))
    for activity_type, kinds in OWN_NAMES.items():
        rows = np.flatnonzero(builtin == activity_type)
        if len(rows) == 0:
            continue
        shares = np.array(list(kinds.values()))[:, state[rows]]  # (kind, row)
        cumulative = np.cumsum(shares / shares.sum(axis=0), axis=0)
        pick = np.minimum((draw[rows][None, :] > cumulative).sum(axis=0), len(kinds) - 1)
        renamed[rows] = np.array(list(kinds), dtype=object)[pick]
    extra = behaviour_events(runs, persona, rng, rates=EXTRA_RATES)
    return pd.concat([events.assign(activity_type=renamed), extra], ignore_index=True)

