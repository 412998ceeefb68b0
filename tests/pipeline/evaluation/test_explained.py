"""The report's top factors and example leads: ranked by contribution size, chosen by rule, worded as the scores file words them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.registry import all_features
from leadscore.models.bundle import ModelBundle
from leadscore.models.calibration import calibrate
from leadscore.models.lgbm import LeadScoringModel
from leadscore.models.linear import LinearLeadModel
from leadscore.models.rules import PointsScorer
from leadscore.models.rules.table import parse_points_table
from leadscore.pipeline.config import load_config
from leadscore.pipeline.evaluation.explained import EXAMPLE_ROLES, MIXED, SAME_PUSH, Explainer, choose_examples, explain, top_factors
from leadscore.pipeline.reasons import add_reasons
from leadscore.pipeline.scoring import score_frame, score_rows

FEATURES = ("web_visit_count_30d", "email_click_count_30d", "days_inactive", "seniority", "lead_source", "is_unsubscribed")
POINTS = {"rules": [
    {"id": "visits", "label": "visited the website 5+ times this month", "feature": "web_visit_count_30d",
     "condition": {"at_least": 5}, "points": 40},
    {"id": "senior", "label": "senior title", "feature": "seniority", "condition": {"in": ["c_level", "vp"]}, "points": 30},
    {"id": "unsubscribed", "label": "unsubscribed", "feature": "is_unsubscribed", "condition": {"equals": True}, "points": -100},
], "thresholds": {"stages": {"MQL": 50, "SQL": 90}, "segments": {"nurture": 20, "hot": 60}}}


def feature_rows(n: int = 1200, seed: int = 3) -> pd.DataFrame:
    """Feature rows of registered features whose wins follow web visits and seniority, with distinctive lead ids."""
    rng = np.random.default_rng(seed)
    seniority = rng.choice(["c_level", "vp", "manager", "individual"], n, p=[0.1, 0.15, 0.35, 0.4])
    visits = rng.poisson(3, n)
    unsubscribed = rng.random(n) < 0.05
    logit = -3.2 + 0.45 * visits + 1.6 * np.isin(seniority, ["c_level", "vp"]) - 2.5 * unsubscribed
    return pd.DataFrame({
        "lead_id": [f"crm-lead-{i:05d}x" for i in range(n)],
        "as_of": pd.Timestamp("2025-03-01", tz="UTC"),
        "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        "web_visit_count_30d": visits, "email_click_count_30d": rng.poisson(1, n),
        "days_inactive": rng.exponential(20, n).round(), "seniority": seniority,
        "lead_source": rng.choice(["organic", "paid_search", "event"], n), "is_unsubscribed": unsubscribed,
    })


def fitted_explainer(family: str, n: int = 1200) -> Explainer:
    """Return an explainer over rows scored by a small model of `family` and a three-rule points table."""
    rows = feature_rows(n)
    X, y = rows[list(FEATURES)], rows["label"].to_numpy()
    model = (LinearLeadModel() if family == "logistic" else LeadScoringModel({"n_estimators": 60, "num_leaves": 7, "verbose": -1}, None, 0))
    model.fit(X, y)
    calibrated = calibrate(model, X, y, "sigmoid")
    points = PointsScorer(parse_points_table(POINTS)).fit(X, y)
    config = load_config()
    return Explainer(score_frame(rows, calibrated, points, config.grades), rows, model, points,
                     {f.name: f for f in all_features()}, per_lead=3)


@pytest.fixture(scope="module", params=["lightgbm", "logistic"])
def explainer(request) -> Explainer:
    return fitted_explainer(request.param)


def test_factors_rank_by_mean_absolute_contribution_not_by_mean():
    # `swings` pushes each lead a lot either way (mean zero); `nudges` pushes every lead a little up
    contributions = pd.DataFrame({"nudges": [0.2, 0.2, 0.2, 0.2], "swings": [1.0, -1.0, 1.0, -1.0], "idle": [0.0, 0.0, 0.0, -0.1]})
    table = top_factors(contributions, contributions, {}, top=2)
    assert table["feature"].tolist() == ["swings", "nudges"]  # `idle` is cut by top=2
    swings = table.iloc[0]
    assert swings["mean_abs"] == pytest.approx(1.0)
    assert (swings["raises"], swings["lowers"]) == (0.5, 0.5)
    assert table.iloc[1][["raises", "lowers"]].tolist() == [1.0, 0.0]


def test_a_factors_direction_says_which_values_push_the_score_up():
    registry = {f.name: f for f in all_features()}
    pushes = np.array([0.6, 0.5, -0.3, -0.4, 0.1, -0.1] * 5)
    seniority = pd.Series(["vp", "vp", "individual", "individual", "manager", "manager"] * 5)
    assert top_factors(pd.DataFrame({"seniority": pushes}), pd.DataFrame({"seniority": seniority}), registry,
                       labels={"vp": "VP"})["direction"].tolist() == ["highest for VP, lowest for Individual"]
    unsubscribed = pd.Series([False, False, True, True, False, False] * 5)
    assert top_factors(pd.DataFrame({"is_unsubscribed": pushes}), pd.DataFrame({"is_unsubscribed": unsubscribed}),
                       registry)["direction"].tolist() == ["unsubscribed from email: lowers the score"]
    inactive = pd.Series([1.0, 2.0, 50.0, 60.0, np.nan, 30.0] * 5)
    assert top_factors(pd.DataFrame({"days_inactive": pushes}), pd.DataFrame({"days_inactive": inactive}),
                       registry)["direction"].tolist() == ["more lowers the score"]
    noise = pd.Series(np.tile([3.0, 3.0, 4.0, 4.0], 5))  # each value pushed up as often as down
    assert top_factors(pd.DataFrame({"days_inactive": np.tile([1.0, -1.0], 10)}), pd.DataFrame({"days_inactive": noise}),
                       registry)["direction"].tolist() == [MIXED]
    # every row beyond a tree's last split: one push, whatever the value
    assert top_factors(pd.DataFrame({"days_inactive": np.full(20, 0.3)}), pd.DataFrame({"days_inactive": noise}),
                       registry)["direction"].tolist() == [SAME_PUSH]


def test_example_leads_are_the_top_either_side_of_hot_and_the_widest_gap_each_a_different_lead():
    scored = pd.DataFrame({
        "lead_id": ["a", "b", "c", "d", "a", "e"],
        "model_proba": [0.90, 0.35, 0.31, 0.29, 0.28, 0.05],
        "rule_proba": [0.80, 0.30, 0.30, 0.25, 0.20, 0.70],  # e: the points table sees 0.70 where the model sees 0.05
    })
    assert choose_examples(scored, hot=0.30) == list(zip(EXAMPLE_ROLES, [0, 2, 3, 5]))
    # the only hot row is the top lead itself, so nobody is shown as just above the threshold
    assert choose_examples(scored.iloc[[0, 3, 5]].reset_index(drop=True), hot=0.9) == list(zip(EXAMPLE_ROLES[:1] + EXAMPLE_ROLES[2:], [0, 1, 2]))
    # nobody is hot: no lead is shown as just above the threshold
    assert [role for role, _ in choose_examples(scored, hot=0.95)] == [EXAMPLE_ROLES[0], EXAMPLE_ROLES[2], EXAMPLE_ROLES[3]]


def test_explained_factors_are_sorted_worded_and_averaged_over_the_sample(explainer):
    config = load_config()
    explained = explain(explainer, config.grades.hot, seed=0, limit=500)
    assert explained["explained_rows"] == 500 and explained["rows"] == len(explainer.scored)
    sizes = [f["mean_abs"] for f in explained["factors"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    assert all("_" not in f["label"] and f["label"][0].isupper() for f in explained["factors"])
    assert {f["feature"] for f in explained["factors"][:2]} & {"web_visit_count_30d", "seniority"}  # what the wins follow
    assert explain(explainer, config.grades.hot, seed=0, limit=500) == explained  # a fixed seed: the same report every run
    everything = explain(explainer, config.grades.hot, seed=0, limit=10_000)
    direct = explainer.model.contributions(explainer.features[list(FEATURES)]).abs().mean()
    assert {f["feature"]: f["mean_abs"] for f in everything["factors"]} == pytest.approx(direct.to_dict())


def test_example_leads_carry_the_frames_scores_and_the_scores_files_reasons(explainer):
    config = load_config()
    examples = explain(explainer, config.grades.hot, seed=0)["examples"]
    assert [x["name"] for x in examples] == [f"Lead {c}" for c in "ABCD"[:len(examples)]] and len(examples) >= 3
    picks = choose_examples(explainer.scored, config.grades.hot)
    rows = explainer.scored.iloc[[i for _, i in picks]]
    assert [x["probability"] for x in examples] == rows["model_proba"].tolist()
    assert [x["won"] for x in examples] == rows["label"].astype(bool).tolist()
    assert [x["points"] for x in examples] == rows["rule_points"].tolist()
    assert examples[0]["probability"] == explainer.scored["model_proba"].max()
    # the scores file's reasons for the same rows, from the same model and points table
    features = explainer.features.iloc[[i for _, i in picks]].reset_index(drop=True)
    bundle = ModelBundle(calibrated=explainer.model, model=explainer.model, points=explainer.points,
                         manifest={"features": {"names": list(FEATURES)}})
    scores = add_reasons(score_rows(features, bundle, config.grades), features, bundle, explainer.registry, 1.0, 3)
    assert [x["reasons_model_up"] for x in examples] == scores["reasons_model_up"].tolist()
    assert [x["reasons_model_down"] for x in examples] == scores["reasons_model_down"].tolist()
    assert [x["reasons_rule"] for x in examples] == scores["reasons_rule"].tolist()
    assert any(x["reasons_model_up"] for x in examples)
    assert not any(key in x for x in examples for key in ("lead_id", *FEATURES))
