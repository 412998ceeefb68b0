"""--fail-on-drift passes on the unchanged CRM the model was trained on, and fails when the leads really change."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.crm import crm_from_frames
from leadscore.pipeline.errors import DriftError
from leadscore.pipeline.score import score


def test_the_next_nights_scoring_of_the_unchanged_crm_passes_fail_on_drift(trained, tmp_path):
    config, crm, _ = trained
    result = score(None, None, config, crm=crm, out=tmp_path / "scores.parquet", fail_on_drift=True,
                   log_to_mlflow=False, history=False)
    assert result.drift_exceeded == []
    assert result.drift["psi"].max() < config.scoring.drift.psi_warn  # like with like: not even a watch


def test_a_crm_whose_tracking_stopped_two_months_ago_fails_fail_on_drift(trained, trained_crm, tmp_path):
    """Web and email tracking broke: no online activity in the last 60 days. The leads' engagement really changed."""
    config, crm, _ = trained
    activities = trained_crm.activities
    cutoff = pd.Timestamp(crm.data_end) - pd.Timedelta(days=60)
    online = activities["activity_type"].isin(["web_visit", "email_open", "email_click", "form_submit", "content_download"])
    broken = crm_from_frames(trained_crm.leads, activities[~(online & (activities["occurred_at"] >= cutoff))],
                             trained_crm.opportunities)
    with pytest.raises(DriftError, match="population drift beyond psi"):
        score(None, crm.data_end.normalize() + pd.Timedelta(days=1), config, crm=broken, out=tmp_path / "scores.parquet",
              fail_on_drift=True, log_to_mlflow=False, history=False)
    assert not (tmp_path / "scores.parquet").exists()
