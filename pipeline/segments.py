"""Put each lead in its segment, and give a segment its own CRM and config: what the segmented stages share.

A lead's segment is decided from its row in the leads table, the attributes the CRM holds of
it as exported; every snapshot of a lead is in the same segment, so a segment's model never
learns from a lead that another segment's model is judged on. A lead goes to the first
segment whose filter it meets, in config order; a lead no filter takes is in the fallback
segment, scored by the global model. Each segment's model is registered under its own name,
`<tracking.model_name>-<segment>`: its own champion and challenger aliases, its own versions
and its own promotion, through the same registry code as the global model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.crm import Crm, crm_from_frames
from leadscore.pipeline.config import FALLBACK_SEGMENT, Config, SegmentConfig
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.segment_filter import matches, missing_columns

SEGMENT_COLUMN = "lead_segment"
"""The scores file's column naming the lead's segment (`segment` is the model's hot/nurture/leave)."""


def assign_segments(leads: pd.DataFrame, segments: list[SegmentConfig], source: str = "the leads table") -> pd.Series:
    """Return each lead's segment name (the first whose filter it meets, else `fallback`), indexed by `lead_id`.

    A filter naming a column the leads table lacks is bad input naming the key, the column and
    the columns there are.

    >>> from leadscore.pipeline.config import SegmentConfig
    >>> leads = pd.DataFrame({"lead_id": ["a", "b", "c"], "company_size": [5000, 50, None]})
    >>> assign_segments(leads, [SegmentConfig(name="big", where="company_size >= 1000")]).tolist()
    ['big', 'fallback', 'fallback']
    """
    names = np.full(len(leads), FALLBACK_SEGMENT, dtype=object)
    free = np.ones(len(leads), dtype=bool)
    for i, segment in enumerate(segments):
        absent = missing_columns(leads.columns, segment.conditions)
        if absent:
            have = ", ".join(c for c in leads.columns if c != "email")
            raise BadInputError(f"key 'segments.{i}.where' (segment {segment.name!r}): {source} has no column "
                                f"{', '.join(map(repr, absent))}; its columns are {have}")
        taken = free & matches(leads, segment.conditions)
        names[taken] = segment.name
        free &= ~taken
    return pd.Series(names, index=pd.Index(leads["lead_id"].astype(str), name="lead_id"), name=SEGMENT_COLUMN)


def segment_counts(assignment: pd.Series, segments: list[SegmentConfig]) -> dict[str, int]:
    """Return the number of leads per segment, in config order, the fallback last."""
    counts = assignment.value_counts()
    return {name: int(counts.get(name, 0)) for name in [s.name for s in segments] + [FALLBACK_SEGMENT]}


def model_name_of(config: Config, segment: str) -> str:
    """Return the registered model name of a segment: the global model's for the fallback, else `<name>-<segment>`.

    >>> from leadscore.pipeline.config import load_config
    >>> model_name_of(load_config(), "enterprise"), model_name_of(load_config(), "fallback")
    ('leadscore-enterprise', 'leadscore')
    """
    return config.tracking.model_name if segment == FALLBACK_SEGMENT else f"{config.tracking.model_name}-{segment}"


def segment_config(config: Config, segment: SegmentConfig) -> Config:
    """Return the config a segment's model trains and scores with: its model name, its overrides, no segments of its own."""
    data = config.model_dump()
    data["tracking"]["model_name"] = model_name_of(config, segment.name)
    for key in ("points_table", "targets", "grades"):
        value = getattr(segment, key)
        if value is not None:
            data[key] = value if isinstance(value, str) else value.model_dump()
    data["segments"] = []
    return Config.model_validate(data)


def segment_crm(crm: Crm, lead_ids, config: Config) -> Crm:
    """Return a CRM holding only the leads `lead_ids` with their activities, opportunities and lifecycle.

    Its data end is the whole CRM's (the moment of the extract), so labels are censored at the
    same moment for every segment. The tables are read into frames: fine for the CRMs one
    machine trains on, each segment a part of it.
    """
    from leadscore.pipeline.catalog import engine_settings

    ids = pd.DataFrame({"lead_id": pd.Series(list(lead_ids), dtype="string")})
    tables = {name: crm.query(f"SELECT t.* FROM {name} t SEMI JOIN _segment_ids s ON t.lead_id = s.lead_id",
                              {"_segment_ids": ids})
              for name in ("leads", "activities", "opportunities")}
    lifecycle = None
    if "lifecycle_rows" in crm.summary:
        lifecycle = crm.query("SELECT t.* FROM lifecycle t SEMI JOIN _segment_ids s ON t.lead_id = s.lead_id", {"_segment_ids": ids})
    return crm_from_frames(tables["leads"], tables["activities"], tables["opportunities"], engine_settings(config),
                           data_end=crm.data_end, source=str(crm.source), lifecycle=lifecycle)


def leads_of(crm: Crm) -> pd.DataFrame:
    """Return the leads table without the email column (never needed to place a lead, never worth holding)."""
    leads = crm.table("leads")
    return leads.drop(columns=[c for c in ("email",) if c in leads.columns])


def check_placeable(crm: Crm, config: Config) -> pd.Series:
    """Return the segment of every lead of `crm` under `config.segments` (bad input if a filter names a missing column)."""
    return assign_segments(leads_of(crm), config.segments, f"{crm.source}: the leads table")
