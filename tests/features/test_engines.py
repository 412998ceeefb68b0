"""The engine interface: the DuckDB CRM offers it, runs named frames beside its relations, and leaves none behind."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.crm import DATA_END_SQL, crm_from_frames
from leadscore.features.engines import FeatureEngine, open_engine
from leadscore.pipeline.config import load_config
from .tiny_crm import tiny_tables, ts


def test_the_duckdb_crm_is_a_feature_engine_whose_query_sees_named_frames_only_while_it_runs():
    crm = crm_from_frames(*tiny_tables())
    assert isinstance(crm, FeatureEngine) and crm.name == "duckdb"
    dates = pd.DataFrame({"as_of": [ts("2024-03-01")]})
    counted = crm.query("SELECT count(*) AS n FROM leads, d WHERE leads.created_at < d.as_of", {"d": dates})
    assert int(counted["n"].iloc[0]) > 0
    with pytest.raises(Exception, match="d"):
        crm.query("SELECT * FROM d")


def test_the_data_end_is_the_one_query_every_engine_runs():
    crm = crm_from_frames(*tiny_tables())
    assert crm.data_end == pd.Timestamp(crm.query(DATA_END_SQL)["data_end"].iloc[0])


def test_open_engine_loads_a_folder_with_the_engine_the_settings_name(synthetic_dir):
    crm = open_engine(synthetic_dir, load_config().engine)
    assert crm.name == "duckdb" and crm.source == str(synthetic_dir)
    lead = crm.query("SELECT min(lead_id) AS lead_id FROM leads")["lead_id"].iloc[0]
    snapshot = pd.DataFrame({"lead_id": pd.Series([lead], dtype="string"), "as_of": [crm.data_end.normalize()]})
    features = crm.features(snapshot, load_config())
    assert len(features) == 1 and "web_visit_count_30d" in features.columns
