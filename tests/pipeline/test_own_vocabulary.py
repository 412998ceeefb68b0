"""A CRM with 20+ activity type names of its own trains, evaluates and scores with no vocabulary config at all."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from leadscore.features.contract import ACTIVITY_TYPES
from tests.quick_training import QUICK_TRAINING

RENAMED = {
    "email_open": ["Mail opened"], "email_click": ["Mail link clicked"], "email_bounce": ["Mail undeliverable"],
    "unsubscribe": ["Opted out"], "web_visit": ["Page view", "Pricing page view", "Docs page view"],
    "form_submit": ["Contact form", "Quote request form"], "content_download": ["Brochure downloaded", "Case study downloaded"],
    "webinar_registered": ["Webinar sign-up"], "webinar_attended": ["Webinar joined"], "event_attended": ["Trade fair visit"],
    "sales_call": ["Discovery call", "Follow-up call", "Check-in call"], "meeting": ["On-site meeting"],
    "demo_request": ["Demo booked"], "email_sent": ["Newsletter sent", "Nurture mail sent"],
}
"""Each built-in type as a CRM of its own names it; several kinds of one type are split by a hash of the row."""
DECLARATIONS = {
    "features": {"activity_types": {
        "Mail opened": {"role": "email_open"}, "Mail link clicked": {"role": "email_click"},
        "Newsletter sent": {"role": "email_sent"}, "Nurture mail sent": {"role": "email_sent"},
        "Opted out": {"role": "unsubscribe"}, "Mail undeliverable": {"role": "email_bounce"},
        "Follow-up call": {"label": "follow-up call", "channel": "offline"},
    }},
}


def own_vocabulary(activities: pd.DataFrame) -> pd.DataFrame:
    """Return `activities` renamed into the vocabulary above, with no channel column (the CRM has none)."""
    assert set(RENAMED) == set(ACTIVITY_TYPES)
    hashes = np.array([zlib.crc32(f"{lead}{t}".encode()) for lead, t in zip(activities["lead_id"], activities["occurred_at"])])
    renamed = activities["activity_type"].astype(str).to_numpy().copy()
    for builtin, names in RENAMED.items():
        rows = renamed == builtin
        renamed[rows] = np.array(names, dtype=object)[hashes[rows] % len(names)]
    # kinds the built-in vocabulary has no home for: status changes and back-office checks
    extra = activities.sample(frac=0.02, random_state=1).assign(activity_type="Status changed")
    checks = activities.sample(frac=0.01, random_state=2).assign(activity_type="Back-office check")
    frame = activities.assign(activity_type=renamed)
    frame = pd.concat([frame, extra, checks], ignore_index=True).assign(channel=None)
    return frame.astype({"activity_type": "string", "channel": "string"})


@pytest.fixture(scope="module")
def crm(trained_crm):
    from leadscore.features.crm import crm_from_frames

    return crm_from_frames(trained_crm.leads, own_vocabulary(trained_crm.activities), trained_crm.opportunities)


@pytest.mark.slow  # trains two models
def test_own_vocabulary_trains_evaluates_and_scores_without_and_with_declarations(crm, trained_crm, tmp_path, capsys):
    from leadscore.pipeline.catalog import Catalog
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.evaluate import evaluate
    from leadscore.pipeline.score import score
    from leadscore.pipeline.train import train

    present = set(crm.con.execute("SELECT DISTINCT activity_type FROM activities").df()["activity_type"])
    assert len(present) >= 20 and not present & set(ACTIVITY_TYPES)

    config = with_settings(load_config(workdir=str(tmp_path / "plain")), QUICK_TRAINING)
    result = train(None, config, promote=True, crm=crm)
    names = result.bundle.feature_names
    assert {"type_follow_up_call_count_30d", "type_status_changed_count_all", "type_pricing_page_view_decay_7d"} <= set(names)
    recorded = result.bundle.manifest["feature_settings"]["features"]["present_activity_types"]
    assert set(recorded) == present
    warned = " ".join(capsys.readouterr().err.split())
    assert "The packaged B2B points table does not fit this CRM's activity vocabulary" in warned
    assert "demo_request (demo_request_count_30d)" in warned and "sales_call (sales_call_count_30d)" in warned
    assert result.metrics["model"]["roc_auc"] > 0.6 and "roc_auc" in result.metrics["rule"] and "ece" in result.metrics["model"]
    plain_auc = result.metrics["model"]["roc_auc"]

    evaluation, paths = evaluate(None, config, crm=crm)
    assert paths
    as_of = pd.Timestamp(crm.data_end).normalize()
    scored = score(None, as_of, config, crm=crm, out=tmp_path / "scores.parquet", log_to_mlflow=False)
    reasons = " ".join(scored.frame["reasons_model_up"].explode().dropna())
    # undeclared custom types explain themselves by their quoted raw names ("had 3 'Page view' events in the last 30 days")
    assert "' events " in reasons or "' event " in reasons
    assert "unopened emails" not in " ".join(scored.frame["reasons_model_down"].explode().dropna())

    declared = with_settings(load_config(workdir=str(tmp_path / "declared")), {**DECLARATIONS, **QUICK_TRAINING})
    again = train(None, declared, promote=True, crm=crm)
    assert "type_newsletter_sent_count_all" not in again.bundle.feature_names  # an alias counts as its role
    assert "type_follow_up_call_count_30d" in again.bundle.feature_names
    test_slice = pd.read_parquet(Catalog.test_slice(again.bundle_dir))
    assert test_slice["unopened_email_streak"].max() > 0 and test_slice["email_open_rate_last_sends"].notna().any()
    assert test_slice["offline_count_90d"].max() > 0  # the declared offline channel of the follow-up calls
    print(f"model ROC AUC without declarations {plain_auc:.4f}, with {again.metrics['model']['roc_auc']:.4f}")
    assert again.metrics["model"]["roc_auc"] > 0.6


def test_a_recorded_vocabulary_is_kept_and_a_type_it_lacks_is_named_in_a_warning(capsys):
    """Scoring rebuilds a model's columns: a type that appears after training adds none, and the run says so."""
    from leadscore.features.crm import crm_from_frames
    from leadscore.features.registry import feature_names
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.vocabulary import with_crm_vocabulary
    from tests.features.tiny_crm import tiny_tables

    leads, activities, opportunities = tiny_tables()
    activities.loc[0, "activity_type"] = "Follow-up call"
    crm = crm_from_frames(leads, activities, opportunities)
    trained = with_crm_vocabulary(load_config(), crm)
    assert "Follow-up call" in trained.features.present_activity_types
    assert "type_follow_up_call_count_30d" in feature_names(trained.for_features)
    activities.loc[1, "activity_type"] = "Contract signed"
    later = crm_from_frames(leads, activities, opportunities)
    capsys.readouterr()
    kept = with_crm_vocabulary(trained, later)
    assert kept.features.present_activity_types == trained.features.present_activity_types
    assert not any(name.startswith("type_contract_signed") for name in feature_names(kept.for_features))
    assert "column 'activity_type' has types the model was not trained on, left out of its features: 'Contract signed' (1 row)" \
        in " ".join(capsys.readouterr().err.split())


def test_features_list_with_data_shows_what_the_vocabulary_produced(tmp_path, capsys):
    from leadscore.pipeline.cli import main

    (tmp_path / "leads.csv").write_text("lead_id,created_at,email,job_title,seniority,department,company_name,company_size,"
                                        "industry,country,lead_source\nL1,2024-01-01,,,,,,,,,\n", encoding="utf-8")
    (tmp_path / "activities.csv").write_text("lead_id,occurred_at,activity_type\nL1,2024-01-06T10:00:00Z,Documents sent\n",
                                             encoding="utf-8")
    (tmp_path / "opportunities.csv").write_text("opportunity_id,lead_id,created_at,closed_at,outcome\n", encoding="utf-8")
    assert main(["features", "--list", "--data", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "type_documents_sent_count_30d" in shown and "1 custom activity type(s) with features of their own" in shown
    assert main(["features", "--list"]) == 0
    assert "type_documents_sent" not in capsys.readouterr().out
