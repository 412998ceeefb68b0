"""Every feature's reason reads as Sales would write it, for no, one, many and missing values."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from leadscore.features.declarations import Feature, counted, duration, readable
from leadscore.features.registry import all_features
from leadscore.features.settings import FeatureSettings
from leadscore.features.vocabulary import with_present_types

# every family, custom types of both families (one with seconds) and an extra lead column of each kind
SETTINGS = with_present_types(FeatureSettings(features={
    "activity_types": {"Follow-up call": {"label": "follow-up call", "value": "seconds"},
                       "Back-office check": {"label": "back-office check", "family": "negative"}},
    "extra_lead_columns": {"annual_revenue": "numeric", "is_partner": "boolean", "renewal_date": "date",
                           "customer_tier": "categorical"}}), ["Follow-up call", "Back-office check", "Documents sent"])
FEATURES = all_features(SETTINGS)
NUMBERS = {"none": 0, "one": 1, "many": 7, "missing": math.nan}
CATEGORY_VALUES = {"coded": "paid_search", "plain": "referral", "unknown": "unknown", "missing": None}
FLAGS = {"true": True, "false": False, "missing": None}

# "1 days", "1 follow-up calls", "had 1 'Documents sent' events": a count of one with a plural noun
ONE_WITH_PLURAL = re.compile(r"(?<![\d.,])1 (?:'[^']*' )?(?!sales )[a-z-]+s\b")
GARBLED = ("nan", "none", "no an", "no a ", "not:", "never:", "{", "}", "unknown employees", "inf")


def _values(feature: Feature) -> dict:
    return {"bool": FLAGS, "category": CATEGORY_VALUES}.get(feature.dtype, NUMBERS)


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_every_reason_reads_well_with_no_one_many_and_missing_values(feature):
    said = {case: feature.explain(value) for case, value in _values(feature).items()}
    for case, text in said.items():
        words = f" {text.lower()} "
        assert text.strip() and text == text.strip(), (case, text)
        assert not any(bad in words for bad in GARBLED), (case, text)
        assert "_" not in text, (case, text)  # no raw code: paid_search, annual_revenue
        assert not ONE_WITH_PLURAL.search(text), (case, text)
    if feature.dtype in ("float", "int"):
        assert said["missing"] != said["none"]  # a missing value is not said as if it were zero
    if feature.dtype == "bool":
        assert said["false"] != said["true"] and said["missing"] == said["false"]  # a missing flag is false (SQL fill)


def test_missing_values_say_what_never_happened():
    by_name = {f.name: f for f in FEATURES}
    assert by_name["days_since_last_webinar_registered"].explain(math.nan) == "never registered for a webinar"
    assert by_name["company_employees"].explain(math.nan) == "company size unknown"
    assert by_name["company_size_band"].explain("unknown") == "company size unknown"
    assert by_name["has_open_opportunity"].explain(False) == "has no open sales opportunity"
    assert by_name["email_open_rate_recent"].explain(pd.NA) == "no email sent in the last 90 days"


def test_counts_agree_with_their_number_as_shown():
    by_name = {f.name: f for f in FEATURES}
    assert by_name["days_inactive"].explain(1) == "inactive for 1 day"
    assert by_name["days_inactive"].explain(1.4) == "inactive for 1 day"
    assert by_name["days_inactive"].explain(2) == "inactive for 2 days"
    assert by_name["days_since_last_webinar_registered"].explain(1) == "registered for a webinar 1 day ago"
    assert by_name["company_employees"].explain(1200) == "company of 1,200 employees"


def test_seconds_read_in_the_unit_a_person_uses():
    by_name = {f.name: f for f in FEATURES}
    assert by_name["web_seconds_30d"].explain(3258) == "54 minutes on the website in the last 30 days"
    assert by_name["type_follow_up_call_seconds_sum_30d"].explain(90) == "2 minutes on follow-up calls in the last 30 days"
    assert [duration(s) for s in (0, 1, 59, 61, 3600, 5400, 86400)] == [
        "0 seconds", "1 second", "59 seconds", "1 minute", "1 hour", "1.5 hours", "24 hours"]


def test_category_values_read_as_labels():
    by_name = {f.name: f for f in FEATURES}
    assert by_name["lead_source"].explain("paid_search") == "lead source: Paid search"
    assert by_name["seniority"].explain("c_level", {"c_level": "C-level"}) == "seniority level: C-level"
    assert by_name["country"].explain("US") == "country: US"
    assert readable("financial_services") == "Financial services"


def test_a_label_with_template_characters_reads_as_written():
    feature = Feature("n", "implicit", "", "event", "", "int", f"had {counted('call {a|b}: x', 'calls {a|b}: x')}")
    assert feature.explain(1) == "had 1 call (a/b): x" and feature.explain(2) == "had 2 calls (a/b): x"
