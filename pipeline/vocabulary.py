"""Give a run the activity vocabulary of its CRM: the types present, recorded in the feature settings.

Training records the raw activity types the data holds (`features.present_activity_types`), so
every custom type gets its features and the model bundle keeps the exact list; scoring and
evaluation rebuild the model's columns from that list, and a type the model never saw is left
out with a warning naming it (`features.vocabulary` says why the types are settings).
"""

from __future__ import annotations

from rich.markup import escape

from leadscore.features.engines import FeatureEngine
from leadscore.features.vocabulary import new_types, resolve, with_present_types
from leadscore.pipeline.config import Config
from leadscore.pipeline.console import err

SHOWN_ROWS = 5
"""How many rows a warning names before it says '...'."""


def present_types(crm: FeatureEngine) -> dict[str, int]:
    """Return the rows of every distinct activity type of `crm` (counted at load, or by one query)."""
    counted = getattr(crm, "summary", {}).get("activity_types")
    if counted is not None:
        return dict(counted)
    frame = crm.query("SELECT activity_type, count(*) AS n FROM activities GROUP BY activity_type")
    return {str(t): int(n) for t, n in zip(frame["activity_type"], frame["n"]) if t is not None}


def with_crm_vocabulary(config: Config, crm: FeatureEngine) -> Config:
    """Return `config` whose feature settings know the activity types of `crm`; warn of types a recorded list lacks."""
    present = present_types(crm)
    settings = config.for_features
    if settings.features.present_activity_types is not None:
        unseen = new_types(settings, present)
        if unseen:
            shown = ", ".join(f"'{t}' ({present[t]:,} row{'s' if present[t] > 1 else ''})" for t in unseen[:10]) + (" and more" if len(unseen) > 10 else "")
            err.print(f"[yellow]warning:[/] {crm.source}: column 'activity_type' has types the model was not trained on, "
                      f"left out of its features: {shown}; retrain to use them")
        return config
    options = with_present_types(settings, present).features
    return config.model_copy(update={"features": options})


def custom_type_count(config: Config) -> int:
    """Return how many custom activity types get features of their own under `config`."""
    return len(resolve(config.for_features).custom)


def channel_contradictions(crm: FeatureEngine, config: Config) -> list[str]:
    """Return one warning per declared activity type whose rows carry a channel contradicting its declaration.

    Each names the activities file, the column, the type, the declared channel, how many rows and the first
    `SHOWN_ROWS` of them (file and line). Those rows keep the data's channel. A CRM loaded without
    the typed view of its files (frames, Spark) has no rows to name and gets no warning.
    """
    from leadscore.features.validation import name_rows

    con = getattr(crm, "con", None)
    counts = getattr(crm, "summary", {}).get("activity_channels")
    if con is None or counts is None:
        return []
    vocabulary = resolve(with_present_types(config.for_features, list(counts)))
    messages = []
    for t in vocabulary.types:
        if t.origin != "declared" or not set(counts.get(t.raw, {})) - {t.channel, "none"}:
            continue  # the load's counts per (type, channel) say where to look, so clean types cost no query
        rows = con.execute("SELECT _file, _row FROM typed_activities WHERE activity_type = ? AND channel IS NOT NULL "
                           "AND channel <> ? ORDER BY _file, _row", [t.raw, t.channel]).fetchall()
        if rows:
            shown = ", ".join(name_rows(con, "activities", rows[:SHOWN_ROWS]))
            messages.append(f"{crm.summary.get('activities_file', crm.source)}: column 'channel' contradicts the declared channel '{t.channel}' of activity type "
                            f"'{t.raw}' in {len(rows):,} row{'s' if len(rows) > 1 else ''} "
                            f"({shown}{', ...' if len(rows) > SHOWN_ROWS else ''}); those rows keep the data's channel")
    return messages


def warn_channel_contradictions(crm: FeatureEngine, config: Config) -> None:
    """Print `channel_contradictions` as warnings on stderr."""
    for message in channel_contradictions(crm, config):
        err.print(f"[yellow]warning:[/] {escape(message)}")
