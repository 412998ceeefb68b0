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
def test_bank_marketing_rule_vs_model_under_a_time_split(tmp_path):
    """The figures the README prints for this table: a file-order split, and a points table that beats the model."""
    config = load_config(EXAMPLE, workdir=str(tmp_path))
    assert "duration" in config.flat.drop and "duration" not in config.flat.explicit + config.flat.behaviour
    result = train_flat(config, base=ROOT, config_dir=EXAMPLE.parent)
    # 20 periods of file order: the first 12 train, the next 4 calibrate, the last 4 test
    assert result.split == {"train_rows": 24_713, "calibration_rows": 8_238, "test_rows": 8_237}
    assert result.calibration_method == "isotonic"
    drift = result.drift
    assert (round(drift["win_rate_train"], 3), round(drift["win_rate_calibration"], 3), round(drift["win_rate_test"], 3)) == (0.048, 0.111, 0.308)
    # a model trained on the past under-predicts the late population (mean 11% against 31% won)
    assert drift["mean_predicted_test"] < drift["win_rate_test"] / 2
    model, rule = result.metrics["model"], result.metrics["rule"]
    assert rule["roc_auc"] > model["roc_auc"] + 0.05 and rule["brier"] < model["brier"]
    assert (round(model["roc_auc"], 3), round(rule["roc_auc"], 3)) == (0.556, 0.675)
    html = result.report_paths["html"].read_text()
    assert "Points table" in html and f"{rule['roc_auc']:.3f}" in html


def test_missing_columns_and_a_single_outcome_are_clear_errors(tmp_path):
    table = tmp_path / "leads.csv"
    pd.DataFrame({"id": [1, 2, 3], "age": [30, 40, 50], "y": ["no", "no", "no"]}).to_csv(table, index=False)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age", "job"]})
    with pytest.raises(BadInputError, match=r"leads.csv: missing column job; found: id, age, y"):
        read_flat_table(config.flat)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age"]})
    with pytest.raises(InsufficientDataError, match="column 'y' holds a single value"):
        read_flat_table(config.flat)
