"""`leadscore monitor`: realized conversion against the generator's truth, estimates for young dates, alerts with exit code 4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.features.crm import crm_from_frames
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.cli import exit_code_of
from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError, DriftError
from leadscore.pipeline.history import record_scores
from leadscore.pipeline.monitor import monitor, run_monitor


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def _tiny():
    """Six leads; L1 and L2 win 20 and 40 days after 2024-03-01, L3 wins 100 days after, the rest never."""
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(1, 7)], "created_at": [ts("2024-01-01")] * 6})
    activities = pd.DataFrame({"lead_id": ["L1"], "occurred_at": [ts("2024-01-02")], "activity_type": ["web_visit"],
                               "channel": ["online"], "value": [1.0], "asset_id": [None]})
    won = {"L1": "2024-03-21", "L2": "2024-04-10", "L3": "2024-06-09"}
    opportunities = pd.DataFrame({"opportunity_id": [f"O{k}" for k in won], "lead_id": list(won),
                                  "created_at": [ts("2024-03-02")] * 3, "closed_at": [ts(v) for v in won.values()],
                                  "outcome": ["won"] * 3, "amount": [1.0] * 3})
    lifecycle = pd.DataFrame({"lead_id": ["L4", "L4", "L5", "L5"], "stage": ["MQL", "Recycled", "MQL", "SQL"],
                              "entered_at": [ts("2024-03-05"), ts("2024-03-08"), ts("2024-03-05"), ts("2024-03-07")]})
    return crm_from_frames(leads, activities, opportunities, data_end=ts("2024-07-01"), lifecycle=lifecycle)


def _history(as_of: str, probability) -> pd.DataFrame:
    probability = np.asarray(probability, dtype=float)
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(1, 7)], "as_of": ts(as_of), "model_name": "leadscore",
                         "model_version": "1", "probability": probability, "score": probability * 100,
                         "grade": np.where(probability >= 0.3, "A", "D"), "segment": np.where(probability >= 0.15, "hot", "leave"),
                         "rule_points": probability * 100, "rule_segment": "leave"})


def _config(tmp_path, **overrides):
    return load_config(workdir=str(tmp_path), windows={"horizon_days": 90}, **overrides)


def test_a_matured_date_counts_wins_within_the_horizon_and_a_young_one_is_an_estimate(tmp_path):
    from leadscore.features.lifecycle import lifecycle_events

    crm = _tiny()
    config = _config(tmp_path)
    history = pd.concat([_history("2024-03-01", [0.9, 0.8, 0.7, 0.6, 0.1, 0.1]),   # horizon ends 2024-05-30: matured
                         _history("2024-05-01", [0.5, 0.5, 0.5, 0.1, 0.1, 0.1])])  # ends 2024-07-30: not yet
    events, _ = lifecycle_events(crm)
    result = monitor(history, crm, config, mql_threshold=50, hot_points=60, lifecycle=events)
    old, young = result.runs.iloc[0], result.runs.iloc[1]
    assert old["matured"] and old["realized"] == pytest.approx(2 / 6)  # L1, L2 inside; L3 wins after the horizon
    assert not young["matured"] and np.isnan(young["realized"]) and young["predicted"] == pytest.approx(0.3)
    assert young["wins_so_far"] == 1  # L3's win on 2024-06-09 has arrived
    grade_a = result.groups[(result.groups["as_of"] == ts("2024-03-01")) & (result.groups["group"] == "A")].iloc[0]
    assert grade_a["leads"] == 4 and grade_a["realized"] == pytest.approx(0.5) and grade_a["low"] < 0.5 < grade_a["high"]
    assert result.groups.loc[result.groups["as_of"] == ts("2024-05-01"), "estimate"].all()
    hot = result.audits[(result.audits["as_of"] == ts("2024-03-01")) & (result.audits["threshold"] == "model hot threshold")].iloc[0]
    assert hot["passed"] == 4 and hot["recycled_share"] == pytest.approx(1 / 4)  # L4 recycled on 2024-03-08
    handoffs = result.audits[result.audits["threshold"] == "actual handoffs (entered MQL)"]
    assert handoffs.iloc[0]["passed"] == 2 and handoffs.iloc[1]["passed"] == 0  # L4 and L5 entered MQL after 2024-03-01 only
    assert "estimate" in result.recommendation or "No retraining" in result.recommendation or result.alerts


def test_a_model_trained_on_a_stage_is_judged_on_reaching_it_not_on_wins(tmp_path):
    from leadscore.features.lifecycle import lifecycle_events

    crm = _tiny()
    events, _ = lifecycle_events(crm)
    by_stage = _history("2024-03-01", [0.9, 0.8, 0.7, 0.6, 0.1, 0.1]).assign(predicts="sql")
    result = monitor(by_stage, crm, _config(tmp_path), mql_threshold=50, hot_points=60, lifecycle=events)
    run = result.runs.iloc[0]
    assert run["predicts"] == "sql" and run["realized"] == pytest.approx(1 / 6)  # only L5 entered SQL; L1 and L2 won without one
    by_wins = monitor(by_stage.drop(columns="predicts"), crm, _config(tmp_path), mql_threshold=50, hot_points=60, lifecycle=events)
    assert by_wins.runs.iloc[0]["realized"] == pytest.approx(2 / 6)
    with pytest.raises(BadInputError, match="trained to reach the stage 'sql'.*no lifecycle table"):
        monitor(by_stage, crm, _config(tmp_path), mql_threshold=50, hot_points=60, lifecycle=None)


def test_monitor_without_history_is_bad_input_naming_the_folder(tmp_path):
    with pytest.raises(BadInputError, match=r"no score history since 2024-01-01; every leadscore score run records"):
        run_monitor(None, _config(tmp_path), since=ts("2024-01-01"), crm=_tiny())


def test_a_threshold_converting_below_target_with_confidence_exits_4_naming_it(tmp_path):
    crm = _tiny()
    config = _config(tmp_path, grades={"hot": 0.05}, monitor={"min_leads": 1})
    record_scores(_history("2024-03-01", [0.9, 0.8, 0.7, 0.6, 0.55, 0.5]), Catalog(tmp_path), None)
    result, paths, _ = run_monitor(None, config, crm=crm, raise_on_alert=False)
    assert not any("model hot threshold" in a for a in result.alerts)  # 2 of 6 at a 15% target: not confidently below
    strict = _config(tmp_path, grades={"hot": 0.05}, monitor={"min_leads": 1}, targets={"min_conversion_rate": 0.95})
    with pytest.raises(DriftError) as err:
        run_monitor(None, strict, crm=crm)
    assert exit_code_of(err.value) == 4
    assert "Over-generous: the model hot threshold (≥ 0.05 probability) passed 6 leads on 2024-03-01" in str(err.value)
    report = json.loads(paths["json"].read_text())
    assert report["runs"][0]["realized"] == pytest.approx(2 / 6) and (paths["html"]).read_text().count("<tr") > 3


# --- on the synthetic CRM: several scoring runs at past dates, then monitor --------------------------------------------

PAST_DATES = ("2025-09-01", "2025-11-01", "2026-01-01", "2026-03-01", "2026-06-01")


def _own_workdir(config, tmp_path_factory, name):
    workdir = tmp_path_factory.mktemp(name)
    return config.model_copy(update={"workdir": str(workdir),
                                     "tracking": config.tracking.model_copy(update={"uri": config.tracking_uri()})})


@pytest.fixture(scope="module")
def scored_history(trained, tmp_path_factory):
    """The shared model's held-out fit scoring at five past dates (a backfill) into a working folder of this module's own."""
    from leadscore.pipeline.score import score

    config, crm, _ = trained
    own = _own_workdir(config, tmp_path_factory, "monitor")
    for as_of in PAST_DATES:
        score(None, as_of, own, crm=crm, out=Path(own.workdir) / f"scores_{as_of}.parquet",
              log_to_mlflow=False, held_out=True)
    return own, crm


def test_monitor_reproduces_the_conversion_the_generators_truth_implies_per_grade(scored_history, trained_crm):
    from leadscore.features.synthetic import true_probability
    from leadscore.pipeline.history import read_history

    config, crm = scored_history
    result, paths, _ = run_monitor(None, config, crm=crm, raise_on_alert=False)
    assert result.runs["matured"].tolist() == [True, True, True, True, False]
    assert paths["html"].exists() and "estimate" in paths["html"].read_text()
    history = read_history(Catalog.of(config))
    seen_until = history["outcomes_seen_until"].iloc[0]
    assert (history["scorer"] == "held-out").all() and pd.notna(seen_until)
    assert result.runs["in_sample"].tolist() == [ts(d) < seen_until for d in PAST_DATES]
    judged = result.runs[result.runs["matured"] & ~result.runs["in_sample"]]
    assert len(judged) >= 2, "the trained fixture's test slice should leave matured dates the held-out model never saw"
    truth = history.assign(p_true=true_probability(trained_crm.truth, history, config.windows.horizon_days))
    grades = result.groups[(result.groups["kind"] == "model grade") & ~result.groups["estimate"] & ~result.groups["in_sample"]]
    for grade, part in grades.groupby("group"):
        realized_wins = (part["realized"] * part["leads"]).sum()
        rows = truth[truth["grade"] == grade].merge(part[["as_of"]], on="as_of")
        expected, spread = rows["p_true"].sum(), np.sqrt((rows["p_true"] * (1 - rows["p_true"])).sum())
        assert abs(realized_wins - expected) <= 3 * spread + 1, (grade, realized_wins, expected, spread)
    young = result.runs.iloc[-1]
    young_truth = truth.loc[truth["as_of"] == young["as_of"], "p_true"].mean()
    assert abs(young["predicted"] - young_truth) < 0.5 * young_truth  # the estimate: calibrated probabilities


def test_past_dates_scored_by_the_refitted_model_are_flagged_in_sample_and_never_alerted_on(trained, tmp_path_factory, capsys):
    """The deployed model learned every labelled outcome: backfilling with it measures memory, so monitoring sets it aside."""
    from leadscore.pipeline.score import score

    config, crm, _ = trained
    own = _own_workdir(config, tmp_path_factory, "in-sample")
    own = own.model_copy(update={"grades": own.grades.model_copy(update={"hot": 0.02, "nurture": 0.01}),
                                 "targets": own.targets.model_copy(update={"min_conversion_rate": 0.99})})
    score(None, "2025-11-01", own, crm=crm, out=Path(own.workdir) / "past.parquet", log_to_mlflow=False)
    assert "these scores are in-sample" in capsys.readouterr().err
    result, paths, _ = run_monitor(None, own, crm=crm)  # a target no threshold meets, yet no alert: nothing is judged
    run = result.runs.iloc[0]
    assert run["matured"] and run["in_sample"] and run["scorer"] == "deployed" and not result.alerts
    assert not result.audits["over_generous"].any() and result.reliability == {}
    assert "in-sample" in result.recommendation and "in-sample" in paths["html"].read_text()


def test_a_constructed_over_generous_model_threshold_exits_4_naming_it(scored_history):
    config, crm = scored_history
    generous = config.model_copy(update={"grades": config.grades.model_copy(update={"hot": 0.02, "nurture": 0.01})})
    with pytest.raises(DriftError) as err:
        run_monitor(None, generous, crm=crm)
    assert exit_code_of(err.value) == 4
    assert "Over-generous: the model hot threshold (≥ 0.02 probability)" in str(err.value)
    assert "Calibration drift" not in str(err.value)  # the model is calibrated; only the threshold is too low
