"""Run the train stage per segment: the global model, one model per segment, their comparison, per-segment promotion.

Every model goes through the same train stage (`pipeline.train.train`): the global model on
every lead, registered as `tracking.model_name` (it scores the fallback, and any segment whose
own model does not pay), and each segment's model on its leads alone, registered as
`<tracking.model_name>-<segment>`. A registered model per segment, rather than one model with a
segment tag per version, because MLflow's aliases belong to a registered model: each segment
then has its own champion and challenger, its own version history and its own promotion
through the unchanged promotion code, and `models:/leadscore-enterprise@champion` names what
scores that segment. The comparison (`evaluation.segments`) is then written as its own report
beside the global one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from leadscore.features.errors import InsufficientDataError
from leadscore.pipeline.catalog import Catalog, engine_settings
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.evaluation.segments import PAYS, compare_segments, segment_lines
from leadscore.pipeline.io import write_text
from leadscore.pipeline.promotion import Decision
from leadscore.pipeline.segments import check_placeable, segment_config, segment_counts, segment_crm


@dataclass
class SegmentedResult:
    """What a segmented training run produced: the global run, each segment's run (or why none), the comparison."""

    global_result: object  # pipeline.train.TrainResult
    segments: dict[str, object]  # segment -> TrainResult
    skipped: dict[str, str]  # segment -> why it has no model of its own
    counts: dict[str, int]  # leads per segment, the fallback last
    comparison: pd.DataFrame
    lines: list[str]
    promotions: dict[str, Decision] = field(default_factory=dict)
    report_paths: dict[str, Path] = field(default_factory=dict)


def train_segmented(data, config: Config, promote: bool = False, crm=None) -> SegmentedResult:
    """Train the global model and one per segment, compare them on held-out leads, and promote per segment.

    With `promote`, a segment's model becomes its champion only if the promotion policy says so
    and the comparison says its own model pays (its AUC gain's interval above zero); otherwise
    the decision is recorded on the version with the reason, and the segment stays with its
    previous champion or, with none, with the global model.
    """
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline import tracking
    from leadscore.pipeline.train import train

    if config.engine.name != "duckdb":
        raise BadInputError(f"segments: per-segment training runs on the duckdb engine, not {config.engine.name!r} "
                            "(engine.name: duckdb, or train without segments)")
    tracking.client(config)
    crm = crm or load_crm(data, engine_settings(config))
    assignment = check_placeable(crm, config)  # a filter naming a missing column fails before any training
    counts = segment_counts(assignment, config.segments)
    global_result = train(None, config, promote=promote, crm=crm)
    results, skipped, configs = {}, {}, {}
    for segment in config.segments:
        configs[segment.name] = segment_config(config, segment)
        ids = assignment.index[assignment == segment.name]
        if len(ids) == 0:
            skipped[segment.name] = "no lead meets its filter"
            continue
        try:
            results[segment.name] = train(None, configs[segment.name], promote=False,
                                          crm=segment_crm(crm, ids, configs[segment.name]))
        except InsufficientDataError as exc:
            skipped[segment.name] = str(exc)
    comparison = compare_segments(global_result.test_frame,
                                  {s.name: results[s.name].test_frame if s.name in results else None for s in config.segments},
                                  assignment, config.segment_comparison)
    result = SegmentedResult(global_result, results, skipped, counts, comparison,
                             segment_lines(comparison, config.segment_comparison.confidence))
    if promote:
        for name, trained in results.items():
            result.promotions[name] = _promote_segment(configs[name], trained, comparison.set_index("segment").loc[name])
    result.report_paths = write_segments_report(result, config)
    for name, trained in results.items():
        tracking.log_run_files(configs[name], trained.run_id, [result.report_paths["markdown"], result.report_paths["json"]],
                               "segments")
    tracking.log_run_files(config, global_result.run_id, [result.report_paths["markdown"], result.report_paths["json"]],
                           "segments")
    return result


