"""Run the score stage per segment: each lead scored by its segment's champion, or by the global champion.

A segment with a champion of its own (`<tracking.model_name>-<segment>@champion`) has its leads
scored by it; the leads of a segment without one, and those in no segment, are scored by the
global champion. Each group is an ordinary scoring run (`pipeline.score.score`: its drift check
against its own model, its score history, its MLflow run) whose file is kept under
`scores/segments_<as_of>/`; the scores file joins them, sorted by lead, with the column
`lead_segment` beside `model_name` and `model_version`, written to a temporary file and renamed.
A rerun for the same as_of and champions writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from leadscore.pipeline.catalog import Catalog, engine_settings
from leadscore.pipeline.config import FALLBACK_SEGMENT, Config
from leadscore.pipeline.console import err
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.io import check_frame_target, write_frame
from leadscore.pipeline.locking import exclusive
from leadscore.pipeline.scoring import scoring_date
from leadscore.pipeline.segments import SEGMENT_COLUMN, check_placeable, segment_config, segment_crm


@dataclass
class SegmentedScores:
    """What a segmented scoring run wrote: the joined file, its rows, and each group's scoring run."""

    out_path: Path
    frame: pd.DataFrame
    runs: dict[str, object] = field(default_factory=dict)  # route (a segment, or fallback) -> pipeline.score.ScoreResult
    routes: dict[str, str] = field(default_factory=dict)  # segment -> the model that scored its leads


def routes_of(config: Config) -> dict[str, Config]:
    """Return, per segment, the config whose champion scores its leads: its own when it has a champion, else the global one."""
    from leadscore.pipeline import tracking

    routes = {}
    for segment in config.segments:
        own = segment_config(config, segment)
        routes[segment.name] = own if tracking.alias_version(own, tracking.CHAMPION) is not None else config
    routes[FALLBACK_SEGMENT] = config
    return routes


def score_segmented(data, as_of, config: Config, out: str | Path | None = None, crm=None, log_to_mlflow: bool = True,
                    history: bool = True) -> SegmentedScores:
    """Score every open lead as of `as_of` with its segment's champion; write the joined scores file atomically."""
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.score import score

    if out is not None:
        check_frame_target(out)
    crm = crm or load_crm(data, engine_settings(config))
    as_of = scoring_date(as_of, crm.data_end, crm.source)
    assignment = check_placeable(crm, config)
    routes = routes_of(config)
    catalog = Catalog.of(config)
    out = Path(out) if out else catalog.scores_file(as_of)
    parts_dir = catalog.root / "scores" / f"segments_{as_of.date()}"
    result = SegmentedScores(out, pd.DataFrame())
    by_model: dict[str, list[str]] = {}
    for segment, route in routes.items():
        by_model.setdefault(route.tracking.model_name, []).append(segment)
        result.routes[segment] = f"models:/{route.tracking.model_name}@champion"
    frames = []
    for model_name, segments in by_model.items():
        route = routes[segments[0]]
        ids = assignment.index[assignment.isin(segments)]
        if len(ids) == 0:
            continue
        try:
            run = score(None, as_of, route, out=parts_dir / f"{model_name}.parquet", crm=segment_crm(crm, ids, route),
                        log_to_mlflow=log_to_mlflow, history=history)
        except BadInputError as exc:
            if "no open lead" not in str(exc):
                raise
            err.print(f"{', '.join(segments)}: no open lead to score as of {as_of.date()}")
            continue
        result.runs[model_name] = run
        frames.append(run.frame)
    if not frames:
        raise BadInputError(f"{crm.source}: no open lead at {as_of.date()} in any segment: nothing to score")
    frame = pd.concat(frames, ignore_index=True).sort_values("lead_id", ignore_index=True)
    frame.insert(frame.columns.get_loc("model_version") + 1, SEGMENT_COLUMN,
                 frame["lead_id"].astype(str).map(assignment).fillna(FALLBACK_SEGMENT).to_numpy())
    with exclusive(out):
        write_frame(frame, out)
    result.frame = frame
    return result


def routing_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the number of scored leads per segment and model, as the console prints it."""
    return (frame.groupby([SEGMENT_COLUMN, "model_name", "model_version"], sort=False).size()
            .rename("leads").reset_index())
