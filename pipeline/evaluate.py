"""The evaluate stage: re-score a model's held-out test slice from the data and write the report.

Given the same data and config, the figures equal those written at the end of `train`,
because the test slice is rebuilt from the dates recorded in the model's manifest.
"""

from __future__ import annotations

from pathlib import Path

from features.crm import Crm
from features.dataset import build_training_set
from pipeline.config import Config
from pipeline.errors import InsufficientDataError


def evaluate(data, config: Config, model: str | None = None, out: str | Path | None = None, crm: Crm | None = None):
    """Return (Evaluation, written paths) for a model (default: the champion) on its test slice."""
    import pandas as pd

    from features.loaders import load_crm
    from pipeline.evaluation import evaluate_scorers, write_report
    from pipeline.score import resolve_model
    from pipeline.train import _engine, rule_thresholds, score_frame

    bundle, name, version, config = resolve_model(config, model)
    crm = crm or load_crm(data, _engine(config))
    training = build_training_set(crm, config)
    window = bundle.manifest["window"]
    as_of = training.frame["as_of"]
    test = training.frame[(as_of >= pd.Timestamp(window["test_start"], tz="UTC")) &
                          (as_of <= pd.Timestamp(window["last_as_of"], tz="UTC"))].reset_index(drop=True)
    if test.empty:
        raise InsufficientDataError(f"{crm.source}: no snapshot falls in the model's test window "
                                    f"{window['test_start']} to {window['last_as_of']}")
    bundle.check_schema(test, f"features built from {crm.source}")
    frame = score_frame(test, bundle.calibrated, bundle.points, config)
    evaluation = evaluate_scorers(frame, config, rule_thresholds(bundle.points))
    target = Path(out) if out else config.workdir_path / "reports" / f"evaluate-{name}-v{version}".replace(":", "-")
    return evaluation, write_report(evaluation, target)
