"""Snapshots more often than daily: the schedule, and features and labels point-in-time at an as_of within a day."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.labels import label_snapshots
from leadscore.features.settings import FeatureSettings, WindowSettings
from leadscore.features.snapshots import open_leads_at, snapshot_dates, training_snapshots
from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError
from .tiny_crm import tiny_tables, ts

AS_OF = ts("2024-03-05T06:00Z")  # a snapshot time that is no midnight


def _crm_with(extra_activities=(), opportunities=None):
    leads, activities, tiny_opportunities = tiny_tables()
    rows = pd.DataFrame({"lead_id": [r[0] for r in extra_activities], "occurred_at": [ts(r[1]) for r in extra_activities],
                         "activity_type": [r[2] for r in extra_activities], "channel": "online", "value": None, "asset_id": None})
    return crm_from_frames(leads, pd.concat([activities, rows], ignore_index=True),
                           tiny_opportunities if opportunities is None else opportunities)


def test_a_sub_daily_slide_spaces_snapshots_by_hours_up_to_the_last_uncensored_moment():
    crm = _crm_with()
    windows = WindowSettings(slide="6h", horizon_days=30, lookback_days=(7,), first_snapshot="2024-03-01")
    dates = snapshot_dates(crm, windows)
    steps = pd.Series(dates).diff().dropna()
    assert (steps == pd.Timedelta(hours=6)).all()
    assert any(d != d.normalize() for d in dates)  # not midnights
    last_uncensored = crm.data_end - pd.Timedelta(days=30)
    assert dates[-1] <= last_uncensored < dates[-1] + pd.Timedelta(hours=6)
    labelled, summary = label_snapshots(crm, training_snapshots(crm, windows), windows)
    assert summary["censored"] == 0 and len(labelled) == 3 * len(dates)  # A is won after the last snapshot


def test_slide_days_keeps_its_daily_schedule_and_slide_replaces_it():
    crm = _crm_with()
    daily = WindowSettings(slide_days=7, horizon_days=30, lookback_days=(7,), first_snapshot="2024-02-01")
    dates = snapshot_dates(crm, daily)
    assert all(d == d.normalize() for d in dates) and (pd.Series(dates).diff().dropna() == pd.Timedelta(days=7)).all()
    assert snapshot_dates(crm, daily.model_copy(update={"slide": "7d"})) == dates


@pytest.mark.parametrize(("offset", "counted"), [("-1h", 1), ("+1h", 0)])
def test_an_activity_an_hour_before_a_sub_daily_as_of_counts_and_one_an_hour_after_does_not(offset, counted):
    when = (AS_OF + pd.Timedelta(offset)).isoformat()
    crm = _crm_with([("B", when, "demo_request")])
    features = build_features(crm, pd.DataFrame({"lead_id": ["B"], "as_of": [AS_OF]}), FeatureSettings()).iloc[0]
    assert features["demo_request_count_7d"] == counted
    assert features["demo_request_count_all"] == counted
    if counted:
        assert features["days_since_last_demo_request"] == pytest.approx(1 / 24)


def _won(lead: str, created: str, closed: str) -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": ["W"], "lead_id": [lead], "created_at": [ts(created)], "closed_at": [ts(closed)],
                         "outcome": ["won"], "amount": [1.0]})


def test_a_win_an_hour_after_a_sub_daily_as_of_labels_it_and_one_an_hour_before_ends_the_lead():
    late_visit = [("C", "2024-06-01T00:00Z", "web_visit")]  # the data ends after every label window
    after = _crm_with(late_visit, _won("B", "2024-03-04T10:00Z", "2024-03-05T07:00Z"))
    labelled, _ = label_snapshots(after, open_leads_at(after, [AS_OF]), WindowSettings(horizon_days=30))
    assert labelled.set_index("lead_id")["label"].to_dict() == {"A": 0, "B": 1, "C": 0}
    before = _crm_with(late_visit, _won("B", "2024-03-04T10:00Z", "2024-03-05T05:00Z"))
    assert set(open_leads_at(before, [AS_OF])["lead_id"]) == {"A", "C"}  # won at 05:00: no longer open at 06:00
    assert "B" in set(open_leads_at(before, [ts("2024-03-05T04:00Z")])["lead_id"])


@pytest.mark.parametrize("value", ["6x", "0h", "-6h", "30s"])
def test_a_slide_that_is_no_duration_of_a_minute_or_more_is_refused_naming_the_key(value):
    with pytest.raises(BadInputError, match=r"key 'windows.slide'"):
        load_config(windows={"slide": value})
