"""Fit a run's feature settings to the CRM it loaded: the activity types it holds and its lead columns.

Every stage that builds features from a CRM passes its config through `fit_to_crm` first, so
the features, and a model bundle's recorded settings, describe exactly this CRM's vocabulary
(`pipeline.vocabulary`) and lead columns (`pipeline.lead_columns`).
"""

from __future__ import annotations

from leadscore.features.engines import FeatureEngine
from leadscore.pipeline.config import Config
from leadscore.pipeline.lead_columns import for_crm
from leadscore.pipeline.vocabulary import with_crm_vocabulary


def fit_to_crm(config: Config, crm: FeatureEngine, model: str | None = None) -> Config:
    """Return `config` with the activity types and lead columns of `crm`; `model` names the model it scores for."""
    return for_crm(with_crm_vocabulary(config, crm), crm, model=model)
