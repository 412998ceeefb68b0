"""Run the score stage: every open lead of the population as of a date, scored by the champion and by the points table.

Built for a scheduler: the same builders as training, leads in chunks so memory stays bounded,
one lock per output so two runs take turns, results written to a temporary file and renamed
(a crash leaves the previous file), and a rerun for the same as_of and model writes the same
bytes. This module is the wiring; the scoring is `pipeline.scoring`, the reasons
`pipeline.reasons`, the drift check `pipeline.drift`, the writing `pipeline.publish`.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.registry import all_features
from leadscore.features.snapshots import scoring_snapshots
from leadscore.models.bundle import ModelBundle
from leadscore.pipeline.catalog import Catalog, engine_settings
from leadscore.pipeline.config import Config
from leadscore.pipeline.console import err, polling
from leadscore.pipeline.drift import DriftReference, DriftTally, drift_counts, drifted
from leadscore.pipeline.errors import BadInputError, SchemaMismatchError
from leadscore.pipeline.history import previous_run, record_scores, with_trend
from leadscore.pipeline.io import check_frame_target
from leadscore.pipeline.locking import exclusive
from leadscore.pipeline.model_source import resolve_model
from leadscore.pipeline.publish import drift_report_path, open_sink, publish
from leadscore.pipeline.reasons import ReasonCandidates, add_reasons, top_count
from leadscore.pipeline.run_log import NO_LOG, RunLog
from leadscore.pipeline.run_record import scoring_metrics
from leadscore.pipeline.scoring import (OUTPUT_COLUMNS, PIPELINE_FLAG, as_output, called_hot, population_to_score, score_counts,
                                       score_rows, scoring_date)

__all__ = ["OUTPUT_COLUMNS", "ReasonCandidates", "ScoreResult", "resolve_model", "score", "summary", "summary_json"]


@dataclass
class ScoreResult:
    """What a scoring run wrote and saw."""

    out_path: Path | None
    frame: pd.DataFrame
    counts: dict
    drift: pd.DataFrame
    drift_exceeded: list[str]
    seconds: float
    model_name: str
    model_version: str
    run_id: str | None = None
    extra: dict = field(default_factory=dict)


def score(data, as_of, config: Config, model: str | None = None, out: str | Path | None = None,
          db_url: str | None = None, db_table: str = "lead_scores", fail_on_drift: bool = False,
          crm: FeatureEngine | None = None, log_to_mlflow: bool = True,
          history: bool = True, held_out: bool = False, log: RunLog = NO_LOG) -> ScoreResult:
    """Score every lead open at `as_of`; write `out` (Parquet or CSV) and optionally upsert into a database.

    `held_out` scores with the bundle's model fitted before its test slice, for backfilling
    past dates whose outcomes the deployed model learned from (`warn_if_in_sample`).

    Each lead gets its trend against the model's previous run before `as_of`, and the run is
    recorded in the working folder's score history (`pipeline.history`), which monitoring reads;
    `history=False` neither reads nor writes it (every lead's trend is then "new").

    `out` and the database are checked before the model or the data is loaded, so a typo
    fails in a second; a run that fails replaces neither the scores nor the database rows.
    `log` shows each stage as it runs and reports it as it ends, with its counts and duration
    (`pipeline.run_log`); the default shows nothing.
    """
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.crm_settings import fit_to_crm

    started = time.perf_counter()
    if out is not None:
        check_frame_target(out)
    sink = open_sink(db_url, db_table)
    try:
        with log.stage("model", "loaded", "loading the model") as end:
            bundle, model_name, model_version, config = resolve_model(config, model)
            if bundle.manifest.get("flat"):
                raise SchemaMismatchError(f"model {model_name} v{model_version} was trained on a flat export, not a CRM history; "
                                          "score its rows with `leadscore flat score`")
            bundle = bundle.held_out() if held_out else bundle
            end.report(f"{model_name} v{model_version} ({bundle.scorer})", model=model_name, version=model_version,
                       scorer=bundle.scorer)
        with log.stage("load", "validated", f"reading and validating {data or crm.source}") as end:
            crm = crm or load_crm(data, engine_settings(config))
            as_of = scoring_date(as_of, crm.data_end, crm.source)
            sizes = {k: v for k, v in getattr(crm, "summary", {}).items() if k.endswith("_rows")}
            parts = getattr(crm, "summary", {}).get("validated_parts")
            end.report((_sizes_text(sizes) or str(crm.source)) + (f"; {parts.text()}" if parts else ""), source=str(crm.source),
                       data_end=str(crm.data_end), as_of=str(as_of.date()), **sizes,
                       **({"parts_validated": len(parts.validated), "parts_reused": len(parts.reused)} if parts else {}))
        seen_until = bundle.outcomes_seen_until()
        warn_if_in_sample(as_of, seen_until, bundle.scorer)
        out = Path(out) if out else Catalog.of(config).scores_file(as_of)
        with exclusive(out):
            # under the lock, as every query of the CRM's one connection: a second run for this output waits here
            config = fit_to_crm(config, crm, model=f"{model_name} v{model_version}")
            frame, drift, left_out = _score_open_leads(crm, as_of, bundle, config, log)
            catalog = Catalog.of(config)
            if history:
                frame = with_trend(frame, previous_run(catalog, as_of, model_name), config.scoring.trend_steady_points)
            frame = as_output(frame, model_name, model_version)
            exceeded = drifted(drift)
            with log.stage("drift", "checked", "checking drift") as end:
                end.report(f"largest PSI {float(drift['psi'].iloc[0]):.3f} ({drift['name'].iloc[0]})",
                           level="warning" if exceeded else "info", largest_psi=round(float(drift["psi"].iloc[0]), 4),
                           largest=str(drift["name"].iloc[0]), **drift_counts(drift), beyond_limit=exceeded,
                           psi_warn=config.scoring.drift.psi_warn, psi_fail=config.scoring.drift.psi_fail)
            with log.stage("write", "written", f"writing {out}") as end:
                publish(frame, drift, out, sink, config.scoring.drift.psi_fail, stop_for=exceeded if fail_on_drift else [])
                end.report(f"{len(frame):,} rows to {out}" + (" and the database" if sink is not None else ""),
                           path=str(out), rows=len(frame), database=sink is not None)
            if history:
                with log.stage("history", "recorded", "recording the score history") as end:
                    record_scores(frame, catalog, config.scoring.history_days, bundle.scorer, seen_until, bundle.label)
                    end.report(f"{len(frame):,} leads", rows=len(frame))
    finally:
        if sink is not None:
            sink.close()
    counts = {**score_counts(frame), "in_sales_pipeline_left_out": left_out}
    result = ScoreResult(out, frame, counts, drift, exceeded, time.perf_counter() - started, model_name, model_version)
    if exceeded:
        err.print(f"[yellow]warning:[/] population drift beyond psi {config.scoring.drift.psi_fail:g} in {', '.join(exceeded[:8])}")
    if log_to_mlflow:
        with log.stage("tracking", "logged", "logging the run to MLflow") as end:
            result.run_id = _log_scoring_run(result, as_of, config)
            end.report(f"MLflow run {result.run_id}", run_id=result.run_id)
    return result


def _sizes_text(sizes: dict) -> str:
    """Return table sizes as a line says them: "50,000 leads, 4,316,436 activities".

    >>> _sizes_text({"leads_rows": 50000, "activities_rows": 4316436})
    '50,000 leads, 4,316,436 activities'
    """
    return ", ".join(f"{n:,} {name.removesuffix('_rows')}" for name, n in sizes.items())


def warn_if_in_sample(as_of: pd.Timestamp, seen_until: pd.Timestamp | None, scorer: str) -> None:
    """Say so when `as_of` is earlier than the end of the outcomes the scoring model learned from.

    Such scores are fine to look at but say nothing of the model's skill: their leads' outcomes
    were among its training labels. Monitoring sets them aside.
    """
    if seen_until is None or as_of >= seen_until:
        return
    other = (" or score with --held-out (the model fitted before its test slice)" if scorer == "deployed" else "")
    err.print(f"[yellow]warning:[/] scoring {as_of:%Y-%m-%d} with the {scorer} model, which learned the outcomes of leads up to "
              f"{seen_until:%Y-%m-%d}: these scores are in-sample and monitoring sets them aside; score a later date{other} "
              "to judge the model on them")


def _score_open_leads(crm: FeatureEngine, as_of: pd.Timestamp, bundle: ModelBundle, config: Config, log: RunLog = NO_LOG):
    """Return the scores, with reasons, of every lead of the population open at `as_of`, the drift report of
    their features, and how many open leads the population rule left out (said on the console)."""
    opened = scoring_snapshots(crm, as_of)
    snapshots, why = population_to_score(opened, config.population)
    if snapshots.empty:
        outside = " that is not already in Sales' pipeline" if len(opened) else ""
        raise BadInputError(f"{crm.source}: no open lead at {as_of.date()}{outside}: nothing to score")
    if why:
        err.print(why)
    frame, tally, candidates = _score_in_chunks(crm, snapshots, bundle, config, log)
    with log.stage("reasons", "explained", "explaining scores", total=0, unit="leads") as end:
        frame = add_reasons(frame, candidates, bundle, {f.name: f for f in all_features(config.for_features)},
                            config.scoring.reasons_top_share, config.scoring.reasons_per_lead, config.scoring.reason_labels,
                            progress=end.progress)
        model_reasons, rule_reasons = (int((frame[c].map(len) > 0).sum()) for c in ("reasons_model_up", "reasons_rule"))
        end.report(f"{model_reasons:,} leads with model reasons, {rule_reasons:,} with points-table reasons",
                   leads_with_model_reasons=model_reasons, leads_with_rule_reasons=rule_reasons)
    if PIPELINE_FLAG in snapshots.columns:
        flags = snapshots[["lead_id", PIPELINE_FLAG]].assign(lead_id=snapshots["lead_id"].astype(frame["lead_id"].dtype))
        frame = frame.merge(flags, on="lead_id", how="left", validate="one_to_one")
    return frame, tally.report(config.scoring.drift.psi_warn, config.scoring.drift.psi_fail), len(opened) - len(snapshots)


def _log_scoring_run(result: ScoreResult, as_of: pd.Timestamp, config: Config) -> str:
    """Log the run's parameters, counts and drift report to MLflow; return the run id."""
    from leadscore.pipeline import tracking

    params = {"as_of": str(as_of.date()), "model": f"{result.model_name} v{result.model_version}", "output": str(result.out_path)}
    return tracking.log_scoring_run(config, params, scoring_metrics(result.counts, result.seconds, result.drift),
                                    [drift_report_path(result.out_path)], run_name=f"score-{as_of:%Y-%m-%d}",
                                    model_name=result.model_name, model_version=result.model_version)


def _score_in_chunks(crm: FeatureEngine, snapshots: pd.DataFrame, bundle: ModelBundle, config: Config, log: RunLog = NO_LOG):
    """Build features and score chunk by chunk; return the scores, the drift tally and the reason candidates.

    The candidates are the feature rows of every lead that may need reasons (see
    `ReasonCandidates`), kept as the chunks go so that no feature is built twice. At a
    terminal the bar moves within a chunk too, with the feature query's share done (a chunk
    is one query, and one chunk is usually every lead).
    """
    tally = DriftTally(DriftReference.from_dict(bundle.manifest["drift_reference"]), config.grades.hot)
    candidates = ReasonCandidates(top_count(len(snapshots), config.scoring.reasons_top_share))
    parts = []
    size = config.scoring.chunk_size
    chunks = -(-len(snapshots) // size)
    started = time.perf_counter()
    with log.stage("score", "scored", "scoring", total=len(snapshots), unit="leads") as end:
        for chunk, start in enumerate(range(0, len(snapshots), size), start=1):
            rows = snapshots.iloc[start:start + size]
            with _query_progress(crm, lambda share: end.progress(start + share * len(rows)), log.shows_live):
                features = crm.features(rows, config.for_features)
            bundle.check_schema(features, f"features built from {crm.source}")
            part = score_rows(features, bundle, config.grades)
            parts.append(part)
            candidates.add(features, part["probability"].to_numpy(), called_hot(part).to_numpy())
            tally.add(features[bundle.feature_names], part["probability"].to_numpy())
            end.progress(start + len(part))
            log.event("score", "chunk", chunk=chunk, chunks=chunks, leads_done=start + len(part),
                      leads=len(snapshots), seconds=round(time.perf_counter() - started, 3))
        end.report(f"{len(snapshots):,} leads ({chunks:,} chunk{'s' if chunks > 1 else ''})",
                   leads=len(snapshots), chunks=chunks, chunk_size=size)
    return pd.concat(parts, ignore_index=True), tally, candidates.frame


def _query_progress(crm: FeatureEngine, report, show: bool):
    """Report the engine's running query's share done while the block runs, when shown and the engine can tell."""
    read = getattr(crm, "query_progress", None)
    if not show or read is None:
        return contextlib.nullcontext()
    return polling(read, lambda share: share is not None and report(share))


def summary(result: ScoreResult) -> dict:
    """Return the run summary a scheduler reads: output, model, runtime, counts and drift status."""
    return {"output": str(result.out_path), "model": result.model_name, "model_version": result.model_version,
            "run_id": result.run_id, "seconds": round(result.seconds, 2), **result.counts,
            **drift_counts(result.drift), "drift_exceeded": result.drift_exceeded}


def summary_json(result: ScoreResult) -> str:
    """Return the run summary as JSON (`--summary-json FILE` writes it)."""
    return json.dumps(summary(result), indent=2)
