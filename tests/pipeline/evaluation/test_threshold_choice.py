"""Recommended thresholds: chosen on the calibration slice, reported on the test leads, whole points, ties named."""

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from leadscore.pipeline.config import load_config, with_settings
from leadscore.pipeline.evaluation import evaluate_scorers, write_report
from leadscore.pipeline.evaluation.thresholds import audit_threshold, recommend_threshold, tie_text

from .test_report import THRESHOLDS, tiny_frame


def _frame(points, labels, dates=4):
    n = len(points)
    return pd.DataFrame({"as_of": np.repeat(pd.date_range("2025-01-01", periods=dates, freq="7D", tz="UTC"), -(-n // dates))[:n],
                         "label": np.asarray(labels), "points": np.asarray(points, dtype=float)})


def test_the_recommended_cut_is_chosen_on_the_calibration_slice_and_reported_on_the_test_leads():
    config = with_settings(load_config(), {"targets": {"max_share_to_sales": 1.0}})  # conversion decides alone
    rng = np.random.default_rng(3)
    points = rng.integers(0, 100, 4000)
    # on the calibration slice wins sit above 60 points; on the test leads above 80
    calibration = _frame(points, (points >= 60) & (rng.random(4000) < 0.5))
    test = _frame(points, (points >= 80) & (rng.random(4000) < 0.5))
    chosen_on_test = audit_threshold(test, "rule", "MQL", "points", 30, "points", config)
    chosen_on_calibration = audit_threshold(test, "rule", "MQL", "points", 30, "points", config, recommend_on=calibration)
    expected = recommend_threshold(calibration["label"].to_numpy(), calibration["points"].to_numpy(), 0.15, 1.0, whole=True)
    assert chosen_on_calibration.recommended_threshold == expected
    assert chosen_on_calibration.recommended_on == "calibration slice" and chosen_on_test.recommended_on == "test leads"
    assert chosen_on_calibration.recommended_threshold != chosen_on_test.recommended_threshold
    # its share, conversion and missed wins are measured on the test leads
    passed = test["points"] >= chosen_on_calibration.recommended_threshold
    assert chosen_on_calibration.recommended_share == passed.mean()
    assert chosen_on_calibration.recommended_conversion == test.loc[passed, "label"].mean()
    assert chosen_on_calibration.missed_wins == int(test.loc[test["points"] >= 30, "label"].sum() - test.loc[passed, "label"].sum())


def test_a_points_table_cut_is_a_whole_number_that_passes_what_the_fractional_one_would():
    rng = np.random.default_rng(0)
    points = np.round(rng.normal(40, 15, 3000), 2)  # decayed points: fractional
    labels = rng.random(3000) < 1 / (1 + np.exp(-(points - 60) / 5))
    cut = recommend_threshold(labels, points, 0.4, 1.0, whole=True)
    assert cut is not None and cut == int(cut)
    passed = points >= cut
    assert labels[passed].mean() >= 0.4
    # one point lower passes more leads and misses the target: the cut is the loosest whole one
    looser = points >= cut - 1
    assert looser.sum() > passed.sum() and labels[looser].mean() < 0.4


def test_a_large_tie_below_the_cut_is_named_with_its_size():
    score = np.r_[np.full(20, 0.9), np.full(120, 0.3), np.linspace(0.01, 0.2, 860)]
    text = tie_text(score, 0.9, "probability", "leads")
    assert "120 leads (12.0%) share the score 0.3 just below this cut" in text and "14.0% of leads" in text
    assert tie_text(np.linspace(0, 1, 1000), 0.9, "probability") == ""


def test_an_audit_names_the_tie_that_blocks_a_looser_cut():
    config = load_config()
    labels = np.r_[np.ones(30), np.zeros(10), np.zeros(110), np.zeros(850)].astype(int)
    score = np.r_[np.full(40, 0.9), np.full(110, 0.4), np.linspace(0.01, 0.2, 850)]
    audit = audit_threshold(_frame(score, labels), "model", "hot", "points", 0.5, "probability", config)
    assert audit.recommended_threshold == 0.9
    assert "110 open leads (11.0%) share the score 0.4" in audit.ties


def test_the_report_says_where_a_cut_was_chosen_and_leaves_thresholds_that_meet_the_targets_alone(tmp_path):
    test, calibration = tiny_frame(seed=0), tiny_frame(seed=1)
    # scores run higher on the calibration slice, so every cut chosen there is stricter than today's
    calibration = calibration.assign(model_proba=(calibration["model_proba"] + 0.2).clip(0, 1), rule_points=calibration["rule_points"] + 30)
    evaluation = evaluate_scorers(test, load_config(), THRESHOLDS, recommend_on=calibration)
    assert {a.recommended_on for a in evaluation.audits} == {"calibration slice"}
    paths = write_report(evaluation, tmp_path)
    rows = BeautifulSoup(paths["html"].read_text(), "html.parser").select("#threshold-audit tr")[1:]
    by_name = {(r.find_all("td")[0].get_text(), r.find_all("td")[1].get_text().split(" ≥")[0]): r.find_all("td") for r in rows}
    mql = by_name[("points table", "MQL")]  # over-generous: passes more than capacity
    assert "chosen on the calibration slice" in mql[7].get_text() and "points" in mql[7].get_text()
    hot = evaluation.audits[1]  # meets the targets: a stricter cut is no advice
    assert not hot.over_generous and hot.recommended_threshold > hot.threshold
    assert by_name[("points table", "hot")][7].get_text() == "no change needed"
    assert "chosen on the calibration slice" in paths["markdown"].read_text()
    assert any("(chosen on the calibration slice): on the test leads it passes" in line for line in evaluation.verdict)


def _scored(seed: int, low_rate: float) -> pd.DataFrame:
    """Scored leads: those at 0.7 win a fifth of the time, those at 0.4 at `low_rate`, the rest never."""
    frame = tiny_frame(seed=seed)
    rng = np.random.default_rng(seed)
    proba = np.where(rng.random(len(frame)) < 0.05, 0.7, np.where(rng.random(len(frame)) < 0.05, 0.4, 0.1))
    rate = np.select([proba >= 0.6, proba >= 0.3], [0.2, low_rate], 0.0)
    return frame.assign(model_proba=proba, label=(rng.random(len(frame)) < rate).astype(int))


@pytest.mark.parametrize("test_low_rate, offered", [(0.0, False), (0.40, True)])
def test_a_looser_cut_is_offered_only_if_it_meets_the_target_on_the_test_leads(tmp_path, test_low_rate, offered):
    calibration, test = _scored(1, 0.40), _scored(0, test_low_rate)  # at 0.4 calibration leads convert at 40%
    config = with_settings(load_config(), {"targets": {"max_share_to_sales": 1.0}, "grades": {"hot": 0.6}})
    evaluation = evaluate_scorers(test, config, THRESHOLDS, recommend_on=calibration)
    model = evaluation.audits[2]
    assert not model.over_generous and model.recommended_threshold == 0.4
    rows = BeautifulSoup(write_report(evaluation, tmp_path)["html"].read_text(), "html.parser").select("#threshold-audit tr")[1:]
    cell = rows[2].find_all("td")[7].get_text()
    assert cell.startswith("could loosen to ≥ 0.4") if offered else cell == "no change needed", cell
