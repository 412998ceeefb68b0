"""Point-in-time correctness: nothing at or after as_of changes a feature; labels look only after it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.features.builder import build_features
from leadscore.features.contract import ACTIVITY_TYPES, OFFLINE_ACTIVITY_TYPES
from leadscore.features.crm import crm_from_frames
from leadscore.features.labels import label_snapshots
from leadscore.features.snapshots import training_snapshots
from leadscore.features.settings import FeatureSettings, WindowSettings
from .tiny_crm import tiny_tables, ts

AS_OF = ts("2024-03-01")
SETTINGS = FeatureSettings()


def _features(leads, activities, opportunities):
    crm = crm_from_frames(leads, activities, opportunities)
    snaps = pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": [AS_OF] * 3})
    return build_features(crm, snaps, SETTINGS)


def _with(activities: pd.DataFrame, extra) -> pd.DataFrame:
    """Return `activities` plus the drawn (lead, type, seconds from AS_OF, value) events."""
    added = pd.DataFrame({
        "lead_id": [e[0] for e in extra],
        "occurred_at": [AS_OF + pd.Timedelta(seconds=e[2]) for e in extra],
        "activity_type": [e[1] for e in extra],
        "channel": ["offline" if e[1] in OFFLINE_ACTIVITY_TYPES else "online" for e in extra],
        "value": [e[3] for e in extra],
        "asset_id": [None] * len(extra),
    })
    return pd.concat([activities, added], ignore_index=True)


BASELINE = _features(*tiny_tables())

def drawn_activity(seconds: st.SearchStrategy) -> st.SearchStrategy:
    """Draw a (lead, type, seconds from AS_OF, value) event for `_with`."""
    return st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(ACTIVITY_TYPES), seconds,
                     st.one_of(st.none(), st.floats(0, 1e5)))


future_activity = drawn_activity(st.integers(min_value=0, max_value=400 * 24 * 3600))  # at or after as_of


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(future_activity, min_size=1, max_size=6))
def test_adding_activities_at_or_after_as_of_changes_no_feature(extra):
    leads, activities, opportunities = tiny_tables()
    after = _features(leads, _with(activities, extra), opportunities)
    pd.testing.assert_frame_equal(after, BASELINE)


SEVERAL = pd.DataFrame({"lead_id": ["A", "A", "A", "B", "C", "C"],
                        "as_of": [ts("2024-02-10"), AS_OF, ts("2024-03-15"), AS_OF, ts("2024-01-22"), AS_OF]})
any_activity = drawn_activity(st.integers(min_value=-90 * 24 * 3600, max_value=60 * 24 * 3600))  # either side of AS_OF


@pytest.mark.slow  # 25 examples of three builds each
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_activity, min_size=1, max_size=8))
def test_a_snapshot_sees_the_same_whichever_other_snapshots_are_built_with_it(extra):
    # a snapshot's features depend on its own (lead, as_of) only: building it alone gives what building
    # it beside the lead's earlier and later snapshots gives (sid numbering, shared CTEs, email tails)
    leads, activities, opportunities = tiny_tables()
    crm = crm_from_frames(leads, _with(activities, extra), opportunities)
    together = build_features(crm, SEVERAL, SETTINGS).set_index(["lead_id", "as_of"])
    for key, snapshot in SEVERAL.groupby(["lead_id", "as_of"]):
        alone = build_features(crm, snapshot, SETTINGS).set_index(["lead_id", "as_of"])
        pd.testing.assert_frame_equal(alone, together.loc[[key]], check_exact=False, rtol=1e-12)


@pytest.mark.slow  # 25 examples of a build over several snapshots per lead
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_activity, min_size=1, max_size=8))
def test_with_several_snapshots_per_lead_activities_at_or_after_an_as_of_change_none_of_its_features(extra):
    leads, activities, opportunities = tiny_tables()
    before = build_features(crm_from_frames(leads, activities, opportunities), SEVERAL, SETTINGS)
    after = build_features(crm_from_frames(leads, _with(activities, extra), opportunities), SEVERAL, SETTINGS)
    earliest_added = {lead: AS_OF + pd.Timedelta(seconds=min(e[2] for e in extra if e[0] == lead)) for lead, *_ in extra}
    unaffected = [earliest_added.get(lead, pd.Timestamp.max.tz_localize("UTC")) >= as_of
                  for lead, as_of in zip(before["lead_id"], before["as_of"])]
    pd.testing.assert_frame_equal(after[unaffected].reset_index(drop=True), before[unaffected].reset_index(drop=True))


def test_an_event_a_microsecond_before_as_of_is_visible_and_one_at_as_of_is_not():
    leads, activities, opportunities = tiny_tables()
    before = activities.iloc[[0]].assign(lead_id="B", activity_type="demo_request", occurred_at=AS_OF - pd.Timedelta(microseconds=1))
    frame = _features(leads, pd.concat([activities, before], ignore_index=True), opportunities).set_index("lead_id")
    assert frame.loc["B", "demo_request_count_7d"] == 1
    assert BASELINE.set_index("lead_id").loc["A", "demo_request_count_all"] == 0  # A's demo request is at exactly as_of


def test_opportunities_opened_at_or_after_as_of_are_invisible_and_a_later_close_is_still_open():
    leads, activities, opportunities = tiny_tables()
    at_as_of = opportunities.assign(created_at=AS_OF)
    assert not _features(leads, activities, at_as_of).set_index("lead_id").loc["A", "has_open_opportunity"]
    earlier = opportunities.assign(created_at=ts("2024-02-20"))  # closes (won) on April 20, after as_of
    frame = _features(leads, activities, earlier).set_index("lead_id")
    assert frame.loc["A", "has_open_opportunity"] and frame.loc["A", "days_since_opportunity_opened"] == pytest.approx(10.0)


def _label_crm(closed_at):
    leads, activities, opportunities = tiny_tables()
    opportunities = opportunities.assign(created_at=ts("2024-02-01"), closed_at=closed_at)
    return crm_from_frames(leads, activities, opportunities, data_end=ts("2025-01-01"))


@pytest.mark.parametrize(
    ("closed_at", "label"),
    [
        (AS_OF + pd.Timedelta(days=90), 1),                               # the last moment of the horizon counts
        (AS_OF + pd.Timedelta(days=90, seconds=1), 0),                     # one second later does not
        (AS_OF + pd.Timedelta(seconds=1), 1),
    ],
)
def test_labels_on_edge_dates(closed_at, label):
    crm = _label_crm(closed_at)
    labelled, _ = label_snapshots(crm, pd.DataFrame({"lead_id": ["A"], "as_of": [AS_OF]}), SETTINGS.windows)
    assert labelled["label"].tolist() == [label]


def test_a_lead_won_at_or_before_as_of_is_not_a_training_snapshot():
    windows = WindowSettings(first_snapshot="2024-03-01", last_snapshot="2024-03-01")
    crm = _label_crm(AS_OF)  # won exactly at as_of: already closed, so no snapshot
    assert "A" not in set(training_snapshots(crm, windows)["lead_id"])
    crm = _label_crm(AS_OF + pd.Timedelta(seconds=1))
    assert "A" in set(training_snapshots(crm, windows)["lead_id"])


def test_snapshots_whose_horizon_passes_the_data_end_are_censored_and_counted():
    crm = _label_crm(ts("2024-04-20"))
    crm.data_end = ts("2024-06-15")
    snaps = pd.DataFrame({"lead_id": ["A", "B", "B"], "as_of": [AS_OF, AS_OF, ts("2024-04-01")]})
    labelled, summary = label_snapshots(crm, snaps, SETTINGS.windows)
    # March 1 + 90 days = May 30 <= June 15 is kept; April 1 + 90 days = June 30 is censored
    assert summary["censored"] == 1 and len(labelled) == 2
    assert labelled.set_index("lead_id").loc["A", "label"] == 1


def test_only_emails_sent_after_the_last_open_count_as_unopened():
    """Streak rule: sends strictly after the last visible open or click are unopened; a send at the
    open's very instant is the one it answers (date-only exports put both at midnight)."""
    leads, activities, opportunities = tiny_tables()
    moment = AS_OF - pd.Timedelta(days=3)
    row = activities.iloc[[0]]
    extra = pd.concat([row.assign(lead_id="B", activity_type=t, occurred_at=moment + pd.Timedelta(days=d), channel="online")
                       for t, d in (("email_sent", -2), ("email_open", 0), ("email_sent", 0), ("email_sent", 1))],
                      ignore_index=True)
    frame = _features(leads, pd.concat([activities[activities["lead_id"] != "B"], extra], ignore_index=True), opportunities)
    assert frame.set_index("lead_id").loc["B", "unopened_email_streak"] == 1
