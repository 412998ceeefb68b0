"""label.stage: reaching a lifecycle stage within the horizon, with no stage entry at or after as_of reaching the features."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.crm import crm_from_frames
from leadscore.features.labels import label_snapshots_by_stage
from leadscore.features.settings import FeatureSettings, LifecycleSettings, WindowSettings
from .tiny_crm import tiny_tables, ts

AS_OF = ts("2024-03-01")
LIFECYCLE = pd.DataFrame({
    "lead_id": ["A", "B", "B", "C", "C", "C"],
    "stage": ["SQL", "MQL", "SQL", "SQL", "Recycled", "Opportunity"],
    "entered_at": [AS_OF, ts("2024-02-20"), ts("2024-03-10"), ts("2024-01-10"), ts("2024-02-01"), ts("2024-05-01")],
})
WINDOWS = WindowSettings(horizon_days=30)


def _crm(lifecycle=LIFECYCLE):
    leads, activities, opportunities = tiny_tables()
    return crm_from_frames(leads, activities, opportunities, lifecycle=lifecycle, data_end=ts("2024-06-30"))


def _snapshots():
    return pd.DataFrame({"lead_id": pd.array(["A", "B", "C"], dtype="string"), "as_of": [AS_OF] * 3})


def test_a_stage_reached_within_the_horizon_is_the_label_and_leads_already_there_are_not_snapshots():
    labelled, summary = label_snapshots_by_stage(_crm(), _snapshots(), WINDOWS, "sql", LifecycleSettings())
    assert dict(zip(labelled["lead_id"], labelled["label"])) == {"B": 1, "C": 0}
    # A entered SQL at as_of: already there (as a lead won at as_of is not a snapshot); C was recycled back to nurture
    # and its opportunity on 2024-05-01 comes after the 30-day horizon
    assert summary["already_at_stage"] == 1 and summary["positives"] == 1 and summary["label_stage"] == "sql"


def test_a_later_funnel_stage_counts_as_reaching_the_stage():
    labelled, _ = label_snapshots_by_stage(_crm(), _snapshots(), WindowSettings(horizon_days=90), "sql", LifecycleSettings())
    assert dict(zip(labelled["lead_id"], labelled["label"])) == {"B": 1, "C": 1}  # C's opportunity on 2024-05-01


def test_no_lifecycle_entry_reaches_the_features_wherever_it_lies():
    snapshots = _snapshots()
    without = _crm(None).features(snapshots, FeatureSettings())
    later = pd.concat([LIFECYCLE, pd.DataFrame({"lead_id": ["A", "B"], "stage": ["Customer", "Disqualified"],
                                                "entered_at": [AS_OF, AS_OF + pd.Timedelta(days=1)]})], ignore_index=True)
    for lifecycle in (LIFECYCLE, later):
        pd.testing.assert_frame_equal(_crm(lifecycle).features(snapshots, FeatureSettings()), without)


def test_entries_at_or_after_as_of_never_change_the_label_of_an_earlier_snapshot_outside_its_horizon():
    base, _ = label_snapshots_by_stage(_crm(), _snapshots(), WINDOWS, "sql", LifecycleSettings())
    beyond = pd.concat([LIFECYCLE, pd.DataFrame({"lead_id": ["C"], "stage": ["SQL"], "entered_at": [AS_OF + pd.Timedelta(days=31)]})])
    moved, _ = label_snapshots_by_stage(_crm(beyond), _snapshots(), WINDOWS, "sql", LifecycleSettings())
    pd.testing.assert_frame_equal(base, moved)


def test_a_stage_label_without_a_lifecycle_table_is_bad_input_naming_the_key():
    from leadscore.features.errors import BadInputError

    leads, activities, opportunities = tiny_tables()
    with pytest.raises(BadInputError, match="label.stage is 'sql' but the CRM has no lifecycle table"):
        label_snapshots_by_stage(crm_from_frames(leads, activities, opportunities), _snapshots(), WINDOWS, "sql", LifecycleSettings())
