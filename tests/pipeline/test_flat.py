"""The flat-table path on the real Bank Marketing table, and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError, InsufficientDataError
from leadscore.pipeline.flat import read_flat_table, train_flat

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "pipeline" / "conf" / "examples" / "bank_marketing.yaml"
BANK = ROOT.parent / "shared" / "data" / "bank_marketing" / "bank-additional-full.csv"


@pytest.mark.slow
@pytest.mark.skipif(not BANK.exists(), reason="needs ../shared/data/bank_marketing beside the clone (CI has it)")
def test_bank_marketing_is_backtested_block_by_block_and_refitted_to_the_last_block(tmp_path):
    """The README's worked example: a file-order split, the test rows scored block by block by refitted models."""
    config = load_config(EXAMPLE, workdir=str(tmp_path))
    assert "duration" in config.flat.drop and "duration" not in config.flat.explicit + config.flat.behaviour
    result = train_flat(config, base=ROOT, config_dir=EXAMPLE.parent)
    # 20 periods of file order: the first 12 train, the next 4 calibrate, the last 4 test
    rows = {k: result.split[k] for k in ("train_rows", "calibration_rows", "test_rows")}
    assert rows == {"train_rows": 24_713, "calibration_rows": 8_238, "test_rows": 8_237}
    assert result.split["by"] == "order" and result.split["test_from"] == "block 17 of 20 in file order"
    core = result.core
    assert list(core.backtest["fold"]) == [1, 2, 3, 4] and core.backtest["rows"].sum() == result.split["test_rows"]
    assert set(core.selection["family"]) == {"lightgbm", "logistic"}
    # the win rate climbs from 5% to 52% over the blocks: the report says so, and the deployed model is
    # calibrated on the last block alone, fitted on every block before it
    assert core.shifts and all("in file order" in s and "2000-" not in s for s in core.shifts)
    assert core.deployed.window.narrowed and core.deployed.window.calibration.sum() == core.backtest["rows"].iloc[-1]
    assert core.deployed.window.train.sum() == len(result.core.deployed.window.train) - core.backtest["rows"].iloc[-1]
    # refitting per block follows the drift better than one model fitted before the whole test period
    model, rule, held = result.metrics["model"], result.metrics["rule"], result.metrics["held_out"]["model"]
    assert model["roc_auc"] > rule["roc_auc"] and model["roc_auc"] > held["roc_auc"]
    observed = result.drift["win_rate_test"]
    assert abs(result.drift["mean_predicted_test"] - observed) < abs(core.test_frame["model_proba"].mean() - observed)
    html = result.report_paths["html"].read_text()
    assert "Rolling-origin backtest" in html and "Drift:" in html and f"{rule['roc_auc']:.3f}" in html
    # a flat export's report speaks of rows and blocks, never of snapshots or of stand-in dates
    assert "snapshot" not in html.lower() and "2000-" not in html and "block 20 of 20 in file order" in html


def test_missing_columns_and_a_single_outcome_are_clear_errors(tmp_path):
    table = tmp_path / "leads.csv"
    pd.DataFrame({"id": [1, 2, 3], "age": [30, 40, 50], "y": ["no", "no", "no"]}).to_csv(table, index=False)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age", "job"]})
    with pytest.raises(BadInputError, match=r"leads.csv: missing column job; found: id, age, y"):
        read_flat_table(config.flat)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age"]})
    with pytest.raises(InsufficientDataError, match="column 'y' holds a single value"):
        read_flat_table(config.flat)


@pytest.mark.parametrize("family", ["lightgbm", "logistic"])
def test_a_flat_reports_factors_and_example_leads_come_from_its_held_out_model_and_name_no_row(tmp_path, family):
    import json
    import re

    from leadscore.pipeline.evaluation.explained import choose_examples

    from .flat_exports import flat_section, lead_export, write_export

    export = lead_export()
    path, table = write_export(tmp_path, export)
    config = load_config(workdir=str(tmp_path / "work"), flat=flat_section(path, table), model={"families": [family]})
    result = train_flat(config, out=tmp_path / "report")
    explained = json.loads(result.report_paths["json"].read_text())["explained"]
    held_out = result.core.test_frame  # the backtest's fold models are not kept: the examples are the held-out model's
    assert explained["rows"] == len(held_out) == result.split["test_rows"] and explained["scope"]
    factors = {f["feature"]: f for f in explained["factors"]}
    assert set(factors) == {"age", "job", "visits"} and factors["visits"]["direction"] == "more raises the score"
    assert factors["job"]["label"] == "Job" and factors["job"]["direction"].startswith(("highest for Student", "highest for Retired"))
    picks = choose_examples(held_out, config.grades.hot)
    assert [x["probability"] for x in explained["examples"]] == held_out["model_proba"].iloc[[i for _, i in picks]].tolist()
    html = result.report_paths["html"].read_text()
    assert 'id="example-leads"' in html and "snapshot" not in html.lower()
    for kind in ("html", "markdown", "json"):
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", result.report_paths[kind].read_text())  # base64 holds any short id by chance
        assert not [lead for lead in export["lead"] if lead in text], kind
