"""Name the relations each kind of declaration reads, and the columns the builder gives each.

Kinds of declaration (each is an expression over the relations the builder provides, read
through their one-letter aliases):
- `lead`: an expression over the lead row `l` (the leads contract's columns the CRM has,
  `features.lead_columns`, and `features.extra_lead_columns`) and the snapshot `s` (`lead_id`, `as_of`): who the lead is;
- `event`: an aggregate over the snapshot's event summaries `t`: one row per activity type
  and channel the lead has visible events of (only events strictly before `as_of`; the
  builder alone decides that), with `t.n` (events ever), `t.n_30d` (in the last 30 days, one
  column per window), `t.value_30d` (sum of `value`), `t.age_min` (days since the latest)
  and `t.decay_7d` (sum of 0.5^(age/7), one column per half-life). Summarising per type
  first is what makes the build fast: the wide aggregation runs on ~10 rows per snapshot,
  not on every event;
- `email`: an expression over the snapshot's email summary `m` (NULL columns if no email was
  ever sent): `m.sends`, `m.unengaged_sends` (sent at or after the last visible open or
  click: the unopened streak), `m.recent_sends` (the last `features.recent_sends` sends, or
  fewer), `m.recent_opens` and `m.recent_clicks` (since the first of those sends);
- `opportunity`: an aggregate over the snapshot's visible opportunities `o` (opened strictly
  before `as_of`), with `o.outcome` (as the snapshot sees it) and `o.age_days` the days since
  it was opened;
- `day`: an aggregate over the calendar days (UTC) with the lead's own activity that the
  snapshot sees (`d.age_days`: whole days from the day to as_of's date, 0 for as_of's own
  day), for distinct-day counts without a DISTINCT;
- `derived`: an expression over the columns of the other kinds' features (by name, no
  alias), computed after them.

An aggregate over nothing is NULL; a snapshot with no visible row of a kind gets each
feature's `empty` value instead (0 for counts and FALSE for flags unless declared; a decayed
score declares 0, a trend 1.0; days since an event that never happened stay NULL).
"""

from __future__ import annotations

from leadscore.features.contract import LEADS
from leadscore.features.settings import FeatureSettings, WindowSettings

SUMMARY_WINDOWS: tuple[int, ...] = (30, 90)
"""Windows every summary has besides the configured lookbacks (rates and trend use them);
value sums (`t.value_30d`, seconds on site for web visits) exist for these windows only."""

RELATIONS: dict[str, str] = {
    "l": "the lead row", "s": "the snapshot", "t": "the event summaries", "m": "the email summary",
    "o": "the visible opportunities", "d": "the active days",
}
"""Every alias a declaration may use, with what it stands for."""

KIND_RELATIONS: dict[str, tuple[str, ...]] = {
    "lead": ("l", "s"), "event": ("t",), "email": ("m",), "opportunity": ("o",), "day": ("d",), "derived": (),
}
"""The aliases each kind of declaration reads."""


def summary_windows(windows: WindowSettings) -> list[int]:
    """Return the windows of the event summaries' counts: the configured lookbacks and `SUMMARY_WINDOWS`."""
    return sorted(set(windows.lookback_days) | set(SUMMARY_WINDOWS))


def relation_columns(settings: FeatureSettings) -> dict[str, frozenset[str]]:
    """Return the columns the builder gives each alias under `settings` (lower case, as DuckDB matches them).

    >>> sorted(relation_columns(FeatureSettings())["d"])
    ['age_days', 'sid']
    """
    counts = [f"n_{w}d" for w in summary_windows(settings.windows)]
    values = [f"value_{w}d" for w in SUMMARY_WINDOWS]
    decays = [f"decay_{h}d" for h in settings.windows.half_lives_days]
    columns = {
        "l": [*(c for c in LEADS.column_names if settings.features.has_lead_column(c)), *settings.features.extra_lead_columns],
        "s": ["sid", "lead_id", "as_of"],
        "t": ["sid", "activity_type", "channel", "n", "age_min", *counts, *values, *decays],
        "m": ["sid", "sends", "unengaged_sends", "recent_sends", "recent_from", "recent_opens", "recent_clicks"],
        "o": ["sid", "outcome", "age_days"],
        "d": ["sid", "age_days"],
    }
    return {alias: frozenset(c.lower() for c in names) for alias, names in columns.items()}
