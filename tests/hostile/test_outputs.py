"""Outputs people open are safe to open: no spreadsheet formula from a lead's data."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from leadscore.pipeline.publish import publish


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\tcmd", "\rcmd"])
def test_a_scores_csv_never_starts_a_cell_with_a_formula(tmp_path, hostile):
    frame = pd.DataFrame({"lead_id": [hostile, "L-2"], "score": [-1.5, 40.0], "reasons": [hostile, "visited pricing"]})
    out = tmp_path / "scores.csv"
    publish(frame, pd.DataFrame(), out, sink=None, psi_fail=0.25, stop_for=[])
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [r["lead_id"] for r in rows] == ["'" + hostile, "L-2"]
    assert [r["reasons"] for r in rows] == ["'" + hostile, "visited pricing"]
    assert [float(r["score"]) for r in rows] == [-1.5, 40.0]  # a negative number is a number, left alone


def test_a_scores_parquet_keeps_ids_exactly(tmp_path):
    frame = pd.DataFrame({"lead_id": ["=1+1"], "score": [3.0]})
    out = tmp_path / "scores.parquet"
    publish(frame, pd.DataFrame(), out, sink=None, psi_fail=0.25, stop_for=[])
    assert pd.read_parquet(out)["lead_id"].tolist() == ["=1+1"]


def test_terminal_escape_sequences_in_data_reach_the_console_escaped(tmp_path, capsys):
    from leadscore.pipeline.cli import main

    config = tmp_path / "leadscore.yaml"
    config.write_text("points_table: \"/nowhere/\\e[2J\\e[31mred.yaml\"\n")
    assert main(["rules", "--check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err
