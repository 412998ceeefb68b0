"""Evaluating a registered model: the figures `train` wrote, whatever the config says about labels."""

from __future__ import annotations

import json

import pytest

from leadscore.pipeline.config import with_settings
from leadscore.pipeline.evaluate import evaluate


def test_evaluate_labels_with_the_models_horizon_whatever_the_config_says(trained, tmp_path, capsys):
    config, crm, result = trained
    shorter = with_settings(config, {"windows": {"horizon_days": 30}})
    evaluation, _ = evaluate(None, shorter, crm=crm, out=tmp_path / "report")
    for scorer in ("model", "rule"):
        assert evaluation.metrics[scorer]["roc_auc"] == pytest.approx(result.metrics[scorer]["roc_auc"])
        assert evaluation.metrics[scorer]["base_rate"] == pytest.approx(result.metrics[scorer]["base_rate"])
    assert "windows.horizon_days" in capsys.readouterr().err
    # the same held-out model on the same test slice: the same factors and example leads as train's report
    written = json.loads(result.report_paths["json"].read_text())["explained"]
    assert [f["feature"] for f in evaluation.explained["factors"]] == [f["feature"] for f in written["factors"]]
    assert [x["probability"] for x in evaluation.explained["examples"]] == pytest.approx([x["probability"] for x in written["examples"]])
    assert [x["reasons_model_up"] for x in evaluation.explained["examples"]] == [x["reasons_model_up"] for x in written["examples"]]
