"""Hold a loaded CRM: one DuckDB connection with the three contract tables as views (the DuckDB engine).

Every stage after loading reads the CRM through this object, so the feature builder never
needs to know whether the data came from CSV, Parquet, a DuckDB file or pandas frames. It
is the DuckDB implementation of `features.engines.FeatureEngine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import duckdb
import pandas as pd

from leadscore.features.engine import connect
from leadscore.features.layout import create_keyed_copy
from leadscore.features.settings import EngineSettings, FeatureSettings

DATA_END_SQL = """
    SELECT greatest(
        (SELECT max(created_at) FROM leads),
        (SELECT max(occurred_at) FROM activities),
        (SELECT max(greatest(created_at, coalesce(closed_at, created_at))) FROM opportunities)) AS data_end
"""
"""The moment an extract was taken: its latest timestamp. Every engine runs this one text."""


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
    name: ClassVar[str] = "duckdb"

    def query(self, sql: str, frames: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Return the result of DuckDB SQL over the three tables and `frames`, each registered under its key."""
        for name, frame in (frames or {}).items():
            self.con.register(name, frame)
        try:
            return self.con.execute(sql).df()
        finally:
            for name in frames or {}:
                self.con.unregister(name)

    def features(self, snapshots: pd.DataFrame, settings: FeatureSettings) -> pd.DataFrame:
        """Return the feature frame of `snapshots` (lead_id, as_of), built by `features.builder`."""
        from leadscore.features.builder import build_features

        return build_features(self, snapshots, settings)

    def query_progress(self) -> float | None:
        """Return the share (0 to 1) of the running query done, or None when none runs or DuckDB cannot tell.

        Safe to call from another thread while `features` runs, so a caller can show a long
        feature query moving instead of a bar stuck at zero.
        """
        share = self.con.query_progress()
        return None if share < 0 else min(share / 100, 1.0)

    def table(self, name: str) -> pd.DataFrame:
        """Return one of the tables (the three, or the optional lifecycle) as a pandas frame (for small data and tests)."""
        if name not in {"leads", "activities", "opportunities", "lifecycle"}:
            raise KeyError(name)
        return self.con.execute(f"SELECT * FROM {name}").df()


def crm_from_frames(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    opportunities: pd.DataFrame,
    engine: EngineSettings | None = None,
    data_end: pd.Timestamp | None = None,
    source: str = "<frames>",
    lifecycle: pd.DataFrame | None = None,
) -> Crm:
    """Register already-typed frames as a `Crm` without validating them (tests, notebooks).

    `lifecycle`, the optional stage history (lead_id, stage, entered_at, reason), is exposed
    as `load_crm` exposes a validated one. Use `features.loaders.load_crm` for anything read
    from disk: it validates first.
    """
    con = connect(engine)
    for name, frame in (("leads", leads), ("activities", activities), ("opportunities", opportunities)):
        con.register(f"_{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_frame")
    if len(activities) <= (engine or EngineSettings()).copy_activities_up_to:
        create_keyed_copy(con)  # the layout `load_crm` builds, so tests on frames build features as loaded CRMs do
    if data_end is None:
        data_end = latest_timestamp(con)
    # the vocabulary, counted once as `load_crm` counts it: runs read it from the summary, never by a query of their own
    types = dict(con.execute("SELECT activity_type, count(*) FROM activities WHERE activity_type IS NOT NULL "
                             "GROUP BY activity_type ORDER BY activity_type").fetchall())
    summary = {"activity_types": types}
    if lifecycle is not None:
        frame = lifecycle if "reason" in lifecycle.columns else lifecycle.assign(reason=pd.NA)
        con.register("_lifecycle_frame", frame)
        con.execute("CREATE OR REPLACE TABLE lifecycle_copy AS SELECT lead_id, stage, entered_at, CAST(reason AS VARCHAR) AS reason, "
                    "CAST(NULL AS VARCHAR) AS _file, row_number() OVER () AS _row FROM _lifecycle_frame")
        con.execute("CREATE OR REPLACE VIEW lifecycle AS SELECT lead_id, stage, entered_at, reason FROM lifecycle_copy")
        summary["lifecycle_rows"] = len(lifecycle)
    return Crm(con=con, source=source, data_end=pd.Timestamp(data_end), summary=summary)


def latest_timestamp(con: duckdb.DuckDBPyConnection) -> pd.Timestamp:
    """Return the data end (`DATA_END_SQL`) of the tables on `con`."""
    return pd.Timestamp(con.execute(DATA_END_SQL).fetchall()[0][0])
