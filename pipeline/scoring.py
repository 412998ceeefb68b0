"""Score feature rows with both scorers: probabilities, grades and segments beside rule points (pure).

Training, evaluation and batch scoring on either engine call these functions, so a lead
gets the same numbers whichever stage scored it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.models.bundle import ModelBundle
from leadscore.models.rules import PointsScorer
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.grading import grade, score_0_100, segment

SLICE_COLUMNS = ("lead_source", "country", "company_size_band")
"""Lead attributes the evaluation report breaks quality down by, carried beside the scores."""

PIPELINE_FLAG = "in_sales_pipeline"
"""The column flagging a snapshot of a lead with an open opportunity (`features.snapshots`), kept in scores and
evaluation frames when the population includes such leads."""

OUTPUT_COLUMNS = (
    "lead_id", "as_of", "model_name", "model_version", "probability", "score", "grade", "segment",
    "rule_points", "rule_segment", "segments_disagree", "reasons_model_up", "reasons_model_down", "reasons_rule",
    "previous_score", "score_trend",
)
"""The columns of a batch scores file, in order (the trend against the previous run: `pipeline.history.with_trend`)."""


def score_frame(frame: pd.DataFrame, calibrated, points: PointsScorer, grades) -> pd.DataFrame:
    """Return the rows scored by both scorers as evaluation reads them, with labels, slice columns and
    `in_sales_pipeline` when present."""
    model_proba = calibrated.predict_proba(frame)[:, 1]
    out = pd.DataFrame({
        "lead_id": frame["lead_id"].to_numpy(),
        "as_of": frame["as_of"].to_numpy(),
        "model_proba": model_proba,
        "model_grade": np.asarray(grade(model_proba, grades)),
        "model_segment": np.asarray(segment(model_proba, grades)),
        "rule_points": points.decision_function(frame),
        "rule_proba": points.predict_proba(frame)[:, 1],
        "rule_stage": np.asarray(points.stage(frame)),
        "rule_segment": np.asarray(points.segment(frame)),
    })
    if "label" in frame.columns:
        out.insert(2, "label", frame["label"].to_numpy())
    for column in (*SLICE_COLUMNS, PIPELINE_FLAG):
        if column in frame.columns:
            out[column] = frame[column].to_numpy()
    return out


def score_rows(features: pd.DataFrame, bundle: ModelBundle, grades) -> pd.DataFrame:
    """Return the batch scores of feature rows: probability, 0-100 score, grade, segment, rule points and segment."""
    proba = bundle.calibrated.predict_proba(features[bundle.feature_names])[:, 1]
    points = bundle.points
    return pd.DataFrame({
        "lead_id": features["lead_id"].to_numpy(),
        "as_of": features["as_of"].to_numpy(),
        "probability": proba,
        "score": score_0_100(proba),
        "grade": np.asarray(grade(proba, grades)),
        "segment": np.asarray(segment(proba, grades)),
        "rule_points": np.round(points.decision_function(features), 4),
        "rule_segment": np.asarray(points.segment(features)),
    })


def called_hot(frame: pd.DataFrame) -> pd.Series:
    """Return which leads the model or the points table calls hot (each needs the reasons of its call)."""
    return (frame["segment"] == "hot") | (frame["rule_segment"] == "hot")


def as_output(frame: pd.DataFrame, model_name: str, model_version: str) -> pd.DataFrame:
    """Return scored rows as the scores file holds them: model named, disagreements flagged, sorted by lead.

    A frame carrying `in_sales_pipeline` (the population includes leads with an open
    opportunity) keeps it as the last column.
    """
    frame = frame.assign(model_name=model_name, model_version=model_version,
                         segments_disagree=frame["segment"] != frame["rule_segment"])
    if "score_trend" not in frame.columns:  # no history to compare with: every lead is new
        frame = frame.assign(previous_score=np.nan, score_trend="new")
    columns = list(OUTPUT_COLUMNS) + ([PIPELINE_FLAG] if PIPELINE_FLAG in frame.columns else [])
    return frame.sort_values("lead_id", ignore_index=True)[columns]


def population_to_score(snapshots: pd.DataFrame, population) -> tuple[pd.DataFrame, str | None]:
    """Return the scoring snapshots the population rule keeps and, when it leaves some out, the line saying why.

    Under `include` the kept snapshots carry `in_sales_pipeline`, which the scores file keeps.
    """
    from leadscore.features.snapshots import split_population

    kept, left_out = split_population(snapshots, population)
    if left_out.empty:
        return kept, None
    return kept, (f"{len(left_out):,} open lead{'s' if len(left_out) > 1 else ''} with an open opportunity left out of the "
                  f"scores: already in Sales' hands (population.open_opportunities: exclude; 'include' scores them, "
                  f"flagged in column {PIPELINE_FLAG})")


def score_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Return how many leads were scored, per grade, per segment, and where the scorers' segments disagree."""
    return {
        "leads": int(len(frame)),
        **{f"grade_{k}": int(v) for k, v in frame["grade"].value_counts().sort_index().items()},
        **{f"segment_{k}": int(v) for k, v in frame["segment"].value_counts().sort_index().items()},
        "segments_disagree": int(frame["segments_disagree"].sum()),
        **{f"trend_{k}": int(v) for k, v in frame["score_trend"].value_counts().sort_index().items()},
    }


def rule_thresholds(points: PointsScorer) -> dict[str, float]:
    """Return the points table's MQL and hot cut-offs, the ones the report audits."""
    t = points.table_.thresholds
    return {"MQL": t.stages["MQL"], "hot": t.segments["hot"]}


def scoring_date(as_of, data_end: pd.Timestamp, source: str) -> pd.Timestamp:
    """Return the UTC midnight to score as of: `as_of`, or by default the day after the data ends.

    A later date is refused: its scores would ignore activity that has not been loaded yet.

    >>> end = pd.Timestamp("2026-06-30 17:00", tz="UTC")
    >>> str(scoring_date(None, end, "crm").date())
    '2026-07-01'
    >>> scoring_date("2026-07-05", end, "crm")
    Traceback (most recent call last):
    ...
    leadscore.features.errors.BadInputError: crm: --as-of 2026-07-05 is after the data ends (2026-06-30); ...
    """
    from leadscore.features.snapshots import midnight

    day_after = midnight(data_end) + pd.Timedelta(days=1)
    when = midnight(as_of) if as_of is not None else day_after
    if when > day_after:
        raise BadInputError(f"{source}: --as-of {when.date()} is after the data ends ({data_end.date()}); "
                            "scores would ignore activity that has not been loaded yet")
    return when
