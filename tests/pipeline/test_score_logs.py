"""Logs for schedulers: `score --log-format json` writes only JSON lines, `--quiet` only warnings, the drift line agrees with its limits."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from leadscore.pipeline.cli import main
from leadscore.pipeline.console import err, out
from leadscore.pipeline.drift import drift_line
from leadscore.pipeline.run_log import run_log


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses, or the test fails here
    assert all(isinstance(r, dict) and {"ts", "level", "stage", "event"} <= set(r) for r in records), records
    return records


def test_console_lines_become_json_events_with_their_level_and_the_consoles_are_restored(capsys):
    with run_log("json", quiet=False, stage="score"):
        out.print("scored [bold]12[/] leads")
        err.print("[yellow]warning:[/] population drift beyond psi 0.25 in lead_source")
    records = _json_lines(capsys.readouterr().out)
    assert [(r["level"], r["message"]) for r in records] == [
        ("info", "scored 12 leads"), ("warning", "population drift beyond psi 0.25 in lead_source")]
    out.print("plain again")
    assert capsys.readouterr().out == "plain again\n"


def test_quiet_json_keeps_warnings_and_leaves_out_info(capsys):
    with run_log("json", quiet=True, stage="score") as log:
        out.print("scored 12 leads")
        log.event("score", "chunk", leads_done=12)
        err.print("warning: drift")
    assert [r["level"] for r in _json_lines(capsys.readouterr().out)] == ["warning"]


def test_an_error_in_json_mode_is_the_last_json_line_and_nothing_else_is_printed(tmp_path, capsys):
    code = main(["score", "--data", str(tmp_path / "no-such-crm"), "--workdir", str(tmp_path / "work"), "--log-format", "json"])
    captured = capsys.readouterr()
    records = _json_lines(captured.out)
    assert code in (2, 5) and records[-1]["level"] == "error" and records[-1]["event"] == "error"
    assert "error:" not in captured.err


def test_the_drift_line_says_within_limits_only_when_no_feature_passes_the_warning_level():
    watched = pd.DataFrame({"name": ["days_inactive", "lead_source", "score"], "psi": [0.14, 0.12, 0.02],
                            "status": ["watch", "watch", "stable"]})
    line = drift_line(watched, 0.1, 0.25)
    assert "within limits" not in line and "above the warning level 0.1: days_inactive, lead_source" in line
    assert "within limits" in drift_line(watched.iloc[[2]], 0.1, 0.25)


@pytest.fixture(scope="module")
def bundle_in_own_store(trained, tmp_path_factory):
    """The shared model's bundle copied into a working folder of this module's own (scoring writes there).

    The copy's sha256 is recorded in that folder's tracking store, as the training run that saves a
    bundle records it (`tracking.local_bundle_sha256`): without it the bundle is refused.
    """
    from leadscore.pipeline import tracking
    from leadscore.pipeline.config import load_config

    workdir = tmp_path_factory.mktemp("logs") / "work"
    folder = workdir / "models" / "copied"
    shutil.copytree(trained[2].bundle_dir, folder)
    config = load_config(workdir=str(workdir))
    tracking.client(config).create_run(tracking.experiment_id(config), tags={
        "leadscore.stage": "train", "leadscore.bundle": folder.name, tracking.SHA_TAG: trained[2].bundle.manifest["sha256"]})
    return workdir, folder


def test_score_with_json_logs_writes_only_json_lines_with_stages_counts_and_the_summary(bundle_in_own_store, synthetic_dir,
                                                                                     tmp_path, capsys):
    workdir, folder = bundle_in_own_store
    summary_file = tmp_path / "summary.json"
    code = main(["score", "--data", str(synthetic_dir), "--workdir", str(workdir), "--model", str(folder), "--as-of", "2025-12-01",
                 "--out", str(tmp_path / "s.parquet"), "--log-format", "json", "--summary-json", str(summary_file)])
    captured = capsys.readouterr()
    assert code == 0, captured
    records = _json_lines(captured.out)
    stages = [(r["stage"], r["event"]) for r in records]
    assert {("model", "loaded"), ("load", "validated"), ("score", "chunk"), ("reasons", "explained"), ("drift", "checked"),
            ("write", "written")} <= set(stages)
    assert stages[-1] == ("score", "summary")
    summary = records[-1]
    assert summary["leads"] == len(pd.read_parquet(tmp_path / "s.parquet")) > 0
    assert json.loads(summary_file.read_text())["leads"] == summary["leads"]
    chunk = next(r for r in records if r["event"] == "chunk")
    assert chunk["leads_done"] <= chunk["leads"] and chunk["seconds"] >= 0
    assert all(r["ts"].endswith("Z") for r in records)
    assert "Traceback" not in captured.err
    _assert_the_scoring_run_is_named_and_tagged_with_its_model(workdir, summary)

    code = main(["score", "--data", str(synthetic_dir), "--workdir", str(workdir), "--model", str(folder), "--as-of", "2025-12-01",
                 "--out", str(tmp_path / "q.parquet"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == ""  # no summary, no progress; warnings (if any) stay on stderr
    assert (tmp_path / "q.parquet").exists()


def _assert_the_scoring_run_is_named_and_tagged_with_its_model(workdir, summary):
    from mlflow.tracking import MlflowClient

    from leadscore.pipeline import tracking
    from leadscore.pipeline.config import load_config

    config = load_config(workdir=str(workdir))
    client = MlflowClient(tracking_uri=config.tracking_uri())
    run = client.get_run(summary["run_id"])
    assert run.info.run_name == "score-2025-12-01"
    assert run.data.tags[tracking.MODEL_VERSION_TAG] == summary["model_version"] == "local:copied"
    assert client.get_experiment(run.info.experiment_id).name == config.tracking.scoring_experiment_name()
