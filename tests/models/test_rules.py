"""The points table: conditions, caps, floor, decay, thresholds, reasons and error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from leadscore.features.contract import ACTIVITY_TYPES
from leadscore.features.registry import all_features, feature_names
from leadscore.models.rules import PointsScorer
from leadscore.models.rules.table import check_against_registry, load_points_table, parse_points_table
from leadscore.pipeline.cli import main
from leadscore.pipeline.errors import BadInputError
from tests.quick_training import QUICK_TRAINING

THRESHOLDS = {"stages": {"MQL": 50, "SQL": 90}, "segments": {"nurture": 20, "hot": 60}}


def _rows(**columns) -> pd.DataFrame:
    """Hand-made feature rows: every registered feature zero/neutral, then `columns` set."""
    n = len(next(iter(columns.values()))) if columns else 1
    frame = pd.DataFrame({name: [0] * n for name in feature_names()})
    for name in ("seniority", "company_size_band", "lead_source"):
        frame[name] = "unknown"
    for name, values in columns.items():
        frame[name] = values
    return frame


def _fitted(scorer: PointsScorer) -> PointsScorer:
    """Fit `scorer` on two neutral rows, one lost and one won: enough to validate its table."""
    return scorer.fit(pd.concat([_rows(), _rows()], ignore_index=True), [0, 1])


def _scorer(rules, caps=None, total=None) -> PointsScorer:
    data = {"rules": rules, "thresholds": THRESHOLDS}
    if caps:
        data["caps"] = caps
    if total:
        data["total"] = total
    return _fitted(PointsScorer(parse_points_table(data)))


def test_every_condition_type():
    scorer = _scorer([
        {"id": "many_visits", "feature": "web_visit_count_30d", "condition": {"at_least": 5}, "points": 10},
        {"id": "senior", "feature": "seniority", "condition": {"in": ["vp", "director"]}, "points": 15},
        {"id": "unsub", "feature": "is_unsubscribed", "condition": {"equals": True}, "points": -100},
        {"id": "mid_size", "feature": "lead_age_days", "condition": {"between": [10, 20]}, "points": 3},
    ])
    X = _rows(web_visit_count_30d=[4, 5, 0, 0], seniority=["vp", "analyst", "director", "unknown"],
              is_unsubscribed=[False, False, True, False], lead_age_days=[10.0, 20.0, 21.0, 9.9])
    assert scorer.decision_function(X).tolist() == [15 + 3, 10 + 3, 15 - 100, 0]


def test_family_caps_total_floor_and_rule_cap():
    scorer = _scorer(
        [
            {"id": "download", "feature": "content_download_count_90d", "condition": {"at_least": 1}, "points": 30},
            {"id": "webinar", "feature": "webinar_attended_count_90d", "condition": {"at_least": 1}, "points": 30},
            {"id": "inactive", "feature": "days_inactive", "condition": {"at_least": 30}, "points": -10, "per": 30, "cap": -40},
            {"id": "unsub", "feature": "is_unsubscribed", "condition": {"equals": True}, "points": -100},
        ],
        caps={"implicit": {"min": 0, "max": 50}},
        total={"min": -80, "max": 200},
    )
    X = _rows(content_download_count_90d=[1, 1, 0], webinar_attended_count_90d=[1, 0, 0],
              days_inactive=[95.0, 200.0, 0.0], is_unsubscribed=[False, True, False])
    # row 0: implicit 60 capped to 50; inactivity 3 x -10 = -30 -> 20
    # row 1: 30 - min(6 x 10, 40) - 100 = -110, floored at -80
    assert scorer.decision_function(X).tolist() == [20, -80, 0]


def test_half_life_and_time_frame_decay():
    scorer = _scorer([
        {"id": "download", "feature": "content_download_count_90d", "condition": {"at_least": 1}, "points": 40,
         "decay": {"half_life_days": 30, "age_feature": "days_since_last_content_download"}},
        {"id": "form", "feature": "form_submit_count_90d", "condition": {"at_least": 1}, "points": 10,
         "decay": {"within_days": 14, "age_feature": "days_since_last_form_submit"}},
    ])
    X = _rows(content_download_count_90d=[1, 1, 1], days_since_last_content_download=[0.0, 30.0, 60.0],
              form_submit_count_90d=[1, 1, 1], days_since_last_form_submit=[14.0, 14.1, np.nan])
    assert np.allclose(scorer.decision_function(X), [40 + 10, 20, 10])


def test_thresholds_map_points_to_stages_and_segments():
    scorer = _scorer([{"id": "pts", "feature": "web_visit_count_all", "condition": {"at_least": 0}, "points": 1, "per": 1}])
    X = _rows(web_visit_count_all=[0, 19, 20, 59, 60, 89, 90])
    assert list(scorer.segment(X)) == ["leave", "leave", "nurture", "nurture", "hot", "hot", "hot"]
    assert list(scorer.stage(X)) == ["lead", "lead", "lead", "MQL", "MQL", "MQL", "SQL"]


def test_predict_proba_is_the_monotone_training_conversion_rate():
    rng = np.random.default_rng(0)
    visits = rng.integers(0, 30, 4000)
    y = (rng.random(4000) < visits / 40).astype(int)
    X = _rows(web_visit_count_30d=list(visits))
    scorer = _scorer([{"id": "v", "feature": "web_visit_count_30d", "condition": {"at_least": 0}, "points": 1, "per": 1}]).fit(X, y)
    proba = scorer.predict_proba(X)
    assert proba.shape == (4000, 2) and np.allclose(proba.sum(axis=1), 1)
    order = np.argsort(visits)
    assert (np.diff(proba[order, 1]) >= -1e-12).all()
    assert abs(proba[:, 1].mean() - y.mean()) < 0.01


def test_every_method_refuses_an_unfitted_scorer_as_scikit_learn_does():
    scorer = PointsScorer()
    X = _rows(web_visit_count_30d=[3])
    for method in ("decision_function", "predict_proba", "predict", "stage", "segment", "breakdown", "reasons", "rule_points"):
        with pytest.raises(NotFittedError, match="This PointsScorer is not fitted yet: call fit"):
            getattr(scorer, method)(X)
    assert not [name for name in vars(scorer) if name.endswith("_")]  # a refused call leaves no fitted state behind
    fitted = _fitted(scorer)
    check_is_fitted(fitted)
    assert {"table_", "families_", "calibrator_", "classes_"} <= set(vars(fitted))
    assert fitted.predict_proba(X).shape == (1, 2)


def test_breakdown_and_reasons_name_the_rules_that_fired():
    scorer = _fitted(PointsScorer())
    X = _rows(is_unsubscribed=[True, False], demo_request_count_30d=[0, 2], days_since_last_demo_request=[np.nan, 0.0],
              seniority=["unknown", "vp"])
    reasons = scorer.reasons(X, top=2)
    assert reasons[0] == ["-100 unsubscribed"]
    assert reasons[1] == ["+50 requested a demo", "+15 senior title"]
    fired = scorer.breakdown(X)
    assert set(fired.loc[fired["row"] == 1, "rule_id"]) == {"demo_request", "senior_title"}


def test_the_default_table_validates_against_the_registry():
    table = load_points_table()
    check_against_registry(table, {f.name: f for f in all_features()})
    assert {r.feature for r in table.rules} <= set(feature_names())
    assert any(r.points < 0 for r in table.rules) and any(r.points > 0 for r in table.rules)


_DEFAULT_SCORER = _fitted(PointsScorer())

negative_events = st.fixed_dictionaries({
    "unsubscribe": st.booleans(), "bounce": st.booleans(),
    "more_unopened": st.integers(0, 20), "more_inactive_days": st.floats(0, 400),
})


@settings(max_examples=60, deadline=None)
@given(
    base_streak=st.integers(0, 10), base_inactive=st.floats(0, 300), downloads=st.integers(0, 3),
    seniority=st.sampled_from(["vp", "individual", "student"]), change=negative_events,
)
def test_a_negative_event_never_raises_points(base_streak, base_inactive, downloads, seniority, change):
    before = _rows(unopened_email_streak=[base_streak], days_inactive=[base_inactive], content_download_count_90d=[downloads],
                   days_since_last_content_download=[5.0], seniority=[seniority])
    after = before.copy()
    after["is_unsubscribed"] = change["unsubscribe"]
    after["is_bounced"] = change["bounce"]
    after["unopened_email_streak"] += change["more_unopened"]
    after["days_inactive"] += change["more_inactive_days"]
    scorer = _DEFAULT_SCORER
    assert scorer.decision_function(after)[0] <= scorer.decision_function(before)[0]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "typo", "feature": "web_vists_30d", "condition": {"at_least": 1}, "points": 5}, "rule 'typo' names unknown feature 'web_vists_30d'"),
        ({"id": "backwards", "feature": "lead_age_days", "condition": {"between": [20, 10]}, "points": 5}, "rule 'backwards': impossible condition between 20 and 10"),
        ({"id": "empty", "feature": "seniority", "condition": {"in": []}, "points": 5}, "rule 'empty': impossible condition: 'in' with an empty list"),
        ({"id": "numeric_cat", "feature": "seniority", "condition": {"at_least": 3}, "points": 5}, "rule 'numeric_cat': impossible condition: 'at_least' on category feature 'seniority'"),
        ({"id": "text_count", "feature": "web_visit_count_30d", "condition": {"equals": "5"}, "points": 5},
         "rule 'text_count': impossible condition: text values for numeric feature 'web_visit_count_30d'"),
        ({"id": "number_cat", "feature": "seniority", "condition": {"equals": 500}, "points": 5},
         "rule 'number_cat': impossible condition: numbers or flags for category feature 'seniority'"),
        ({"id": "numbers_cat", "feature": "seniority", "condition": {"in": [1, 2]}, "points": 5},
         "rule 'numbers_cat': impossible condition: numbers or flags for category feature 'seniority'"),
        ({"id": "two", "feature": "seniority", "condition": {"in": ["vp"], "at_least": 1}, "points": 5}, "rule 'two', key 'condition'"),
        ({"id": "nopoints", "feature": "seniority", "condition": {"in": ["vp"]}}, "rule 'nopoints', key 'points': Field required"),
    ],
)
def test_bad_rules_are_errors_naming_the_rule(tmp_path, rule, message):
    path = tmp_path / "points.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule], "thresholds": THRESHOLDS}))
    with pytest.raises(BadInputError, match=str(path)) as err:
        table = load_points_table(path)
        check_against_registry(table, {f.name: f for f in all_features()})
    assert message in str(err.value)


@pytest.mark.parametrize("limits", [{"total": {"min": 100, "max": -100}}, {"caps": {"implicit": {"min": 150, "max": 0}}}])
def test_limits_whose_min_is_above_their_max_are_errors(tmp_path, limits):
    """Clipping to an empty range would give every lead the max, whatever it did."""
    path = tmp_path / "points.yaml"
    rule = {"id": "visits", "feature": "web_visit_count_30d", "condition": {"at_least": 1}, "points": 5}
    path.write_text(yaml.safe_dump({"rules": [rule], "thresholds": THRESHOLDS, **limits}))
    with pytest.raises(BadInputError, match="is above max"):
        load_points_table(path)


def test_rules_check_command_prints_the_table_and_rejects_a_bad_one(tmp_path, capsys):
    assert main(["rules", "--check"]) == 0
    assert "four_unopened_emails" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"rules": [{"id": "x", "feature": "nope", "condition": {"at_least": 1}, "points": 1}], "thresholds": THRESHOLDS}))
    assert main(["rules", "--check", "--table", str(bad)]) == 2
    assert "rule 'x' names unknown feature 'nope'" in capsys.readouterr().err.replace("\n", "")


def test_rules_check_reads_the_config_windows_and_points_table(tmp_path, capsys):
    """A table naming a 14-day window feature is valid only under a config that builds that window."""
    table = tmp_path / "points.yaml"
    rule = {"id": "fortnight_visits", "feature": "web_visit_count_14d", "condition": {"at_least": 2}, "points": 5}
    table.write_text(yaml.safe_dump({"rules": [rule], "thresholds": THRESHOLDS}))
    assert main(["rules", "--check", "--table", str(table)]) == 2
    config = tmp_path / "leadscore.yaml"
    config.write_text(yaml.safe_dump({"windows": {"lookback_days": [14, 30, 90]}, "points_table": str(table)}))
    capsys.readouterr()
    assert main(["rules", "--check", "--config", str(config)]) == 0
    assert "fortnight_visits" in capsys.readouterr().out


@pytest.mark.slow  # trains a model
def test_training_scores_a_table_that_names_a_feature_of_the_configured_windows(synthetic, tmp_path):
    """`rules --check --config` and training agree: a 14-day rule is valid when the config builds 14-day windows."""
    from leadscore.features.crm import crm_from_frames
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.train import fit_models

    table = tmp_path / "points.yaml"
    rule = {"id": "fortnight_visits", "feature": "web_visit_count_14d", "condition": {"at_least": 2}, "points": 30}
    table.write_text(yaml.safe_dump({"rules": [rule], "thresholds": THRESHOLDS}))
    config = load_config(workdir=str(tmp_path), points_table=str(table), windows={"lookback_days": [14, 30, 90]}, **QUICK_TRAINING)
    result = fit_models(crm_from_frames(synthetic.leads, synthetic.activities, synthetic.opportunities), config)
    assert set(result.test_frame["rule_points"].unique()) == {0, 30}


def test_unknown_features_are_all_named_in_one_message(tmp_path):
    path = tmp_path / "points.yaml"
    rules = [{"id": "a", "feature": "nope", "condition": {"at_least": 1}, "points": 1},
             {"id": "b", "feature": "seniority", "condition": {"in": ["vp"]}, "points": 1},
             {"id": "c", "feature": "type_follow_up_call_count_30d", "condition": {"at_least": 1}, "points": 1}]
    path.write_text(yaml.safe_dump({"rules": rules, "thresholds": THRESHOLDS}))
    with pytest.raises(BadInputError) as err:
        check_against_registry(load_points_table(path), {f.name: f for f in all_features()})
    assert "rule 'a' names unknown feature 'nope'; rule 'c' names unknown feature 'type_follow_up_call_count_30d'" in str(err.value)


def test_the_packaged_table_says_which_rules_a_crm_of_its_own_vocabulary_cannot_use():
    from leadscore.features.settings import FeatureSettings
    from leadscore.features.vocabulary import produced_roles, with_present_types
    from leadscore.models.rules.table import vocabulary_problem

    table = load_points_table()
    activity_rules = ["demo_request", "content_download", "webinar_attended", "offline_event", "form_submit",
                      "frequent_visitor", "email_click", "sales_call", "four_unopened_emails", "unsubscribed", "bounced"]
    own = with_present_types(FeatureSettings(), ["Follow-up call", "Documents sent"])
    features = {f.name: f for f in all_features(own)}
    problem = vocabulary_problem(table, features, produced_roles(own), packaged=True)
    for rule in activity_rules:
        assert f"{rule} ({table.rule(rule).feature})" in problem
    assert f"{len(activity_rules)} of {len(table.rules)} rules" in problem and "does not fit" in problem
    assert ("column 'activity_type' holds no activity of the roles content_download, demo_request, email_bounce, "
            "email_click, email_sent") in problem
    assert "(none of its own types 'Documents sent', 'Follow-up call' is declared with one of them in features.activity_types)" in problem
    # a CRM that sends, opens and visits but holds no other built-in type: fewer rules miss, and it fits
    b2b = with_present_types(FeatureSettings(), ["email_sent", "email_open", "email_click", "web_visit", "form_submit",
                                                 "content_download", "unsubscribe"])
    fitting = vocabulary_problem(table, {f.name: f for f in all_features(b2b)}, produced_roles(b2b), packaged=True)
    assert "does not fit" not in fitting and "demo_request (demo_request_count_30d)" in fitting
    builtin = with_present_types(FeatureSettings(), list(ACTIVITY_TYPES))
    assert vocabulary_problem(table, {f.name: f for f in all_features(builtin)}, produced_roles(builtin), packaged=True) is None


def test_rules_check_with_data_names_the_rules_the_crm_cannot_use(tmp_path, capsys):
    (tmp_path / "leads.csv").write_text("lead_id,created_at,email,job_title,seniority,department,company_name,company_size,"
                                        "industry,country,lead_source\nL1,2024-01-01,,,,,,,,,\n", encoding="utf-8")
    (tmp_path / "activities.csv").write_text("lead_id,occurred_at,activity_type\nL1,2024-01-06T10:00:00Z,Follow-up call\n",
                                             encoding="utf-8")
    (tmp_path / "opportunities.csv").write_text("opportunity_id,lead_id,created_at,closed_at,outcome\n", encoding="utf-8")
    assert main(["rules", "--check", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "does not fit the CRM's activity vocabulary" in captured.out
    warned = " ".join(captured.err.split())
    assert "sales_call (sales_call_count_30d)" in warned and f"features this CRM ({tmp_path}) does not produce" in warned
    assert "none of its own types 'Follow-up call' is declared with one of them" in warned


def test_the_packaged_table_leaves_out_the_rules_on_lead_columns_a_crm_lacks_and_names_them():
    """A CRM without seniority still gets the packaged baseline from its other rules; the message names each rule left out."""
    from leadscore.features.registry import all_features
    from leadscore.features.settings import FeatureSettings
    from leadscore.models.rules.table import check_against_registry, vocabulary_problem, without_unbuilt_rules

    full = load_points_table()
    features = {f.name: f for f in all_features(FeatureSettings(features={"lead_columns": []}))}
    with pytest.raises(BadInputError, match="rule 'senior_title' names unknown feature 'seniority'"):
        check_against_registry(full, features)  # a table of one's own naming them is an error
    trimmed = without_unbuilt_rules(full, features)
    check_against_registry(trimmed, features)
    left_out = {r.id for r in full.rules} - {r.id for r in trimmed.rules}
    assert "senior_title" in left_out and all(r.feature in features for r in trimmed.rules)
    problem = vocabulary_problem(full, features, None, packaged=True)
    assert "senior_title (seniority: the leads table lacks its column)" in problem
    assert without_unbuilt_rules(full, {f.name: f for f in all_features(FeatureSettings())}) is full
