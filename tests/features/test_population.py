"""The population rule: a lead with an open opportunity at as_of is in Sales' hands, on a hand-made CRM."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.features.crm import crm_from_frames
from leadscore.features.dataset import build_training_set
from leadscore.features.settings import FeatureSettings, PopulationSettings, WindowSettings
from leadscore.features.snapshots import open_leads_at, split_population
from .tiny_crm import tiny_tables, ts

AS_OF = ts("2024-03-01")


def _crm(opportunities: pd.DataFrame):
    leads, activities, _ = tiny_tables()
    more = pd.DataFrame({"lead_id": ["D", "E"], "created_at": [ts("2024-01-10"), ts("2024-01-12")]})
    leads = pd.concat([leads, more], ignore_index=True)
    # a late visit of E ends the data after every 30-day label window of as_of, so no snapshot is censored
    late = activities.iloc[[0]].assign(lead_id="E", occurred_at=ts("2024-04-15"), activity_type="web_visit", value=5.0)
    return crm_from_frames(leads, pd.concat([activities, late], ignore_index=True), opportunities)


def _opportunities(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "opportunity_id": [f"O{i}" for i in range(len(rows))],
        "lead_id": [r[0] for r in rows],
        "created_at": [ts(r[1]) for r in rows],
        "closed_at": [ts(r[2]) if r[2] else pd.NaT for r in rows],
        "outcome": [r[3] for r in rows],
        "amount": [1000.0] * len(rows),
    })


# A: opened before as_of, won after it (open at as_of); B: opened before, still open; C: opened AFTER as_of and won;
# D: opened before and lost before as_of (no longer an open lead); E: no opportunity
OPPORTUNITIES = _opportunities([
    ("A", "2024-02-20T10:00Z", "2024-03-20T10:00Z", "won"),
    ("B", "2024-02-25T10:00Z", None, "open"),
    ("C", "2024-03-01T01:00Z", "2024-03-15T10:00Z", "won"),
    ("D", "2024-02-01T10:00Z", "2024-02-10T10:00Z", "lost"),
])
WINDOWS = WindowSettings(horizon_days=30, lookback_days=(7, 30), half_lives_days=(7,), first_snapshot="2024-03-01",
                         last_snapshot="2024-03-01")


def test_an_open_lead_is_flagged_in_sales_pipeline_exactly_when_an_opportunity_is_open_at_as_of():
    snapshots = open_leads_at(_crm(OPPORTUNITIES), [AS_OF]).set_index("lead_id")["in_sales_pipeline"]
    assert snapshots.to_dict() == {"A": True, "B": True, "C": False, "E": False}  # D was lost before as_of: not open


@pytest.mark.parametrize(("rule", "kept", "left_out"), [
    ("exclude", {"C", "E"}, {"A", "B"}),
    ("include", {"A", "B", "C", "E"}, set()),
])
def test_the_population_rule_keeps_and_leaves_out_by_option(rule, kept, left_out):
    snapshots = open_leads_at(_crm(OPPORTUNITIES), [AS_OF])
    scored, out = split_population(snapshots, PopulationSettings(open_opportunities=rule))
    assert set(scored["lead_id"]) == kept and set(out["lead_id"]) == left_out
    assert ("in_sales_pipeline" in scored.columns) == (rule == "include")


def test_excluded_snapshots_are_labelled_aside_and_the_open_opportunity_feature_is_then_constant():
    training = build_training_set(_crm(OPPORTUNITIES), FeatureSettings(windows=WINDOWS))
    assert set(training.frame["lead_id"]) == {"C", "E"}
    assert not training.frame["has_open_opportunity"].any()
    assert training.frame["days_since_opportunity_opened"].isna().all()
    assert training.left_out.set_index("lead_id")["label"].to_dict() == {"A": 1, "B": 0}  # A's win is after as_of
    assert training.summary["in_sales_pipeline_left_out"] == 2 and training.summary["in_sales_pipeline_left_out_wins"] == 1
    assert training.frame.set_index("lead_id")["label"].to_dict() == {"C": 1, "E": 0}


def test_included_snapshots_carry_the_flag_the_feature_agrees_with():
    settings = FeatureSettings(windows=WINDOWS, population=PopulationSettings(open_opportunities="include"))
    training = build_training_set(_crm(OPPORTUNITIES), settings)
    frame = training.frame.set_index("lead_id")
    assert set(frame.index) == {"A", "B", "C", "E"} and training.left_out.empty
    pd.testing.assert_series_equal(frame["in_sales_pipeline"], frame["has_open_opportunity"], check_names=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lead=st.sampled_from(["A", "B", "C", "E"]), opened=st.integers(0, 60 * 24 * 3600),
       outcome=st.sampled_from(["won", "lost", "open"]), lasted=st.integers(1, 60 * 24 * 3600))
def test_an_opportunity_opened_at_or_after_as_of_never_removes_the_snapshot(lead, opened, outcome, lasted):
    # nor flags it: at as_of Sales had not taken the lead yet (a close at as_of itself ends the lead, as before)
    created = AS_OF + pd.Timedelta(seconds=opened)
    later = pd.DataFrame({"opportunity_id": ["LATE"], "lead_id": [lead], "created_at": [created],
                          "closed_at": [created + pd.Timedelta(seconds=lasted) if outcome != "open" else pd.NaT],
                          "outcome": [outcome], "amount": [1.0]})
    before = open_leads_at(_crm(OPPORTUNITIES), [AS_OF])
    after = open_leads_at(_crm(pd.concat([OPPORTUNITIES, later], ignore_index=True)), [AS_OF])
    pd.testing.assert_frame_equal(after, before)
