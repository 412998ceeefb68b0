"""Evaluating a registered model: the figures `train` wrote, whatever the config says about labels."""

from __future__ import annotations

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
