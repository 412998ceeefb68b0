"""Exact feature values on a tiny hand-written CRM, worked out by hand from the definitions."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.registry import all_features
from leadscore.features.settings import FeatureSettings
from .tiny_crm import tiny_tables, ts

AS_OF_1 = ts("2024-03-01")   # the demo request at exactly this moment is not visible
AS_OF_2 = ts("2024-03-15")


@pytest.fixture(scope="module")
def features():
    crm = crm_from_frames(*tiny_tables())
    snaps = pd.DataFrame({"lead_id": ["A", "B", "C", "A"], "as_of": [AS_OF_1, AS_OF_1, AS_OF_1, AS_OF_2]})
    frame = build_features(crm, snaps, FeatureSettings())
    return {(r.lead_id, r.as_of): r for r in frame.itertuples(index=False)}


EXPECTED = {
    ("A", AS_OF_1): {
        "seniority": "vp", "title_bucket": "executive", "company_size_band": "201-1000", "country": "US", "lead_source": "referral",
        "is_business_email": True, "is_personal_email": False, "is_student": False, "lead_age_days": 60.0,
        "web_visit_count_7d": 1, "web_visit_count_30d": 2, "web_visit_count_all": 2, "web_seconds_30d": 150.0,
        "content_download_count_7d": 1, "webinar_attended_count_7d": 1, "event_attended_count_7d": 1, "offline_count_90d": 1,
        "demo_request_count_all": 0, "email_open_count_all": 1,
        # sent Feb 1 (opened), Feb 8, Feb 15: two sends since the last open
        "unopened_email_streak": 2, "email_open_rate_recent": 1 / 3,
        "email_open_rate_last_sends": 1 / 3, "email_click_rate_last_sends": 0.0,  # the last 10 sends are all 3
        "days_since_last_web_visit": 4 + 15 / 24, "days_since_last_event_attended": 1 + 13 / 24,  # 2024 is a leap year: Feb 29 lies between
        "days_since_last_demo_request": math.nan, "is_unsubscribed": False, "has_open_opportunity": False,
        "active_days_30d": 5,  # own activity on Feb 1 (open), 20, 25, 27 and 28
    },
    ("B", AS_OF_1): {
        "seniority": "student", "title_bucket": "student", "company_size_band": "unknown", "department": "unknown",
        "is_business_email": False, "is_personal_email": True, "is_student": True,
        "unopened_email_streak": 4, "email_open_rate_recent": 0.0, "email_open_rate_last_sends": 0.0, "web_visit_count_all": 1, "days_since_last_web_visit": 19 + 14 / 24,
    },
    ("C", AS_OF_1): {
        "is_unsubscribed": True, "unopened_email_streak": 0, "email_open_rate_last_sends": 1.0, "days_inactive": 35 + 14 / 24, "email_open_count_90d": 1,
        "company_size_band": "11-50", "title_bucket": "manager",
    },
    ("A", AS_OF_2): {
        "demo_request_count_all": 1, "demo_request_count_30d": 1, "days_since_last_demo_request": 14.0,
        "web_visit_count_7d": 1, "web_visit_count_all": 3, "has_open_opportunity": True, "days_since_opportunity_opened": 9 + 14 / 24,
        "unopened_email_streak": 2,
    },
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{k[0]}@{k[1].date()}" for k in EXPECTED])
def test_hand_computed_values(features, key):
    row = features[key]
    for name, expected in EXPECTED[key].items():
        actual = getattr(row, name)
        if isinstance(expected, float) and math.isnan(expected):
            assert pd.isna(actual), name
        elif isinstance(expected, float):
            assert actual == pytest.approx(expected, abs=1e-6), name
        else:
            assert actual == expected, name


def test_decayed_engagement_follows_the_half_life(features):
    row = features[("C", AS_OF_1)]
    # C's own events: open (0.5) 40.54 days ago, visit (1) 35.58 days ago; unsubscribes weigh nothing
    age_open, age_visit = 40 + 13 / 24, 35 + 14 / 24
    expected = 0.5 * 0.5 ** (age_open / 30) + 1.0 * 0.5 ** (age_visit / 30)
    assert row.engagement_decay_30d == pytest.approx(expected)


@pytest.mark.parametrize("recent_sends, rate", [(3, 1 / 3), (2, 0.0), (1, 0.0)])
def test_open_rate_counts_only_the_last_n_sends(recent_sends, rate):
    # A, as of Mar 1: sent Feb 1 10:00 (opened at 12:00), Feb 8, Feb 15; with the last 2 sends the open is too old
    crm = crm_from_frames(*tiny_tables())
    snaps = pd.DataFrame({"lead_id": ["A"], "as_of": [AS_OF_1]})
    frame = build_features(crm, snaps, FeatureSettings(features={"recent_sends": recent_sends})).set_index("lead_id")
    assert frame.loc["A", "email_open_rate_last_sends"] == pytest.approx(rate)
    assert frame.loc["A", "unopened_email_streak"] == 2


def test_a_snapshot_that_sees_no_event_gets_each_features_empty_value():
    """Lead B at Feb 2 exists but has done nothing yet: counts 0, flags false, declared `empty`
    values (no decayed engagement, a steady trend), and NaN for days since and rates of nothing."""
    settings = FeatureSettings()
    frame = build_features(crm_from_frames(*tiny_tables()), pd.DataFrame({"lead_id": ["B"], "as_of": [ts("2024-02-02")]}), settings)
    row = frame.iloc[0]
    for f in all_features(settings):
        if f.kind in ("lead", "derived"):
            continue
        expected = float(f.empty) if f.empty else {"int": 0, "bool": False}.get(f.dtype, math.nan)
        if isinstance(expected, float) and math.isnan(expected):
            assert pd.isna(row[f.name]), f.name
        else:
            assert row[f.name] == expected, f.name
    assert row["engagement_decay_7d"] == 0 and row["activity_trend_30d_vs_prior_60d"] == 1.0
    assert row["days_inactive"] == row["lead_age_days"] == 1.0 and row["web_visits_per_30d_lifetime"] == 0


def test_student_markers_match_whole_words_of_the_title():
    leads, activities, opportunities = tiny_tables()
    titles = ["Head of International Sales", "Marketing Intern", "Internal Audit Manager"]
    leads = leads.assign(job_title=titles, seniority=["director", None, "manager"])
    frame = build_features(crm_from_frames(leads, activities, opportunities),
                           pd.DataFrame({"lead_id": ["A", "B", "C"], "as_of": [AS_OF_1] * 3}), FeatureSettings())
    assert frame.set_index("lead_id")["is_student"].to_dict() == {"A": False, "B": True, "C": False}


def test_a_send_at_the_time_of_the_last_open_is_not_unopened():
    """Exports that keep only dates put a send and its open at the same midnight: the open answers it."""
    leads, _, opportunities = tiny_tables()
    day = ts("2024-02-10")
    activities = pd.DataFrame({"lead_id": ["A"] * 3, "occurred_at": [day] * 3,
                               "activity_type": ["email_sent", "email_open", "email_click"], "channel": ["online"] * 3,
                               "value": [None] * 3, "asset_id": [None] * 3})
    frame = build_features(crm_from_frames(leads, activities, opportunities),
                           pd.DataFrame({"lead_id": ["A"], "as_of": [AS_OF_1]}), FeatureSettings())
    assert frame.loc[0, "unopened_email_streak"] == 0
    assert frame.loc[0, "email_open_rate_last_sends"] == 1.0


def test_active_days_of_a_snapshot_do_not_depend_on_the_other_snapshots_in_its_build():
    """Active days are whole UTC days: lead C's visit of Jan 25 10:00 is on day 90 of an as_of of Apr 24 at noon,
    whether or not an earlier as_of (Apr 24 at midnight) shares the build."""
    crm = crm_from_frames(*tiny_tables())
    noon = ts("2024-04-24T12:00")
    alone = build_features(crm, pd.DataFrame({"lead_id": ["C"], "as_of": [noon]}), FeatureSettings())
    beside = build_features(crm, pd.DataFrame({"lead_id": ["C", "A"], "as_of": [noon, ts("2024-04-24")]}), FeatureSettings())
    assert alone.loc[0, "active_days_90d"] == 1
    assert beside.set_index("lead_id").loc["C", "active_days_90d"] == 1
