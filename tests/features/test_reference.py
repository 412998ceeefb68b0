"""A plain pandas implementation of a few features agrees with the one-query DuckDB build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.implicit import ENGAGEMENT_WEIGHTS
from leadscore.features.settings import FeatureSettings

DATES = [pd.Timestamp("2024-09-01", tz="UTC"), pd.Timestamp("2025-06-15", tz="UTC")]


def _reference(activities: pd.DataFrame, lead_id: str, as_of: pd.Timestamp) -> dict:
    acts = activities[(activities["lead_id"] == lead_id) & (activities["occurred_at"] < as_of)]
    age = (as_of - acts["occurred_at"]).dt.total_seconds() / 86400
    visits = acts["activity_type"] == "web_visit"
    own = acts["activity_type"].isin(list(ENGAGEMENT_WEIGHTS))
    weights = acts["activity_type"].map(ENGAGEMENT_WEIGHTS).fillna(0)
    engaged_at = acts.loc[acts["activity_type"].isin(["email_open", "email_click"]), "occurred_at"].max()
    after = acts if pd.isna(engaged_at) else acts[acts["occurred_at"] > engaged_at]
    return {
        "web_visit_count_30d": int((visits & (age <= 30)).sum()),
        "content_download_count_all": int((acts["activity_type"] == "content_download").sum()),
        "days_since_last_web_visit": float(age[visits].min()) if visits.any() else np.nan,
        "engagement_decay_30d": float((weights[own] * 0.5 ** (age[own] / 30)).sum()),
        "unopened_email_streak": int((after["activity_type"] == "email_sent").sum()),
    }


def test_duckdb_build_matches_a_pandas_reference(synthetic):
    leads = synthetic.leads.iloc[:300]
    activities = synthetic.activities[synthetic.activities["lead_id"].isin(leads["lead_id"])]
    crm = crm_from_frames(leads, activities, synthetic.opportunities[synthetic.opportunities["lead_id"].isin(leads["lead_id"])])
    snaps = pd.concat([leads.loc[leads["created_at"] < d, ["lead_id"]].assign(as_of=d) for d in DATES], ignore_index=True)
    built = build_features(crm, snaps, FeatureSettings()).set_index(["lead_id", "as_of"])
    compared = 0
    for lead_id, as_of in snaps.itertuples(index=False):
        expected = _reference(activities, lead_id, as_of)
        row = built.loc[(lead_id, as_of)]
        for name, value in expected.items():
            if np.isnan(value):
                assert np.isnan(row[name]), (lead_id, name)
            else:
                assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-9), (lead_id, as_of, name)
        compared += 1
    assert compared > 300
