"""The keyed copy (integer lead keys, activity-kind codes) changes the speed of a build, never its features."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.builder import build_features, feature_sql
from leadscore.features.crm import crm_from_frames
from leadscore.features.layout import TEXT_KEYS, Layout, layout_of
from leadscore.features.loaders import load_crm
from leadscore.features.snapshots import open_leads_at
from leadscore.features.settings import EngineSettings, FeatureSettings

from .tiny_crm import tiny_tables, ts

AS_OF = ts("2024-03-01")


def test_keyed_and_text_key_builds_agree_value_for_value(synthetic_dir):
    keyed = load_crm(synthetic_dir)
    text = load_crm(synthetic_dir, EngineSettings(copy_activities_up_to=0))  # too large to copy: a view over the files
    assert layout_of(keyed.con).keyed and not layout_of(text.con).keyed
    settings = FeatureSettings()
    end = keyed.data_end.normalize()
    snapshots = open_leads_at(keyed, [end - pd.Timedelta(days=d) for d in (0, 45, 200, 400)])
    assert len(snapshots) > 5000
    pd.testing.assert_frame_equal(build_features(keyed, snapshots, settings), build_features(text, snapshots, settings))


def test_the_keyed_copy_shows_the_contract_columns_and_every_row(synthetic_dir, synthetic):
    keyed = load_crm(synthetic_dir)
    activities = keyed.table("activities")
    assert list(activities.columns) == list(synthetic.activities.columns)
    assert len(activities) == len(synthetic.activities.drop_duplicates())


def test_frames_are_keyed_without_losing_activities_of_unknown_leads():
    leads, activities, opportunities = tiny_tables()
    stray = activities.iloc[[0]].assign(lead_id="not-a-lead")
    crm = crm_from_frames(leads, pd.concat([activities, stray], ignore_index=True), opportunities)
    assert layout_of(crm.con).keyed
    assert len(crm.table("activities")) == len(activities) + 1
    small = crm_from_frames(leads, activities, opportunities, EngineSettings(copy_activities_up_to=0))
    assert not layout_of(small.con).keyed


@pytest.mark.parametrize("layout", [TEXT_KEYS, Layout({1: ("email_sent", "online")})])
def test_a_type_the_data_never_holds_filters_everything_out(layout):
    condition = layout.of_types(("email_open", "email_click"))
    assert condition == ("a.activity_type IN ('email_open', 'email_click')" if layout is TEXT_KEYS else "FALSE")
    assert condition in feature_sql(FeatureSettings(), layout=layout)


def test_a_keyed_crm_without_opens_or_clicks_builds_as_the_text_keyed_one():
    leads, activities, opportunities = tiny_tables()
    activities = activities[~activities["activity_type"].isin(["email_open", "email_click"])]
    snapshots = pd.DataFrame({"lead_id": leads["lead_id"], "as_of": AS_OF})
    keyed = crm_from_frames(leads, activities, opportunities)
    text = crm_from_frames(leads, activities, opportunities, EngineSettings(copy_activities_up_to=0))
    frame = build_features(keyed, snapshots, FeatureSettings())
    pd.testing.assert_frame_equal(frame, build_features(text, snapshots, FeatureSettings()))
    assert (frame["email_open_count_all"] == 0).all()


def test_a_lead_repeated_in_unvalidated_frames_repeats_no_activity():
    leads, activities, opportunities = tiny_tables()
    leads = pd.concat([leads, leads.iloc[[0]]], ignore_index=True)
    crm = crm_from_frames(leads, activities, opportunities)
    assert layout_of(crm.con).keyed
    assert len(crm.table("activities")) == len(activities)
    text = crm_from_frames(leads, activities, opportunities, EngineSettings(copy_activities_up_to=0))
    snapshots = pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": AS_OF})
    pd.testing.assert_frame_equal(build_features(crm, snapshots, FeatureSettings()), build_features(text, snapshots, FeatureSettings()))


def test_a_duckdb_source_with_its_own_keyed_activities_table_is_read_by_its_layout(tmp_path):
    import duckdb

    path = tmp_path / "crm.duckdb"
    source = duckdb.connect(str(path))
    for name, frame in zip(("leads", "activities", "opportunities"), tiny_tables()):
        source.register("frame", frame)
        source.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        source.unregister("frame")
    source.execute("CREATE TABLE keyed_activities AS SELECT 1 AS anything")  # a user's table, not leadscore's copy
    source.close()
    now = ts("2025-01-01")
    keyed = load_crm(path, now=now)
    text = load_crm(path, EngineSettings(copy_activities_up_to=0), now=now)  # activities stay a view over the file
    assert layout_of(keyed.con).keyed and not layout_of(text.con).keyed
    snapshots = pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": AS_OF})
    pd.testing.assert_frame_equal(build_features(text, snapshots, FeatureSettings()), build_features(keyed, snapshots, FeatureSettings()))
