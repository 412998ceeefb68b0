"""The evaluation report: metrics match scikit-learn, threshold flags fire when they should, the HTML is whole."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from leadscore.pipeline.config import load_config
from leadscore.pipeline.evaluation import evaluate_scorers, write_report
from leadscore.pipeline.evaluation.thresholds import audit_threshold, recommend_threshold

GOLDEN = Path(__file__).parent / "golden"
THRESHOLDS = {"MQL": 50, "hot": 80}


def tiny_frame(seed: int = 0, n_dates: int = 4, per_date: int = 500) -> pd.DataFrame:
    """A fixed held-out frame: the model separates wins well, the points less well."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-01", periods=n_dates, freq="30D", tz="UTC")
    n = n_dates * per_date
    label = (rng.random(n) < 0.08).astype(int)
    model = np.clip(0.05 + 0.5 * label * rng.random(n) + 0.1 * rng.random(n), 0, 1)
    points = np.round(40 * label + rng.normal(30, 25, n))
    return pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)], "as_of": np.repeat(dates, per_date), "label": label,
        "model_proba": model, "rule_proba": np.clip(points / 200, 0.001, 0.999), "rule_points": points,
        "rule_segment": np.select([points >= 80, points >= 20], ["hot", "nurture"], "leave"),
        "rule_stage": np.select([points >= 100, points >= 50], ["SQL", "MQL"], "lead"),
        "lead_source": rng.choice(["organic", "event", "paid_search"], n),
        "country": rng.choice(["US", "DE"], n), "company_size_band": rng.choice(["11-50", "201-1000"], n),
    })


def test_metrics_agree_with_scikit_learn():
    frame = tiny_frame()
    # the points table's probability is a step function of its points, as a fitted isotonic mapping is
    frame["rule_proba"] = np.clip(np.floor(frame["rule_points"] / 40) * 0.05 + 0.02, 0.001, 0.999)
    evaluation = evaluate_scorers(frame, load_config(), THRESHOLDS)
    for name, ranking, proba in (("model", "model_proba", "model_proba"), ("rule", "rule_points", "rule_proba")):
        m = evaluation.metrics[name]
        assert m["roc_auc"] == pytest.approx(roc_auc_score(frame["label"], frame[ranking]))
        assert m["pr_auc"] == pytest.approx(average_precision_score(frame["label"], frame[ranking]))
        assert m["brier"] == pytest.approx(brier_score_loss(frame["label"], frame[proba]))
        assert m["log_loss"] == pytest.approx(log_loss(frame["label"], np.clip(frame[proba], 1e-6, 1 - 1e-6)))
    # ranked by its steps, the points table would lose the order within each step
    assert evaluation.metrics["rule"]["roc_auc"] > roc_auc_score(frame["label"], frame["rule_proba"]) + 0.005


def test_over_generous_flag_fires_on_a_loose_threshold_and_not_on_a_tight_one():
    frame = tiny_frame()
    config = load_config(targets={"min_conversion_rate": 0.3, "max_share_to_sales": 0.2})
    loose = audit_threshold(frame, "rule", "MQL", "rule_points", 20, "points", config)
    assert loose.over_generous
    assert any("below the 30% target" in p for p in loose.problems)
    assert any("more than Sales capacity" in p for p in loose.problems)
    tight_cut = recommend_threshold(frame["label"].to_numpy(), frame["model_proba"].to_numpy(), 0.3, 0.2)
    tight = audit_threshold(frame, "model", "hot", "model_proba", tight_cut, "probability", config)
    assert not tight.over_generous and tight.problems == []


def test_the_recommended_threshold_meets_the_target_and_capacity():
    frame = tiny_frame(seed=3)
    config = load_config(targets={"min_conversion_rate": 0.25, "max_share_to_sales": 0.1})
    audit = audit_threshold(frame, "rule", "MQL", "rule_points", 10, "points", config)
    assert audit.over_generous and audit.recommended_threshold is not None
    passed = frame["rule_points"] >= audit.recommended_threshold
    assert frame.loc[passed, "label"].mean() >= 0.25
    assert passed.mean() <= 0.1
    # nothing lower would also meet both targets
    lower = sorted(frame.loc[frame["rule_points"] < audit.recommended_threshold, "rule_points"].unique())[-1]
    looser = frame["rule_points"] >= lower
    assert frame.loc[looser, "label"].mean() < 0.25 or looser.mean() > 0.1
    assert audit.missed_wins == int(frame.loc[frame["rule_points"] >= 10, "label"].sum() - frame.loc[passed, "label"].sum())


