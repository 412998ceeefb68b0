"""Run `flat score`: score the rows of a new flat export with the registered flat model and its points table.

The new file has the training export's columns (the outcome column may be missing: these
leads are open). It is read as the model's manifest says training read its own (blank
tokens, column kinds, id column), scored by both scorers with reasons for the leads that
need them (`pipeline.reasons`), and written to a temporary file renamed into place, so a
failed run leaves the previous file and a rerun with the same model writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import SchemaMismatchError
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


def score_flat(data: str | Path, out: str | Path, config: Config, model: str | None = None) -> FlatScoreResult:
    """Score every row of the flat export `data` with `model` (default: the flat champion) and write `out`."""
    check_frame_target(out)  # a typo in --out costs nothing
    config = flat_tracking(config)
    bundle, name, version, config = resolve_model(config, model)
    settings = bundle.manifest.get("flat")
    if not settings:
        raise SchemaMismatchError(f"model {name} v{version} was trained on a CRM history, not a flat export; "
                                  "score it with `leadscore score`")
    path, kinds = Path(data), dict(settings["kinds"])
    id_column = settings.get("id_column")
    frame = read_export(path, settings["delimiter"], tuple(settings.get("na_values", ())),
                        [*kinds, *([id_column] if id_column else [])])
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
    return FlatScoreResult(out, scored, name, version)


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
