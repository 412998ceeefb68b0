"""Fit a config's feature settings to the lead columns a loaded CRM holds, printing what to watch.

Every stage that builds features from a CRM passes its config through `for_crm` first, so
the features (and a model bundle's recorded settings) read exactly the lead columns the
CRM has. A stage scoring with a trained model needs every lead column the model was
trained with: one gone missing is a schema mismatch naming it, not a silently absent feature.
"""

from __future__ import annotations

from leadscore.features.engines import FeatureEngine
from leadscore.features.lead_columns import fit_lead_columns, leads_origin, missing_lead_columns
from leadscore.pipeline.config import Config
from leadscore.pipeline.console import err
from leadscore.pipeline.errors import SchemaMismatchError


def for_crm(config: Config, crm: FeatureEngine, model: str | None = None) -> Config:
    """Return `config` with its features reading the lead columns `crm` holds; `model` names the model it scores for.

    With `model`, the config carries the model's recorded lead columns (unset: every contract
    column, as a model trained on a full leads table records them), and each must be in the
    CRM's leads table (else SchemaMismatchError, exit code 3).
    """
    settings = config.for_features
    if model is not None:
        missing = missing_lead_columns(crm, settings)
        if missing:
            raise SchemaMismatchError(
                f"{leads_origin(crm)}: model {model} was trained with the lead column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}, which the leads table lacks; export {'them' if len(missing) > 1 else 'it'} "
                "again or retrain on this CRM")
    fitted, warnings = fit_lead_columns(crm, settings)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    return config.model_copy(update={"features": fitted.features})