def _promote_segment(config: Config, trained, row: pd.Series) -> Decision:
    """Promote a segment's version by the policy when its own model pays against the global one; record why if not."""
    from leadscore.pipeline import tracking
    from leadscore.pipeline.champion import promote_version

    if row["verdict"] != PAYS:
        decision = Decision(False, f"not promoted: segmenting does not pay for this segment ({row['verdict']}: ROC AUC "
                                   f"{row['segmented_roc_auc']:.4f} vs the global model's {row['global_roc_auc']:.4f}, "
                                   f"interval {row['low']:+.4f} to {row['high']:+.4f})")
        tracking.record_promotion(config, trained.model_version, False, decision.reason)
        return decision
    return promote_version(config, trained.model_version, trained.metrics)


def report_markdown(result: SegmentedResult, config: Config) -> str:
    """Return the segments report: leads per segment, where each is scored, and the comparison table and verdicts."""
    settings = config.segment_comparison
    lines = ["# Segments: segmented models against one global model", "",
             f"Each segment's model and the global model scored the segment's held-out test snapshots; the interval is the "
             f"{settings.confidence:.0%} paired bootstrap interval over leads ({settings.bootstrap} resamples) of the ROC AUC "
             f"difference. A segment's own model pays when the whole interval is above zero with at least "
             f"{settings.min_test_wins} test wins (`segment_comparison.min_test_wins`); otherwise the global model "
             f"(`{config.tracking.model_name}`) scores its leads. A lead goes to the first segment whose filter it meets.", "",
             "| segment | filter | leads | registered model |", "|---|---|---|---|"]
    for segment in config.segments:
        model = (f"`{config.tracking.model_name}-{segment.name}` v{result.segments[segment.name].model_version}"
                 if segment.name in result.segments else f"none: {result.skipped.get(segment.name, '')}")
        where = segment.where if isinstance(segment.where, str) else " and ".join(segment.where)
        lines.append(f"| {segment.name} | `{where}` | {result.counts[segment.name]:,} | {model} |")
    lines += [f"| fallback | in no segment | {result.counts['fallback']:,} | `{config.tracking.model_name}` "
              f"v{result.global_result.model_version} |", "",
              "| segment | test snapshots | leads | wins | global AUC | segmented AUC | difference | interval | verdict |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in result.comparison.itertuples():
        cell = (lambda v: "" if pd.isna(v) else f"{v:+.3f}")
        auc = (lambda v: "" if pd.isna(v) else f"{v:.3f}")
        interval = "" if pd.isna(row.low) else f"{row.low:+.3f} to {row.high:+.3f}"
        lines.append(f"| {row.segment} | {row.rows:,} | {row.leads:,} | {row.wins:,} | {auc(row.global_roc_auc)} | "
                     f"{auc(row.segmented_roc_auc)} | {cell(row.difference)} | {interval} | {row.verdict} |")
    lines += ["", "## Verdict", "", *[f"- {line}" for line in result.lines]]
    if result.promotions:
        lines += ["", "## Promotion", "", *[f"- {name}: {d.reason}" for name, d in result.promotions.items()]]
    return "\n".join(lines) + "\n"


def write_segments_report(result: SegmentedResult, config: Config) -> dict[str, Path]:
    """Write the segments report (Markdown and JSON) beside the global model's report, each atomically."""
    folder = Catalog.of(config).report_dir(f"segments-{result.global_result.bundle_dir.name}")
    data = {"counts": result.counts, "skipped": result.skipped,
            "models": {name: {"model": f"{config.tracking.model_name}-{name}", "version": r.model_version}
                       for name, r in result.segments.items()},
            "comparison": json.loads(result.comparison.to_json(orient="records")), "verdict": result.lines,
            "promotion": {name: {"promoted": d.promote, "reason": d.reason} for name, d in result.promotions.items()}}
    return {"markdown": write_text(report_markdown(result, config), folder / "segments.md"),
            "json": write_text(json.dumps(data, indent=2), folder / "segments.json")}
