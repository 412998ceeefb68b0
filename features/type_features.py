"""Declare the features of each custom activity type: counts per window and ever, recency, decay and value sums.

Every type of role `custom` in the resolved vocabulary (`features.vocabulary`) gets the same
family of features, named `type_<slug>_...` after its raw name, in its declared family
(implicit or negative). Each reads only its type's summary rows (`Feature.rows_of`), so the
builder aggregates a type's features over its rows alone. Their reasons count the type in its own words, in agreement with the
value ("had 1 follow-up call in the last 30 days", "had 3 follow-up calls ..."; an undeclared
type by its quoted raw name: "had 2 'Status changed' events ..."), never in the wording of a
built-in type. The families `implicit` and `negative` each declare the custom types of their family.
"""

from __future__ import annotations

from leadscore.features.declarations import Feature, braced, count_events, counted, days_since, is_type, total
from leadscore.features.relations import SUMMARY_WINDOWS
from leadscore.features.settings import FeatureSettings
from leadscore.features.vocabulary import ActivityType, Vocabulary

_UNITS = {"seconds": "seconds", "amount": "amount"}


def _window_label(days: int | None) -> str:
    return "in all" if days is None else f"in the last {days} days"


def declare_type_features(vocabulary: Vocabulary, settings: FeatureSettings, family: str) -> list[Feature]:
    """Return the features of every custom type of `family` in `vocabulary`."""
    return [f for t in vocabulary.custom if t.family == family for f in type_features(t, settings)]


def type_features(t: ActivityType, settings: FeatureSettings) -> list[Feature]:
    """Return one custom type's features (see the module docstring)."""
    name, label, family, roles = f"type_{t.slug}", t.label, t.family, (t.raw,)
    quoted_label = f"'{label}'"
    how_many, one, many = counted(t.noun, t.nouns), braced(t.noun), braced(t.nouns)
    condition = is_type([t.raw])
    features = []
    for days in [*settings.windows.lookback_days, None]:
        suffix = f"{days}d" if days is not None else "all"
        features.append(count_events(f"{name}_count_{suffix}", family, f"Number of {quoted_label} events {_window_label(days)}",
                                     f"had {how_many} {_window_label(days)}", activity_type=[t.raw],
                                     days=days, roles=roles, rows_of=roles))
    features.append(days_since(f"days_since_last_{name}", family, f"Days since the lead's last {quoted_label} event", condition,
                               f"last {one} {counted('day', 'days')} ago", roles=roles, rows_of=roles,
                               missing=f"no {t.noun} yet"))
    for half_life in settings.windows.half_lives_days:
        features.append(Feature(f"{name}_decay_{half_life}d", family,
                                f"{quoted_label} events decayed with a {half_life}-day half-life", "event",
                                f"coalesce(sum(CASE WHEN {condition} THEN t.decay_{half_life}d ELSE 0 END), 0)", "float",
                                f"recent {many} score {{value:.1f}} ({half_life}-day half-life)", empty="0", roles=roles,
                                rows_of=roles))
    if t.value != "none":
        unit = _UNITS[t.value]
        for days in SUMMARY_WINDOWS:
            total_sql = total(f"coalesce(t.value_{days}d, 0)", condition, "DOUBLE")
            events = total(f"t.n_{days}d", condition, "DOUBLE")
            features.append(Feature(f"{name}_{t.value}_sum_{days}d", family,
                                    f"Total {unit} of {quoted_label} events in the last {days} days", "event", total_sql, "float",
                                    f"{_value_words(t.value)} {'on' if t.value == 'seconds' else 'over'} {many} "
                                    f"in the last {days} days", empty="0", roles=roles, rows_of=roles))
            features.append(Feature(f"{name}_{t.value}_mean_{days}d", family,
                                    f"Mean {unit} per {quoted_label} event in the last {days} days (NaN if none)", "event",
                                    f"CASE WHEN {events} > 0 THEN {total_sql} / {events} END", "float",
                                    f"{_value_words(t.value)} per {one} in the last {days} days", roles=roles,
                                    rows_of=roles, missing=f"no {t.noun} in the last {days} days"))
    return features


def _value_words(value: str) -> str:
    """Return the reason words of a sum or mean of a declared value: "54 minutes" or "an amount of N"."""
    return "{value:duration}" if value == "seconds" else "an amount of {value:,.0f}"
