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


def test_a_connection_without_a_temp_directory_spills_under_the_system_temp_folder_not_the_current_one(tmp_path, monkeypatch):
    import tempfile
    from pathlib import Path

    from leadscore.features.engine import connect
    from leadscore.features.settings import EngineSettings

    monkeypatch.chdir(tmp_path)
    spill = connect().execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(spill).resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()), spill
    configured = connect(EngineSettings(temp_directory=str(tmp_path / "spill"))).execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(configured) == tmp_path / "spill"
