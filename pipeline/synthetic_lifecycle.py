"""Give a generated CRM its lifecycle table: MQL when the packaged points table crosses its threshold.

The generator (`features.synthetic`) cannot score with a points table: that is the models
layer. This module composes the two, as a team's marketing automation does: every
`sync_days` it scores each open lead with the packaged table (with the CRM's own settings,
its competitors named) and hands the leads whose points reach the MQL threshold to Sales.
`features.synthetic.lifecycle` then writes what Sales did with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.crm import crm_from_frames
from leadscore.features.settings import FeatureOptions, FeatureSettings
from leadscore.features.snapshots import open_leads_at
from leadscore.features.synthetic import SETTINGS, SyntheticCrm
from leadscore.features.synthetic.lifecycle import lifecycle_table
from leadscore.models.rules import PointsScorer, load_points_table

SYNC_DAYS = 7
"""How often the simulated marketing automation scores the leads (a weekly sync to the CRM)."""

_CHUNK_ROWS = 400_000

_SYNC_HOUR = pd.Timedelta(hours=6)
"""The time of day the sync writes its MQLs: after the night's snapshot, which cannot see them."""


def mql_crossings(crm: SyntheticCrm, sync_days: int = SYNC_DAYS) -> pd.Series:
    """Return, per lead id, the first sync at which the packaged points table reached its MQL threshold."""
    engine = crm_from_frames(crm.leads, crm.activities, crm.opportunities)
    settings = FeatureSettings(features=FeatureOptions(**SETTINGS["features"]))
    table = load_points_table()
    threshold = table.thresholds.stages["MQL"]
    first = pd.Timestamp(crm.start) + pd.Timedelta(days=sync_days)
    dates = list(pd.date_range(first, crm.end, freq=f"{sync_days}D", inclusive="left"))
    crossed: dict[str, pd.Timestamp] = {}
    scorer = None
    every = open_leads_at(engine, dates)  # in date order: a chunk holds whole dates, earlier ones first
    bounds = every["as_of"].searchsorted(every["as_of"].drop_duplicates(), side="left").tolist() + [len(every)]
    cuts = [0]
    for bound in bounds[1:]:  # chunks of whole dates of about _CHUNK_ROWS snapshots: bounded memory, few scans
        if bound - cuts[-1] >= _CHUNK_ROWS or bound == len(every):
            cuts.append(bound)
    for start, stop in zip(cuts[:-1], cuts[1:]):
        snapshots = every.iloc[start:stop]
        snapshots = snapshots[~snapshots["lead_id"].isin(list(crossed))]
        if snapshots.empty:
            continue
        features = engine.features(snapshots, settings)
        if scorer is None:  # the fit only checks the table against the registry; no label is learnt from here
            scorer = PointsScorer(table).fit(features, np.arange(len(features)) % 2)
        hits = features.loc[scorer.decision_function(features) >= threshold, ["lead_id", "as_of"]]
        for lead_id, as_of in hits.sort_values("as_of").drop_duplicates("lead_id").itertuples(index=False):
            crossed.setdefault(str(lead_id), pd.Timestamp(as_of) + _SYNC_HOUR)
    engine.con.close()
    return pd.Series(crossed, dtype="datetime64[us, UTC]")


def with_lifecycle(crm: SyntheticCrm, sync_days: int = SYNC_DAYS) -> SyntheticCrm:
    """Return `crm` with its lifecycle table (handoffs at the points table's MQL crossings, Sales' decisions, deals)."""
    from dataclasses import replace

    return replace(crm, lifecycle=lifecycle_table(crm, mql_crossings(crm, sync_days), seed=int(crm.params["seed"])))
