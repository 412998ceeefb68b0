"""Hold a loaded CRM: one DuckDB connection with the three contract tables as views.

Every stage after loading reads the CRM through this object, so the feature builder never
needs to know whether the data came from CSV, Parquet, a DuckDB file or pandas frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from leadscore.features.engine import connect
from leadscore.features.layout import create_keyed_copy
from leadscore.features.settings import EngineSettings


@dataclass
class Crm:
    """A validated CRM: views `leads`, `activities` and `opportunities` on `con`.

    `data_end` is the moment the extract was taken (the latest timestamp in the data); labels
    whose horizon ends after it are censored. `summary` counts what loading saw and fixed
    (rows per table, duplicate activities dropped, ...).
    """

    con: duckdb.DuckDBPyConnection
    source: str
    data_end: pd.Timestamp
    summary: dict = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """Return one of the three tables as a pandas frame (for small data and tests)."""
        if name not in {"leads", "activities", "opportunities"}:
            raise KeyError(name)
        return self.con.execute(f"SELECT * FROM {name}").df()


def crm_from_frames(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    opportunities: pd.DataFrame,
    engine: EngineSettings | None = None,
    data_end: pd.Timestamp | None = None,
    source: str = "<frames>",
) -> Crm:
    """Register already-typed frames as a `Crm` without validating them (tests, notebooks).

    Use `features.loaders.load_crm` for anything read from disk: it validates first.
    """
    con = connect(engine)
    for name, frame in (("leads", leads), ("activities", activities), ("opportunities", opportunities)):
        con.register(f"_{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_frame")
    if len(activities) <= (engine or EngineSettings()).copy_activities_up_to:
        create_keyed_copy(con)  # the layout `load_crm` builds, so tests on frames build features as loaded CRMs do
    if data_end is None:
        data_end = _latest_timestamp(con)
    return Crm(con=con, source=source, data_end=pd.Timestamp(data_end))


def _latest_timestamp(con: duckdb.DuckDBPyConnection) -> pd.Timestamp:
    row = con.execute(
        """
        SELECT greatest(
            (SELECT max(created_at) FROM leads),
            (SELECT max(occurred_at) FROM activities),
            (SELECT max(greatest(created_at, coalesce(closed_at, created_at))) FROM opportunities))
        """
    ).fetchall()[0]
    return pd.Timestamp(row[0])
