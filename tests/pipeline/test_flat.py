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


@pytest.mark.skipif(not BANK.exists(), reason="needs ../shared/data/bank_marketing beside the clone (CI has it)")
def test_bank_marketing_rule_vs_model_under_a_time_split(tmp_path):
    config = load_config(EXAMPLE, workdir=str(tmp_path))
    result = train_flat(config, base=ROOT, config_dir=EXAMPLE.parent)
    assert "duration" not in result.test_frame.columns
    # the time split sees the drift the dataset is known for: the win rate rises sharply at the end
    assert result.drift["win_rate_test"] > 2 * result.drift["win_rate_train"]
    for scorer in ("model", "rule"):
        assert 0.5 <= result.metrics[scorer]["roc_auc"] <= 1
    assert result.report_paths["html"].exists()


def test_missing_columns_and_a_single_outcome_are_clear_errors(tmp_path):
    table = tmp_path / "leads.csv"
    pd.DataFrame({"id": [1, 2, 3], "age": [30, 40, 50], "y": ["no", "no", "no"]}).to_csv(table, index=False)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age", "job"]})
    with pytest.raises(BadInputError, match=r"leads.csv: missing column job; found: id, age, y"):
        read_flat_table(config.flat)
    config = load_config(flat={"path": str(table), "outcome_column": "y", "explicit": ["age"]})
    with pytest.raises(InsufficientDataError, match="column 'y' holds a single value"):
        read_flat_table(config.flat)
