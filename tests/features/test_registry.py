"""The feature registry: unique names, plain descriptions, stable order; the `features` command."""

from __future__ import annotations

import pandas as pd

from leadscore.features.registry import all_features, get
from leadscore.features.settings import FeatureSettings
from leadscore.pipeline.cli import main

AGREED_NAMES = (
    "seniority", "title_bucket", "department", "company_size_band", "industry", "country", "lead_source",
    "is_business_email", "lead_age_days", "content_download_count_30d", "webinar_attended_count_90d",
    "email_open_count_all", "web_seconds_30d", "active_days_90d", "days_since_last_demo_request",
    "days_since_last_activity", "offline_count_90d", "activity_trend_30d_vs_prior_60d", "is_unsubscribed",
    "is_bounced", "unopened_email_streak", "email_open_rate_recent", "email_click_rate_recent", "days_inactive",
    "is_student", "is_competitor", "is_personal_email",
)


def test_every_feature_has_a_unique_name_a_description_and_a_known_family():
    features = all_features(FeatureSettings())
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    assert all(f.description.strip() for f in features)
    assert {f.family for f in features} <= {"explicit", "implicit", "negative"}
    assert {f.dtype for f in features} <= {"category", "float", "int", "bool"}


def test_registry_order_is_stable_and_families_partition_it():
    settings = FeatureSettings()
    first, second = [f.name for f in all_features(settings)], [f.name for f in all_features(settings)]
    assert first == second
    assert len(set(first)) == len(first)  # one feature per name: a family's declaration never shadows another's
    assert {f.family for f in all_features(settings)} == {"explicit", "implicit", "negative"}  # none empty
    assert get("unopened_email_streak", settings).family == "negative"


def test_the_names_other_engineers_rely_on_are_registered():
    names = {f.name for f in all_features(FeatureSettings())}
    assert set(AGREED_NAMES) <= names


def test_features_list_prints_every_name(capsys):
    assert main(["features", "--list"]) == 0
    printed = capsys.readouterr().out
    assert "unopened_email_streak" in printed and "title_bucket" in printed


def test_features_command_writes_one_row_per_open_lead(tmp_path, synthetic_dir):
    out = tmp_path / "features.parquet"
    assert main(["features", "--data", str(synthetic_dir), "--out", str(out), "--as-of", "2024-06-01"]) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns[:2]) == ["lead_id", "as_of"]
    assert frame["lead_id"].is_unique and len(frame) > 0
    assert set(AGREED_NAMES) <= set(frame.columns)


def test_as_of_and_training_together_are_refused(tmp_path, capsys):
    assert main(["features", "--data", str(tmp_path), "--out", str(tmp_path / "f.parquet"), "--as-of", "2024-06-01", "--training"]) == 2
    assert "--as-of DATE or --training, not both" in capsys.readouterr().err
