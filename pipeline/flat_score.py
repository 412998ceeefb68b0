"""Run `flat score`: score the rows of a new flat export with the registered flat model and its points table.

The new file has the training export's columns (the outcome column may be missing: these
leads are open). It is read as the model's manifest says training read its own (blank
tokens, column kinds, id column, the joined files and the date parts), scored by both scorers with reasons for the leads that
need them (`pipeline.reasons`), and written to a temporary file renamed into place, so a
failed run leaves the previous file and a rerun with the same model writes the same bytes.
Each run is logged to MLflow's scoring experiment as `leadscore score` logs its own, so a
score file can be traced to the model version that wrote it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.pipeline.config import Config, FlatJoin
from leadscore.pipeline.errors import SchemaMismatchError
from leadscore.pipeline.flat_columns import assemble
from leadscore.pipeline.flat_table import flat_registry, lead_ids, read_export, typed_features
from leadscore.pipeline.flat_train import flat_tracking
from leadscore.pipeline.grading import grade, score_0_100, segment
from leadscore.pipeline.io import check_frame_target, write_frame
from leadscore.pipeline.locking import exclusive
from leadscore.pipeline.model_source import resolve_model
from leadscore.pipeline.reasons import add_reasons

FLAT_OUTPUT_COLUMNS = (
    "lead_id", "model_name", "model_version", "probability", "score", "grade", "segment", "rule_points", "rule_segment",
    "segments_disagree", "reasons_model_up", "reasons_model_down", "reasons_rule",
)
"""The columns of a flat scores file, in order; rows stay in the input file's order."""


@dataclass
class FlatScoreResult:
    """What a flat scoring run wrote."""

    out_path: Path
    frame: pd.DataFrame
    model_name: str
    model_version: str
    run_id: str | None = None  # the MLflow scoring run; None when not logged


def score_flat(data: str | Path, out: str | Path, config: Config, model: str | None = None,
               log_to_mlflow: bool = True) -> FlatScoreResult:
    """Score every row of the flat export `data` with `model` (default: the flat champion), write `out` and log the run."""
    started = time.perf_counter()
    check_frame_target(out)  # a typo in --out costs nothing
    config = flat_tracking(config)
    bundle, name, version, config = resolve_model(config, model)
    settings = bundle.manifest.get("flat")
    if not settings:
        raise SchemaMismatchError(f"model {name} v{version} was trained on a CRM history, not a flat export; "
                                  "score it with `leadscore score`")
    path, kinds = Path(data), dict(settings["kinds"])
    id_column = settings.get("id_column")
    na_values = tuple(settings.get("na_values", ()))
    joins = tuple(FlatJoin.model_validate(j) for j in settings.get("join", ()))
    frame = read_export(path, settings["delimiter"], na_values, [*(j.key for j in joins), *([id_column] if id_column else [])])
    frame = assemble(frame, path, list(kinds), joins, na_values,
                     {k: tuple(v) for k, v in settings.get("date_features", {}).items()}, settings.get("reference_column"))
    features = typed_features(frame, kinds, path).assign(lead_id=lead_ids(frame, id_column, path))
    bundle.check_schema(features, str(path))
    scored = _score(features, bundle, config)
    scored = add_reasons(scored, features, bundle, flat_registry(kinds, tuple(settings.get("explicit", ()))),
                         config.scoring.reasons_top_share, config.scoring.reasons_per_lead)
    scored = scored.assign(model_name=name, model_version=version,
                           segments_disagree=scored["segment"] != scored["rule_segment"])[list(FLAT_OUTPUT_COLUMNS)]
    out = Path(out)
    with exclusive(out):
        write_frame(scored, out, for_spreadsheets=True)
    result = FlatScoreResult(out, scored, name, version)
    if log_to_mlflow:
        result.run_id = _log_scoring_run(result, path, config, time.perf_counter() - started)
    return result


def _log_scoring_run(result: FlatScoreResult, data: Path, config: Config, seconds: float) -> str:
    """Log the run to the scoring experiment as `score-<date>`, tagged with the model version; return the run id.

    A flat export has no scoring date of its own, so the run is named by the day it ran.
    """
    from leadscore.pipeline import tracking

    frame = result.frame
    counts = {"leads": len(frame), **{f"grade_{k}": int(v) for k, v in frame["grade"].value_counts().sort_index().items()},
              **{f"segment_{k}": int(v) for k, v in frame["segment"].value_counts().sort_index().items()},
              "segments_disagree": int(frame["segments_disagree"].sum()), "seconds": seconds,
              "share_hot": float((frame["segment"] == "hot").mean())}
    params = {"data": str(data), "model": f"{result.model_name} v{result.model_version}", "output": str(result.out_path)}
    return tracking.log_scoring_run(config, params, counts, [], run_name=f"score-{pd.Timestamp.now(tz='UTC'):%Y-%m-%d}",
                                    model_name=result.model_name, model_version=result.model_version)


def _score(features: pd.DataFrame, bundle, config: Config) -> pd.DataFrame:
    """Return each row's probability, 0-100 score, grade and segment, and the points table's points and segment."""
    proba = bundle.calibrated.predict_proba(features[bundle.feature_names])[:, 1]
    points = bundle.points
    return pd.DataFrame({
        "lead_id": features["lead_id"].to_numpy(),
        "probability": proba,
        "score": score_0_100(proba),
        "grade": np.asarray(grade(proba, config.grades)).astype(str),
        "segment": np.asarray(segment(proba, config.grades)).astype(str),
        "rule_points": np.round(points.decision_function(features), 4),
        "rule_segment": np.asarray(points.segment(features)).astype(str),
    })
