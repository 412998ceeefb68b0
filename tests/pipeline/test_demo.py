"""The main job end to end at a tiny size, and its figures against a separate `leadscore evaluate`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.pipeline.cli import main


@pytest.mark.slow
def test_demo_runs_end_to_end_and_agrees_with_evaluate(tmp_path, capsys):
    workdir = tmp_path / "work"
    assert main(["demo", "--leads", "2000", "--seed", "5", "--workdir", str(workdir)]) == 0
    printed = capsys.readouterr().out
    for step in ("1/6 generated", "2/6 validated", "3/6 trained", "4/6 test ROC AUC", "5/6 scored", "6/6 monitored 4 scoring runs",
                 "verdict", "monitoring", "report:", "monitor:", "scores:", "MLflow UI:"):
        assert step in printed, step
    # the open vocabulary on every run: a small CRM of 28 type names of its own, every one declared, trains apart
    assert "and the open vocabulary: a 2,000-lead CRM with 28 activity types of its own (28 declared in" in " ".join(printed.split())
    assert list((workdir / "own_vocabulary" / "models").glob("*/manifest.json"))
    reports = sorted(workdir.glob("reports/*/report.html"))
    scores = sorted(workdir.glob("scores/scores_*.parquet"))
    assert len(reports) == 1 and len(scores) == 4  # three past dates and the day after the data ends
    assert not pd.read_parquet(scores[-1]).empty
    assert (pd.read_parquet(scores[-1])["score_trend"] != "new").any()  # against the run 60 days before
    monitored = json.loads(next(workdir.glob("reports/monitor-*/monitor.json")).read_text())
    assert [r["matured"] for r in monitored["runs"]] == [True, True, False, False]
    # nothing is written outside the working folder
    assert {p.name for p in workdir.iterdir()} <= {"data", "models", "reports", "scores", "history", "mlflow.db", "mlartifacts",
                                                   "cache", "tmp", "validated", "own_vocabulary"}

    # with the generated CRM's settings (its competitors), as the demo ran it
    assert main(["evaluate", "--data", str(workdir / "data"), "--workdir", str(workdir), "--out", str(tmp_path / "eval"),
                 "--config", str(workdir / "data" / "leadscore.yaml")]) == 0
    separate = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    during_train = json.loads(reports[0].with_name("metrics.json").read_text())
    assert separate["metrics"] == during_train["metrics"]
    assert separate["threshold_audit"] == during_train["threshold_audit"]

    # a rerun reuses the data, registers version 2, and keeps version 1 champion on a tie
    assert main(["demo", "--leads", "2000", "--seed", "5", "--workdir", str(workdir)]) == 0
    again = capsys.readouterr().out
    assert "1/6 reusing the synthetic CRM" in again
    assert "registered as leadscore v2: not promoted" in again.replace("\n", " ")