def test_the_printed_recommendation_is_the_cut_that_meets_the_target():
    """The verdict prints the cut it chose, not a rounding of it that could pass fewer leads."""
    import re

    frame = tiny_frame(seed=3).assign(rule_points=lambda f: f["rule_points"] + np.random.default_rng(1).random(len(f)))
    config = load_config(targets={"min_conversion_rate": 0.25, "max_share_to_sales": 0.1})
    evaluation = evaluate_scorers(frame, config, {"MQL": 10, "hot": 80})
    line = next(v for v in evaluation.verdict if v.startswith("Over-generous: Points table MQL"))
    printed = float(re.search(r"raise it to ≥ ([\d.]+) points", line).group(1))
    passed = frame["rule_points"] >= printed
    assert frame.loc[passed, "label"].mean() >= 0.25 and passed.mean() <= 0.1
    assert passed.sum() == (frame["rule_points"] >= evaluation.audits[0].recommended_threshold).sum()


def test_a_cut_below_the_current_one_is_worded_as_lowering_it():
    """Conversion need not rise with the points: the cut that meets the target can be the lower one."""
    from leadscore.pipeline.evaluation.verdict import verdict

    points = [100] * 10 + [90] * 10 + [80] * 10 + [70] * 10 + [60] * 10 + [50] * 10 + [40] * 10 + [0] * 930
    label = [1] * 5 + [0] * 5 + [0] * 30 + ([1] * 6 + [0] * 4) * 3 + [0] * 930
    frame = pd.DataFrame({"as_of": pd.Timestamp("2025-01-01", tz="UTC"), "label": label, "rule_points": points})
    config = load_config(targets={"min_conversion_rate": 0.25, "max_share_to_sales": 0.1})
    audit = audit_threshold(frame, "rule", "MQL", "rule_points", 70, "points", config)
    line = verdict({"model": {"roc_auc": 0.9, "ece": 0}, "rule": {"roc_auc": 0.8, "ece": 0}}, [audit], {"model": 0.5, "rule": 0.4})[-1]
    assert audit.recommended_threshold == 40
    assert "lower it to ≥ 40 points" in line and "catching 18 more wins" in line


def test_a_test_slice_with_one_class_says_ranking_cannot_be_assessed():
    frame = tiny_frame().assign(label=0)
    lines = evaluate_scorers(frame, load_config(), THRESHOLDS).verdict
    assert lines[0].startswith("Ranking cannot be assessed")


def test_no_threshold_can_meet_an_impossible_target():
    frame = tiny_frame()
    config = load_config(targets={"min_conversion_rate": 0.9, "max_share_to_sales": 0.0001})  # capacity below one lead
    audit = audit_threshold(frame, "rule", "MQL", "rule_points", 50, "points", config)
    assert audit.over_generous and audit.recommended_threshold is None


