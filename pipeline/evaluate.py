"""Run the evaluate stage: re-score a model's held-out test slice from the data and write the report.

Given the same data and config, the figures equal those written at the end of `train`,
because the test slice is rebuilt from the dates recorded in the model's manifest.
"""

from __future__ import annotations

from pathlib import Path

from leadscore.features.crm import Crm
from leadscore.features.dataset import build_training_set
from leadscore.pipeline.config import Config, with_settings
from leadscore.pipeline.console import err
from leadscore.pipeline.errors import InsufficientDataError

LABEL_WINDOW = ("horizon_days", "gap_days")
"""The window settings that define a label: a win within another horizon is another question."""


def with_model_labels(config: Config, window: dict) -> Config:
    """Return `config` with the horizon and gap the model was trained to predict, warning where they differ.

    Evaluated against labels of another horizon, a 90-day model's figures would answer a
    question it was never asked (a 30-day horizon raised the test AUC from 0.92 to 0.96).
    """
    recorded = {key: window[key] for key in LABEL_WINDOW if key in window}
    changed = [f"windows.{key}" for key, value in recorded.items() if getattr(config.windows, key) != value]
    if changed:
        err.print(f"[yellow]warning:[/] labelling with the window the model was trained for; the config differs in "
                  f"{', '.join(changed)} (retrain to evaluate another horizon)")
    return with_settings(config, {"windows": recorded})


def evaluate(data, config: Config, model: str | None = None, out: str | Path | None = None, crm: Crm | None = None):
    """Return (Evaluation, written paths) for a model (default: the champion) on its test slice."""
    import pandas as pd

    from leadscore.features.loaders import load_crm
    from leadscore.features.registry import all_features
    from leadscore.pipeline.evaluation import evaluate_scorers, write_report
    from leadscore.pipeline.evaluation.explained import Explainer
    from leadscore.pipeline.evaluation.handoff import handoff_for, threshold_candidates
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.model_source import resolve_model
    from leadscore.pipeline.scoring import rule_thresholds, score_frame

    bundle, name, version, config = resolve_model(config, model)
    config = with_model_labels(config, bundle.manifest["window"])
    config = with_settings(config, {"label": bundle.manifest.get("label", {"stage": None})})  # the question the model answers
    crm = crm or load_crm(data, engine_settings(config))
    config = fit_to_crm(config, crm, model=f"{name} v{version}")
    training = build_training_set(crm, config.for_features, config.label, config.lifecycle)
    window = bundle.manifest["window"]
    start, end = pd.Timestamp(window["test_start"], tz="UTC"), pd.Timestamp(window["last_as_of"], tz="UTC")
    as_of = training.frame["as_of"]
    test = training.frame[(as_of >= start) & (as_of <= end)].reset_index(drop=True)
    left_out = training.left_out[(training.left_out["as_of"] >= start) & (training.left_out["as_of"] <= end)]
    if test.empty:
        raise InsufficientDataError(f"{crm.source}: no snapshot falls in the model's test window "
                                    f"{window['test_start']} to {window['last_as_of']}")
    bundle.check_schema(test, f"features built from {crm.source}")
    # the held-out model: the deployed one was refitted on this test slice, so it would be graded on its own lessons
    held = bundle.held_out() if bundle.holdout is not None else bundle
    frame = score_frame(test, held.calibrated, held.points, config.grades)
    calibration = calibration_slice(training.frame, window, config)
    explainer = Explainer(frame, test, held.model, held.points, {f.name: f for f in all_features(config.for_features)},
                          config.scoring.reason_labels, config.scoring.reasons_per_lead)
    evaluation = evaluate_scorers(frame, config, rule_thresholds(held.points), left_out, explainer=explainer,
                                  recommend_on=score_frame(calibration, held.calibrated, held.points, config.grades)
                                  if len(calibration) else None)
    evaluation.handoff = handoff_for(crm, frame, config, threshold_candidates(frame, config, rule_thresholds(held.points)))
    evaluation.window["label"] = config.label.describe(config.windows.horizon_days)
    target = Path(out) if out else Catalog.of(config).report_dir(f"evaluate-{name}-v{version}")
    return evaluation, write_report(evaluation, target)


def calibration_slice(frame, window: dict, config: Config):
    """Return the labelled snapshots of the model's calibration slice, cut and purged as training cut them.

    The report chooses its recommended thresholds there, on the period before the test one.
    """
    import pandas as pd

    from leadscore.pipeline.split_checks import SliceBounds, label_reach, slice_of

    if not window.get("calibration_start"):
        return frame.iloc[:0]
    bounds = SliceBounds(pd.Timestamp(window["calibration_start"], tz="UTC"), pd.Timestamp(window["test_start"], tz="UTC"), 0, 0, 0)
    return frame[(slice_of(frame["as_of"], bounds, label_reach(config)) == "calibration").to_numpy()].reset_index(drop=True)
