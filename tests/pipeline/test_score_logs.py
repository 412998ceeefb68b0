"""Logs for schedulers: `score --log-format json` writes only JSON lines, text mode a plain line per stage on stderr,
`--quiet` only warnings, the drift line agrees with its limits."""

from __future__ import annotations

import io
import json
import re
import shutil

import pandas as pd
import pytest

from leadscore.pipeline.cli import main
from leadscore.pipeline.console import err, out
from leadscore.pipeline.drift import drift_line
from leadscore.pipeline.run_log import RunLog, run_log

ANSI = re.compile(r"\x1b\[")
STAGE_LINE = re.compile(r"^(?P<stage>[a-z]+): (?P<words>.+) in (?P<seconds>\d+\.\d) s$")


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
    ends = [r for r in records if r["event"] not in ("chunk", "message", "summary", "library_warning")]
    assert [r["stage"] for r in ends] == ["model", "load", "score", "reasons", "drift", "write", "history", "tracking"]
    for r in ends:  # every stage's closing event says when it started and how long it took
        assert r["started"].endswith("Z") and r["started"] <= r["ts"] and r["seconds"] >= 0, r
    assert next(r for r in ends if r["stage"] == "score")["leads"] == summary["leads"]
    assert "Traceback" not in captured.err
    _assert_the_scoring_run_is_named_and_tagged_with_its_model(workdir, summary)

    code = main(["score", "--data", str(synthetic_dir), "--workdir", str(workdir), "--model", str(folder), "--as-of", "2025-12-01",
                 "--out", str(tmp_path / "q.parquet"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == ""  # no summary, no progress; warnings (if any) stay on stderr
    assert not [line for line in captured.err.splitlines() if STAGE_LINE.match(line)]
    assert (tmp_path / "q.parquet").exists()

    code = main(["score", "--data", str(synthetic_dir), "--workdir", str(workdir), "--model", str(folder), "--as-of", "2025-12-01",
                 "--out", str(tmp_path / "t.parquet")])
    captured = capsys.readouterr()
    assert code == 0, captured
    _assert_one_plain_line_per_stage(captured.err, len(pd.read_parquet(tmp_path / "t.parquet")))
    assert "scored" in captured.out and not ANSI.search(captured.out)


def _assert_one_plain_line_per_stage(stderr: str, leads: int) -> None:
    """Check a cron log's stderr: one `stage: counts in 1.2 s` line per stage, in order, and no escape code or bar."""
    assert not ANSI.search(stderr) and "\r" not in stderr and "━" not in stderr, stderr
    lines = [STAGE_LINE.match(line) for line in stderr.splitlines()]
    stages = [m["stage"] for m in lines if m]
    assert stages == ["model", "load", "score", "reasons", "drift", "write", "history", "tracking"], stderr
    said = {m["stage"]: m["words"] for m in lines if m}
    assert said["score"].startswith(f"{leads:,} leads (1 chunk)") and f"{leads:,} rows to" in said["write"]
    assert re.search(r"[\d,]+ leads, [\d,]+ activities, [\d,]+ opportunities", said["load"]), said["load"]


def test_a_stage_reports_once_as_it_ends_in_either_format_and_nothing_when_it_fails():
    from rich.console import Console

    text, events = io.StringIO(), io.StringIO()
    as_text = RunLog("text", console=Console(file=text, width=200))
    as_json = RunLog("json", stream=events, clock=lambda: 1_700_000_000.0)
    for log in (as_text, as_json):
        with log.stage("features", "built", "building features", total=10, unit="leads") as end:
            end.progress(5)
            end.report("39,684 lead-snapshots", snapshots=39684)
        with pytest.raises(ValueError), log.stage("write", "written", "writing"):
            raise ValueError("disk full")
    assert STAGE_LINE.match(text.getvalue().strip())["words"] == "39,684 lead-snapshots"
    assert len(text.getvalue().splitlines()) == 1 and not ANSI.search(text.getvalue())  # not a terminal: no bar drawn
    [record] = _json_lines(events.getvalue())
    assert (record["stage"], record["event"], record["snapshots"]) == ("features", "built", 39684)
    assert record["started"] == record["ts"] == "2023-11-14T22:13:20.000Z" and record["seconds"] >= 0


def test_pyspark_warnings_go_to_the_json_log_at_debug_level_and_leave_out_the_console(capsys):
    import warnings

    with pytest.warns(UserWarning, match="of our own") as shown, run_log("json", quiet=False, stage="score"):
        warnings.warn_explicit("PySpark does not yet fully support pandas >= 3.0.0", FutureWarning,
                               "/site-packages/pyspark/sql/pandas/utils.py", 12)
        warnings.warn_explicit("a warning of our own", UserWarning, "/site-packages/leadscore/x.py", 3)
    captured = capsys.readouterr()
    [record] = _json_lines(captured.out)
    assert (record["level"], record["event"], record["category"]) == ("debug", "library_warning", "FutureWarning")
    assert "PySpark" not in captured.err and [str(w.message) for w in shown] == ["a warning of our own"]  # others show as before
    with run_log("json", quiet=True, stage="score"):
        warnings.warn_explicit("PySpark note", FutureWarning, "/site-packages/pyspark/a.py", 1)
    assert capsys.readouterr().out == ""


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