def test_score_inflation_is_flagged_when_more_leads_pass_and_fewer_convert():
    frame = tiny_frame(n_dates=5)
    date_index = frame["as_of"].rank(method="dense").astype(int)
    inflated = frame.assign(rule_points=frame["rule_points"] + 15 * date_index * (frame["label"] == 0))
    audit = audit_threshold(inflated, "rule", "MQL", "rule_points", 50, "points", load_config())
    assert audit.inflation
    assert not audit_threshold(frame, "rule", "MQL", "rule_points", 50, "points", load_config()).inflation


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images, self.text = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.ids.add(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_has_every_section_and_image_and_no_personal_data(tmp_path):
    frame = tiny_frame().assign(email="someone@example.com")
    paths = write_report(evaluate_scorers(frame, load_config(), THRESHOLDS), tmp_path)
    parser = _Sections()
    parser.feed(paths["html"].read_text())
    assert {"verdict", "threshold-audit", "metrics", "gains", "calibration", "segments", "slices", "population"} <= parser.ids
    assert len(parser.images) == 5 and all(src.startswith("data:image/png;base64,") and len(src) > 2000 for src in parser.images)
    for path in paths.values():
        assert "example.com" not in path.read_text()
    figures = json.loads(paths["json"].read_text())
    assert {"metrics", "threshold_audit", "gains", "reliability", "segments", "grades", "slices", "verdict", "population"} <= set(figures)


def test_golden_report_for_a_tiny_fixed_dataset(tmp_path):
    """The Markdown summary and the JSON figures of a fixed frame; regenerate deliberately with LEADSCORE_REGEN=1."""
    import os

    paths = write_report(evaluate_scorers(tiny_frame(), load_config(), THRESHOLDS), tmp_path)
    summary = paths["markdown"].read_text()
    figures = json.loads(paths["json"].read_text())
    kept = {k: figures[k] for k in ("metrics", "threshold_audit", "segments", "grades", "verdict")}
    if os.environ.get("LEADSCORE_REGEN"):
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / "summary.md").write_text(summary)
        (GOLDEN / "figures.json").write_text(json.dumps(kept, indent=2, sort_keys=True))
    assert summary == (GOLDEN / "summary.md").read_text()
    expected = json.loads((GOLDEN / "figures.json").read_text())
    assert json.dumps(kept, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_the_slice_table_skips_the_lead_columns_the_crm_lacks():
    frame = tiny_frame().drop(columns=["lead_source", "country"])  # a CRM with no source or country column
    slices = evaluate_scorers(frame, load_config(), THRESHOLDS).slices
    assert set(slices["slice"]) == {"company_size_band"}
    assert set(slices["value"]) == {"11-50", "201-1000"}
    bare = evaluate_scorers(frame.drop(columns=["company_size_band"]), load_config(), THRESHOLDS).slices
    assert set(bare["slice"]) == {"all"}


@pytest.mark.parametrize("rule", ["exclude", "include"])
def test_leads_with_an_open_opportunity_are_reported_as_their_own_group(rule):
    frame = tiny_frame()
    flagged = frame.assign(in_sales_pipeline=frame.index % 10 == 0)
    config = load_config(population={"open_opportunities": rule})
    if rule == "include":
        evaluation = evaluate_scorers(flagged, config, THRESHOLDS)
        pipeline = flagged.loc[flagged["in_sales_pipeline"], "label"]
        assert set(evaluation.slices.loc[evaluation.slices["slice"] == "in_sales_pipeline", "value"]) == {"True", "False"}
        assert "mix them in (population.open_opportunities: include)" in evaluation.verdict[-1]
    else:
        left_out = flagged.loc[flagged["in_sales_pipeline"], ["lead_id", "as_of", "label"]]
        evaluation = evaluate_scorers(frame.drop(left_out.index), config, THRESHOLDS, left_out)
        pipeline = left_out["label"]
        assert "left out of training, the figures above and the threshold audit" in evaluation.verdict[-1]
    group = evaluation.population.set_index("group").loc["open opportunity at as_of"]
    assert group["snapshots"] == len(pipeline) and group["wins"] == pipeline.sum()
    assert group["conversion"] == pytest.approx(pipeline.mean())
    assert f"converting at {pipeline.mean():.1%}" in evaluation.verdict[-1]


def test_the_backtest_and_the_deployed_models_periods_are_in_every_output(tmp_path):
    backtest = pd.DataFrame([{"fold": i, "first_as_of": f"2026-0{i}-01", "last_as_of": f"2026-0{i}-28", "rows": 100, "wins": 10,
                              "fitted_to": f"2025-1{i - 1}-01", "calibrated_from": "2025-12-01", "calibration_method": "sigmoid",
                              **{f"{s}_{m}": v for s, v0 in (("model", 0.8), ("rule", 0.7))
                                 for m, v in (("roc_auc", v0 + i / 100), ("pr_auc", 0.3), ("brier", 0.08), ("ece", 0.01 * i))}}
                             for i in (1, 2, 3)])
    span = {"rows": 500, "wins": 40, "first_as_of": "2024-01-01", "last_as_of": "2025-12-01"}
    training = {"family": "logistic", "candidate": "logistic (C=1)",
                "selection": [{"candidate": "lightgbm", "family": "lightgbm", "validation_roc_auc": 0.71},
                              {"candidate": "logistic (C=1)", "family": "logistic", "validation_roc_auc": 0.74}],
                "deployed": {"fitted_on": span, "calibrated_on": span, "calibration_method": "isotonic"},
                "held_out": {"fitted_on": span, "calibrated_on": span, "calibration_method": "sigmoid"},
                "base_rate_shifts": ["the win rate moved from 5.0% (2026-01-01) to 15.0% (2026-02-01), 3.0 times as high"]}
    evaluation = evaluate_scorers(tiny_frame(), load_config(), THRESHOLDS, backtest=backtest, training=training)
    assert any(line.startswith("Drift: the win rate moved from 5.0%") for line in evaluation.verdict)
    paths = write_report(evaluation, tmp_path)
    html, summary = paths["html"].read_text(), paths["markdown"].read_text()
    assert "Rolling-origin backtest" in html and "logistic (C=1)" in html and "2024-01-01 to 2025-12-01" in html
    assert html.count("<td>0.830</td>") == 1 and html.count("<td>0.820</td>") == 2  # fold 2 and the mean over folds
    assert "## Backtest" in summary and "| 3 | 2026-03-01 to 2026-03-28 |" in summary
    figures = json.loads(paths["json"].read_text())
    assert [f["model_roc_auc"] for f in figures["backtest"]] == [0.81, 0.82, 0.83]
    assert figures["training"]["deployed"]["fitted_on"]["last_as_of"] == "2025-12-01"
    assert figures["metrics"]["model"]["roc_auc"] == pytest.approx(evaluation.metrics["model"]["roc_auc"])
