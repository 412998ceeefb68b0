"""Give a run the activity vocabulary of its CRM: the types present, recorded in the feature settings.

Training records the raw activity types the data holds (`features.present_activity_types`), so
every custom type gets its features and the model bundle keeps the exact list; scoring and
evaluation rebuild the model's columns from that list, and a type the model never saw is left
out with a warning naming it (`features.vocabulary` says why the types are settings).
"""

from __future__ import annotations

from leadscore.features.engines import FeatureEngine
from leadscore.features.vocabulary import new_types, resolve, with_present_types
from leadscore.pipeline.config import Config
from leadscore.pipeline.console import err


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
