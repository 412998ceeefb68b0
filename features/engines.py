"""Define the one interface both engines offer: the CRM's relations in; snapshots, labels, features out.

An engine holds the three contract relations (`leads`, `activities`, `opportunities`) and
knows when the extract ends. The snapshot schedule, the open-leads rule, censoring and
labelling are written once (`features.snapshots`, `features.labels`, `features.dataset`)
as SQL in DuckDB's dialect that every engine runs through `query`; only building the
feature frame is the engine's own. DuckDB (`features.crm.Crm`) and Spark
(`features.spark.SparkCrm`) implement it; `open_engine` picks one by `engine.name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from leadscore.features.settings import EngineSettings, FeatureSettings


@runtime_checkable
class FeatureEngine(Protocol):
    """A loaded CRM on some engine: what the stages need from it, and nothing else."""

    name: str
    source: str
    data_end: pd.Timestamp

    def query(self, sql: str, frames: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Return the result of DuckDB-dialect SQL over the three relations and `frames`, each named by its key."""
        ...

    def features(self, snapshots: pd.DataFrame, settings: FeatureSettings) -> pd.DataFrame:
        """Return the feature frame of `snapshots` (lead_id, as_of), typed as `features.builder` types it."""
        ...


def open_engine(data: str | Path, engine: EngineSettings) -> FeatureEngine:
    """Load the CRM at `data` on the engine `engine.name` names (DuckDB validates it; Spark reads Parquet)."""
    if engine.name == "spark":
        from leadscore.features.spark import SparkCrm

        return SparkCrm.from_parquet(data, engine)
    from leadscore.features.loaders import load_crm

    return load_crm(data, engine)
