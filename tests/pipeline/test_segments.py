"""Segments: the filter grammar, config errors naming the key and value, placement of leads, and the comparison verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.pipeline.config import SegmentComparisonConfig, SegmentConfig, load_config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.evaluation.segments import (GLOBAL_BETTER, NOT_PAYING, PAYS, TOO_SMALL, compare_segments,
                                                    paired_auc_interval, segment_lines)
from leadscore.pipeline.segment_filter import FilterError, matches, parse_condition, parse_where
from leadscore.pipeline.segments import assign_segments, model_name_of, segment_config


@pytest.mark.parametrize(("text", "column", "operator", "value"), [
    ("company_size >= 1000", "company_size", ">=", 1000),
    ("company_size<10", "company_size", "<", 10),
    ("score > 2.5", "score", ">", 2.5),
    ("country == US", "country", "==", "US"),
    ("industry != 'financial services'", "industry", "!=", "financial services"),
    ("country in [DE, FR, \"NL\"]", "country", "in", ("DE", "FR", "NL")),
    ("country not  in [US]", "country", "not in", ("US",)),
    ("name == \"a, b [c]\"", "name", "==", "a, b [c]"),
])
def test_a_condition_parses_to_its_column_operator_and_value(text, column, operator, value):
    assert parse_condition(text) == parse_condition(text)
    c = parse_condition(text)
    assert (c.column, c.operator, c.value) == (column, operator, value)


@pytest.mark.parametrize(("text", "says"), [
    ("company_size => 1000", "operator among"),
    ("__import__('os').system('x') == 1", "operator among"),
    ("company_size >= big", "compares numbers"),
    ("country in US", "square brackets"),
    ("country == [US]", "takes one value"),
    ("country == US, GB", "takes one value"),
    ("country in []", "empty"),
    ("country ==", "no value"),
])
def test_a_condition_outside_the_grammar_is_refused_naming_it(text, says):
    with pytest.raises(FilterError, match=says) as raised:
        parse_condition(text)
    assert repr(text) in str(raised.value)


def test_a_blank_attribute_meets_no_condition_not_even_a_negative_one():
    leads = pd.DataFrame({"company_size": pd.array([5000, 10, None], dtype="Int64"), "country": ["US", None, "DE"]})
    assert matches(leads, parse_where("company_size != 10")).tolist() == [True, False, False]
    assert matches(leads, parse_where("country not in [US]")).tolist() == [False, False, True]
    assert matches(leads, parse_where(["company_size >= 1000", "country == US"])).tolist() == [True, False, False]


@pytest.mark.parametrize(("yaml_text", "named"), [
    ("segments:\n  - name: big\n    where: company_size ~ 3\n", r"segments\.0\.where.*'company_size ~ 3'"),
    ("segments:\n  - name: Big Co\n    where: company_size >= 3\n", r"segments\.0\.name"),
    ("segments:\n  - name: a\n    where: x == 1\n  - name: a\n    where: x == 2\n", r"segments.*a repeated"),
    ("segments:\n  - name: fallback\n    where: x == 1\n", r"'fallback' names the leads in no segment"),
    ("segments:\n  - name: a\n    where: x == 1\n    colour: red\n", r"segments\.0\.colour"),
    ("segment_comparison:\n  bootstrap: 3\n", r"segment_comparison\.bootstrap"),
])
def test_a_bad_segment_in_the_config_names_the_file_the_key_and_the_value(tmp_path, yaml_text, named):
    path = tmp_path / "leadscore.yaml"
    path.write_text(yaml_text)
    with pytest.raises(BadInputError, match=named) as raised:
        load_config(path)
    assert str(path) in str(raised.value)


def _segments(*pairs):
    return [SegmentConfig(name=name, where=where) for name, where in pairs]


def test_a_lead_goes_to_the_first_segment_it_meets_and_the_rest_to_the_fallback():
    leads = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "company_size": [5000, 5000, 50, None],
                          "country": ["DE", "US", "DE", "US"]})
    placed = assign_segments(leads, _segments(("europe", "country in [DE, FR]"), ("enterprise", "company_size >= 1000")))
    assert placed.to_dict() == {"a": "europe", "b": "enterprise", "c": "europe", "d": "fallback"}


def test_a_filter_on_a_column_the_leads_lack_names_the_key_and_the_column():
    leads = pd.DataFrame({"lead_id": ["a"], "country": ["DE"], "email": ["x@y.com"]})
    with pytest.raises(BadInputError, match=r"segments\.1\.where.*'revenue'.*its columns are lead_id, country$"):
        assign_segments(leads, _segments(("europe", "country == DE"), ("rich", "revenue > 5")))


def test_a_segment_trains_under_its_own_name_with_its_overrides_and_no_segments():
    config = load_config(segments=[{"name": "big", "where": "company_size >= 1000", "targets": {"min_conversion_rate": 0.3}}])
    own = segment_config(config, config.segments[0])
    assert own.tracking.model_name == model_name_of(config, "big") == "leadscore-big"
    assert own.targets.min_conversion_rate == 0.3 and own.segments == []
    assert own.grades == config.grades and config.tracking.model_name == "leadscore"


def _scored(n_leads: int, skill: float, seed: int, rows_per_lead: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lead = np.repeat([f"L{seed}-{i}" for i in range(n_leads)], rows_per_lead)
    label = rng.random(len(lead)) < 0.2
    return pd.DataFrame({"lead_id": lead, "as_of": np.tile(pd.date_range("2025-01-01", periods=rows_per_lead, tz="UTC"), n_leads),
                         "label": label.astype(int), "truth": label + rng.normal(0, 1, len(lead)), "noise": rng.normal(0, 1, len(lead))}) \
        .assign(skill=skill)


def _proba(frame, skill):
    return skill * frame["truth"] + (1 - skill) * frame["noise"]


def test_the_comparison_says_a_segment_pays_only_when_its_whole_interval_is_above_zero():
    settings = SegmentComparisonConfig(bootstrap=200, min_test_wins=20)
    seg, rest = _scored(600, 0, 1), _scored(600, 0, 2)
    global_test = pd.concat([seg.assign(model_proba=_proba(seg, 0.3)), rest.assign(model_proba=_proba(rest, 0.8))])
    assignment = pd.Series("seg", index=seg["lead_id"].unique()).reindex(global_test["lead_id"].unique()).fillna("fallback")
    better = compare_segments(global_test, {"seg": seg.assign(model_proba=_proba(seg, 0.8))}, assignment, settings)
    same = compare_segments(global_test, {"seg": seg.assign(model_proba=_proba(seg, 0.3))}, assignment, settings)
    worse = compare_segments(global_test, {"seg": seg.assign(model_proba=_proba(seg, 0.05))}, assignment, settings)
    at = lambda table, name: table.set_index("segment").loc[name]  # noqa: E731
    assert at(better, "seg")["verdict"] == PAYS and at(better, "seg")["low"] > 0
    assert at(better, "overall")["verdict"] == PAYS
    assert at(same, "seg")["verdict"] == NOT_PAYING and at(same, "seg")["low"] <= 0 <= at(same, "seg")["high"]
    assert at(worse, "seg")["verdict"] == GLOBAL_BETTER
    # where its own model does not pay the global model scores the segment: overall the segmented scorer is the global one
    assert at(worse, "overall")["difference"] == 0
    assert any(line.startswith("seg: segmenting does not pay") for line in segment_lines(same, 0.95))


def test_a_segment_with_too_few_test_wins_does_not_pay_however_it_ranks():
    settings = SegmentComparisonConfig(bootstrap=100, min_test_wins=500)
    seg = _scored(300, 0, 3)
    table = compare_segments(seg.assign(model_proba=_proba(seg, 0.1)), {"seg": seg.assign(model_proba=_proba(seg, 0.9))},
                             pd.Series("seg", index=seg["lead_id"].unique()), settings)
    assert table.set_index("segment").loc["seg", "verdict"] == TOO_SMALL


def test_the_comparison_pairs_the_snapshots_both_models_held_out():
    seg = _scored(200, 0, 4, rows_per_lead=4)
    later = seg[seg["as_of"] >= seg["as_of"].min() + pd.Timedelta(days=2)]  # the segment's test slice starts later
    table = compare_segments(seg.assign(model_proba=_proba(seg, 0.5)), {"seg": later.assign(model_proba=_proba(later, 0.5))},
                             pd.Series("seg", index=seg["lead_id"].unique()), SegmentComparisonConfig(bootstrap=50))
    assert table.set_index("segment").loc["seg", "rows"] == len(later)


def test_the_bootstrap_resamples_leads_not_rows():
    # two copies of every row: resampling rows would treat them as independent and halve the width
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    ours, theirs = y + rng.normal(0, 1, 300), y + rng.normal(0, 1.2, 300)
    single = paired_auc_interval(y, ours, theirs, np.arange(300), 300, 0.95, 0)
    doubled = paired_auc_interval(np.tile(y, 2), np.tile(ours, 2), np.tile(theirs, 2), np.tile(np.arange(300), 2), 300, 0.95, 0)
    assert doubled.high - doubled.low == pytest.approx(single.high - single.low, rel=0.25)
