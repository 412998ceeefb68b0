"""A CRM speaking its own activity vocabulary: custom-type features by hand, aliases, email roles and labels."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.registry import all_features
from leadscore.features.settings import FeatureSettings
from leadscore.features.vocabulary import new_types, resolve, undeclared_snippet, with_present_types
from .tiny_crm import ts

AS_OF = ts("2024-03-01")
RAW_TYPES = ["Follow-up call", "Documents sent", "Back-office check", "Follow up call", "Mail sent", "Mail opened"]


def _tables():
    """Two leads of a process CRM: calls, documents, checks; its mails use names of its own too."""
    leads = pd.DataFrame({"lead_id": ["P1", "P2"], "created_at": [ts("2024-01-01"), ts("2024-01-10")]})
    for column in ("email", "job_title", "seniority", "department", "company_name", "industry", "country", "lead_source"):
        leads[column] = pd.Series([None, None], dtype="string")
    leads["company_size"] = pd.array([None, None], dtype="Int64")
    rows = [
        ("P1", "2024-02-28T12:00Z", "Follow-up call", 300.0), ("P1", "2024-02-20T12:00Z", "Follow-up call", 600.0),
        ("P1", "2024-01-15T12:00Z", "Follow-up call", None),   # 46 days before as_of: only in the 90-day window
        ("P1", "2024-03-01T00:00Z", "Follow-up call", 999.0),  # exactly at as_of: invisible
        ("P1", "2024-02-27T00:00Z", "Documents sent", None), ("P1", "2024-02-29T00:00Z", "Back-office check", None),
        ("P1", "2024-02-10T00:00Z", "Mail sent", None), ("P1", "2024-02-11T00:00Z", "Mail opened", None),
        ("P1", "2024-02-15T00:00Z", "Mail sent", None), ("P1", "2024-02-22T00:00Z", "Mail sent", None),
        ("P2", "2024-02-01T00:00Z", "Follow up call", None),
    ]
    activities = pd.DataFrame({
        "lead_id": [r[0] for r in rows], "occurred_at": [ts(r[1]) for r in rows], "activity_type": [r[2] for r in rows],
        "channel": [None] * len(rows), "value": [r[3] for r in rows], "asset_id": [None] * len(rows),
    })
    opportunities = pd.DataFrame({"opportunity_id": pd.Series([], dtype="string"), "lead_id": pd.Series([], dtype="string"),
                                  "created_at": pd.Series([], dtype="datetime64[us, UTC]"),
                                  "closed_at": pd.Series([], dtype="datetime64[us, UTC]"),
                                  "outcome": pd.Series([], dtype="string"), "amount": pd.Series([], dtype="float64")})
    return leads, activities, opportunities


DECLARED = {
    "Follow-up call": {"label": "follow-up call", "channel": "offline", "value": "seconds"},
    "Back-office check": {"label": "back-office check", "family": "negative"},
    "Mail sent": {"role": "email_sent"}, "Mail opened": {"role": "email_open"},
}


def _settings(declared=None) -> FeatureSettings:
    return with_present_types(FeatureSettings(features={"activity_types": declared or {}}), RAW_TYPES)


@pytest.fixture(scope="module")
def frame():
    crm = crm_from_frames(*_tables())
    snaps = pd.DataFrame({"lead_id": ["P1", "P2"], "as_of": [AS_OF, AS_OF]})
    return build_features(crm, snaps, _settings(DECLARED)).set_index("lead_id")


def test_custom_type_features_equal_a_hand_computation(frame):
    p1 = frame.loc["P1"]
    # visible follow-up calls: Feb 28 12:00 (1.5 days), Feb 20 12:00 (9.5 days; 2024 is a leap year), Jan 15 12:00 (45.5 days)
    ages = [1.5, 9.5, 45.5]
    assert (p1["type_follow_up_call_count_7d"], p1["type_follow_up_call_count_30d"],
            p1["type_follow_up_call_count_90d"], p1["type_follow_up_call_count_all"]) == (1, 2, 3, 3)
    assert p1["days_since_last_type_follow_up_call"] == pytest.approx(1.5)
    for half_life in (7, 30, 90):
        assert p1[f"type_follow_up_call_decay_{half_life}d"] == pytest.approx(sum(0.5 ** (a / half_life) for a in ages))
    assert p1["type_follow_up_call_seconds_sum_30d"] == 900.0
    assert p1["type_follow_up_call_seconds_sum_90d"] == 900.0  # the January call has no value
    assert p1["type_follow_up_call_seconds_mean_30d"] == pytest.approx(450.0)
    assert p1["type_documents_sent_count_7d"] == 1 and p1["type_back_office_check_count_all"] == 1
    assert math.isnan(frame.loc["P2", "days_since_last_type_follow_up_call"])
    # "Follow up call" slugs like "Follow-up call": numbered, so both keep their own features
    assert frame.loc["P2", "type_follow_up_call_2_count_30d"] == 1 and p1["type_follow_up_call_2_count_all"] == 0


def test_declared_channel_and_email_roles_drive_the_built_in_features(frame):
    p1 = frame.loc["P1"]
    assert p1["offline_count_90d"] == 3  # no channel in the data: the declared offline channel counts
    # "Mail sent"/"Mail opened" are aliases of email_sent/email_open: sent Feb 10 (opened Feb 11), 15, 22
    assert p1["unopened_email_streak"] == 2 and p1["email_open_rate_last_sends"] == pytest.approx(1 / 3)
    assert p1["email_open_count_all"] == 1


def test_without_declarations_custom_types_have_features_and_no_email_feature_fires():
    crm = crm_from_frames(*_tables())
    snaps = pd.DataFrame({"lead_id": ["P1"], "as_of": [AS_OF]})
    row = build_features(crm, snaps, _settings()).iloc[0]
    # undeclared look-alikes are numbered in raw-name order: "Follow up call" < "Follow-up call"
    assert row["type_mail_sent_count_all"] == 3 and row["type_follow_up_call_2_count_30d"] == 2
    assert row["unopened_email_streak"] == 0 and math.isnan(row["email_open_rate_last_sends"])
    assert row["offline_count_90d"] == 0  # undeclared types are online


def test_a_built_in_role_the_data_never_holds_counts_nothing_not_every_event():
    crm = crm_from_frames(*_tables())
    snaps = pd.DataFrame({"lead_id": ["P1"], "as_of": [AS_OF]})
    row = build_features(crm, snaps, _settings()).iloc[0]
    assert row["type_follow_up_call_2_count_all"] == 3  # the lead has events, of its own types only
    for role in ("email_open", "web_visit", "sales_call", "demo_request"):
        for window in ("7d", "30d", "90d", "all"):
            assert row[f"{role}_count_{window}"] == 0, (role, window)


def test_reasons_use_the_types_label_not_email_wording():
    features = {f.name: f for f in all_features(_settings(DECLARED))}
    assert features["type_follow_up_call_count_30d"].explain(3) == "had 3 follow-up calls in the last 30 days"
    assert features["type_back_office_check_count_all"].family == "negative"
    assert "email" not in features["type_documents_sent_count_30d"].explain(2)


@pytest.mark.parametrize(("value", "count", "since", "seconds"), [
    (0, "had 0 follow-up calls in the last 30 days", "last follow-up call 0 days ago", "0 seconds on follow-up calls"),
    (1, "had 1 follow-up call in the last 30 days", "last follow-up call 1 day ago", "1 second on follow-up calls"),
    (0.7, "had 1 follow-up call in the last 30 days", "last follow-up call 1 day ago", "1 second on follow-up calls"),
    (12, "had 12 follow-up calls in the last 30 days", "last follow-up call 12 days ago", "12 seconds on follow-up calls"),
])
def test_custom_type_reasons_agree_in_number_with_the_value(value, count, since, seconds):
    settings = _settings({"Follow-up call": {"label": "follow-up call", "value": "seconds"},
                          "Fax": {"label": "fax"}, "Inquiry": {"label": "inquiry"}, "Person met": {"label": "person met",
                                                                                                    "plural": "people met"}})
    features = {f.name: f for f in all_features(settings)}
    assert features["type_follow_up_call_count_30d"].explain(value) == count
    assert features["days_since_last_type_follow_up_call"].explain(value) == since
    assert features["type_follow_up_call_seconds_sum_30d"].explain(value) == f"{seconds} in the last 30 days"
    many = value not in (1, 0.7)
    assert features["type_fax_count_all"].explain(value).endswith("faxes in all" if many else "fax in all")
    assert features["type_inquiry_count_7d"].explain(value).endswith(f"{'inquiries' if many else 'inquiry'} in the last 7 days")
    assert features["type_person_met_count_7d"].explain(value).endswith(f"{'people met' if many else 'person met'} in the last 7 days")
    # an undeclared type is named by its quoted raw name, which may be any phrase
    assert features["type_documents_sent_count_90d"].explain(value) == (
        f"had {round(value)} 'Documents sent' event{'s' if many else ''} in the last 90 days")


def test_a_label_with_braces_colons_and_bars_reads_as_written():
    features = {f.name: f for f in all_features(_settings({"Follow-up call": {"label": "call {a|b}: x"}}))}
    assert features["type_follow_up_call_count_30d"].explain(1) == "had 1 call (a/b): x in the last 30 days"
    assert features["days_since_last_type_follow_up_call"].explain(2) == "last call {a|b}: x 2 days ago"


def test_the_vocabulary_says_where_each_meaning_came_from_and_what_a_model_has_not_seen():
    settings = _settings(DECLARED)
    origins = {t.raw: (t.role, t.origin) for t in resolve(settings).types}
    assert origins["Mail sent"] == ("email_sent", "declared") and origins["email_sent"] == ("email_sent", "built-in")
    assert origins["Documents sent"] == ("custom", "undeclared")
    assert new_types(settings, {"Documents sent": 3, "Contract signed": 2}) == ["Contract signed"]
    snippet = undeclared_snippet(resolve(settings))
    assert '"Documents sent":' in snippet and '"Follow-up call"' not in snippet


def test_a_raw_name_with_quotes_is_quoted_in_the_sql():
    leads, activities, opportunities = _tables()
    activities.loc[0, "activity_type"] = "O'Brien's call"
    crm = crm_from_frames(leads, activities, opportunities)
    settings = with_present_types(FeatureSettings(), list(activities["activity_type"].unique()))
    row = build_features(crm, pd.DataFrame({"lead_id": ["P1"], "as_of": [AS_OF]}), settings).iloc[0]
    assert row["type_o_brien_s_call_count_all"] == 1
