"""Segments through the commands: train registers a model per segment, score routes each lead to its segment's champion."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from leadscore.features.synthetic import generate_crm, write_crm
from leadscore.pipeline import tracking
from leadscore.pipeline.cli import main
from leadscore.pipeline.config import load_config
from leadscore.pipeline.segments import SEGMENT_COLUMN, segment_config
from tests.quick_training import QUICK_TRAINING

pytestmark = pytest.mark.slow  # trains the global model and a segment's

EUROPE = ["DE", "FR", "NL", "ES"]
FEW = ["L0000001", "L0000002", "L0000003", "L0000004", "L0000005"]
"""A segment of five leads: too few wins to train, so the global model keeps scoring it."""


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """A CRM whose European leads behave apart, trained with a europe segment and a five-lead one: (data, config path)."""
    root = tmp_path_factory.mktemp("segments")
    crm = generate_crm(3000, seed=4, months=24, segments="events")
    write_crm(crm, root / "crm")
    # a segment of 850 leads holds about 120 wins: 15 per time slice is enough to train it (a test, not a quality bar)
    settings = {**crm.settings, **QUICK_TRAINING, "workdir": str(root / "work"), "split": {"min_won": 15, "min_lost": 15},
                "segments": [{"name": "europe", "where": f"country in [{', '.join(EUROPE)}]"},
                             {"name": "few", "where": f"lead_id in [{', '.join(FEW)}]"}]}
    (root / "segments.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return root / "crm", root / "segments.yaml", crm


def test_training_registers_the_segments_model_and_says_why_the_small_one_has_none(segmented, capsys):
    data, config_path, _ = segmented
    assert main(["train", "--data", str(data), "--config", str(config_path), "--promote"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "segment europe: registered as leadscore-europe version 1" in printed
    assert "segment few: no model of its own (" in printed and "the global model scores it" in printed
    config = load_config(config_path)
    report = next(config.workdir_path.glob("reports/*/segments.md")).read_text(encoding="utf-8")
    assert "| europe |" in report and "| fallback |" in report and "## Verdict" in report


def test_scoring_routes_each_lead_to_its_segments_champion_and_the_rest_to_the_global_one(segmented, tmp_path, capsys):
    data, config_path, crm = segmented
    config = load_config(config_path)
    if not list(config.workdir_path.glob("reports/*/segments.md")):
        assert main(["train", "--data", str(data), "--config", str(config_path), "--promote"]) == 0
    europe = segment_config(config, config.segments[0])
    tracking.set_alias(europe, tracking.CHAMPION, "1")  # whatever its verdict, so the route to a segment's own champion is seen
    out = tmp_path / "scores.parquet"
    assert main(["score", "--data", str(data), "--config", str(config_path), "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "open leads scored by leadscore-europe v1" in printed

    scores = pd.read_parquet(out)
    assert scores["lead_id"].is_unique and scores["probability"].between(0, 1).all()
    country = crm.leads.set_index(crm.leads["lead_id"].astype(str))["country"].astype(str)
    expected = scores["lead_id"].astype(str).map(lambda lead: "few" if lead in FEW else
                                                 "europe" if country[lead] in EUROPE else "fallback")
    assert scores[SEGMENT_COLUMN].tolist() == expected.tolist()
    assert set(scores.loc[scores[SEGMENT_COLUMN] == "europe", "model_name"]) == {"leadscore-europe"}
    assert set(scores.loc[scores[SEGMENT_COLUMN] != "europe", "model_name"]) == {"leadscore"}


def test_one_model_options_are_refused_with_segments(segmented, tmp_path, capsys):
    data, config_path, _ = segmented
    argv = ["score", "--data", str(data), "--config", str(config_path), "--out", str(tmp_path / "s.parquet")]
    assert main([*argv, "--db-url", f"sqlite:///{tmp_path / 'scores.db'}"]) == 2
    assert "segments: --db-url and --held-out score with one model; pass --model to score every lead with it" in (
        " ".join(capsys.readouterr().err.split()))
    assert not (tmp_path / "s.parquet").exists()
