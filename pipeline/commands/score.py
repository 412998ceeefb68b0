"""`leadscore score`: score every open lead as of a date with the champion model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from leadscore.pipeline.commands.options import LogFormatChoice, LogFormatOption, QuietOption, parse_date
from leadscore.pipeline.commands.train import ConfigOption, WorkdirOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import err, out
from leadscore.pipeline.drift import drift_line
from leadscore.pipeline.io import write_text
from leadscore.pipeline.run_log import RunLog, run_log

SCORE_HELP = """Score every open lead as of a date with the champion model and the points table.

Writes one row per lead (probability, 0-100 score, grade, segment, rule points and segment,
reasons) to a Parquet or CSV file, atomically; a rerun for the same as_of and model
rewrites identical bytes. Meant for cron or an orchestrator.

Dates, --out and --db-url/--db-table are checked before any work. The database upsert
is one transaction committed only after the files are written, so a run that fails
replaces neither the file nor the table rows.

For schedulers: each stage ends with one line on stderr ("load: 50,000 leads, ... in
7.0 s"; a spinner or bar shows it running at a terminal only); --log-format json makes
stdout one JSON object per line instead (ts, level, stage, event, started, seconds,
counts; every warning; the summary or the error last), --quiet leaves out the debug and
info levels, and --summary-json FILE writes the run summary.

Exit codes: 0 ok; 1 the --db-url database cannot be reached or written (nothing
replaced); 2 bad input (the message names file, column and rows); 3 model or
feature-schema mismatch; 4 drift beyond limits with --fail-on-drift (output not replaced);
5 tracking store unreachable.
"""


def score_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (UTC midnight); default: the day after the data ends.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="models:/NAME@ALIAS, models:/NAME/VERSION, or a bundle folder in the working folder's model store. Default: the champion.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Output .parquet or .csv (default: <workdir>/scores/scores_<as_of>.parquet).")] = None,
    db_url: Annotated[str | None, typer.Option("--db-url", help="SQLAlchemy URL to upsert the scores into (by lead_id and as_of).")] = None,
    db_table: Annotated[str, typer.Option("--db-table", help="Table for --db-url.")] = "lead_scores",
    fail_on_drift: Annotated[bool, typer.Option("--fail-on-drift", help="Exit 4 without replacing the output when inputs drifted beyond the PSI limit.")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="duckdb (default) or spark: Spark writes Parquet partitioned by as_of to --out (a folder), without reasons.")] = None,
    held_out: Annotated[bool, typer.Option("--held-out", help="Score with the model fitted before its test slice: for backfilling past dates the deployed model learned from, so monitoring can judge them.")] = False,
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
    log_format: LogFormatOption = LogFormatChoice.text,
    quiet: QuietOption = False,
    summary_json: Annotated[Path | None, typer.Option("--summary-json", help="Also write the run summary (counts, drift, "
                                                      "model, seconds) to this JSON file, atomically.")] = None,
) -> None:
    with run_log(log_format.value, quiet, "score") as log:
        _score(data, as_of, model, out_path, db_url, db_table, fail_on_drift, engine, held_out, config, workdir, log, summary_json)


def _score(data, as_of, model, out_path, db_url, db_table, fail_on_drift, engine, held_out, config, workdir, log: RunLog,
           summary_path: Path | None) -> None:
    from leadscore.pipeline.score import score, summary

    when = parse_date("--as-of", as_of) if as_of is not None else None
    cfg = load_config(config, workdir=str(workdir) if workdir else None, engine={"name": engine} if engine else None)
    if cfg.engine.name == "spark":
        _score_on_spark(data, when, model, out_path, held_out, cfg, log)
        return
    if cfg.segments and model is None:
        _score_segments(data, when, out_path, cfg, db_url, held_out)
        return
    result = score(data, when, cfg, model=model, out=out_path, db_url=db_url, db_table=db_table, fail_on_drift=fail_on_drift,
                   held_out=held_out, log=log)
    if summary_path is not None:
        write_text(json.dumps(summary(result), indent=2) + "\n", summary_path)
    if log.is_json:
        log.event("score", "summary", **summary(result))
    elif not log.quiet:
        print_score_summary(result, cfg.scoring.drift.psi_warn, cfg.scoring.drift.psi_fail)


score_command.__doc__ = SCORE_HELP


def _score_segments(data, when, out_path, cfg, db_url, held_out) -> None:
    """Score each lead with its segment's champion (the global champion for the rest) and print the routing."""
    from leadscore.pipeline.errors import BadInputError
    from leadscore.pipeline.segment_score import routing_counts, score_segmented

    if db_url or held_out:
        raise BadInputError("segments: --db-url and --held-out score with one model; pass --model to score every lead with it")
    result = score_segmented(data, when, cfg, out=out_path)
    for row in routing_counts(result.frame).itertuples():
        out.print(f"{row.lead_segment}: {row.leads:,} open leads scored by {row.model_name} v{row.model_version}")
    out.print(f"scores: {result.out_path} (column lead_segment names each lead's segment, model_name its model)")


def _score_on_spark(data, when, model, out_path, held_out, cfg, log: RunLog) -> None:
    """Score the open leads on Spark and record them in the score history, each step a stage of the run log."""
    from leadscore.features.engines import open_engine
    from leadscore.features.snapshots import scoring_snapshots
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.model_source import resolve_model
    from leadscore.pipeline.scoring import population_to_score, scoring_date
    from leadscore.pipeline.score import warn_if_in_sample
    from leadscore.pipeline.spark_score import record_spark_history, score_spark

    with log.stage("model", "loaded", "loading the model") as end:
        bundle, name, version, cfg = resolve_model(cfg, model)
        bundle = bundle.held_out() if held_out else bundle
        end.report(f"{name} v{version} ({bundle.scorer})", model=name, version=version, scorer=bundle.scorer)
    with log.stage("load", "registered", f"starting Spark and reading {data}") as end:
        crm = open_engine(data, engine_settings(cfg))
        cfg = fit_to_crm(cfg, crm, model=f"{name} v{version}")
        when = scoring_date(when, crm.data_end, crm.source)
        end.report(f"{crm.source}, data up to {crm.data_end:%Y-%m-%d}", source=str(crm.source), data_end=str(crm.data_end),
                   as_of=str(when.date()))
    target = out_path or Catalog.of(cfg).spark_scores_dir
    with log.stage("population", "selected", "finding the open leads") as end:
        snapshots, why = population_to_score(scoring_snapshots(crm, when), cfg.population)
        end.report(f"{len(snapshots):,} open leads to score", leads=len(snapshots))
    if why:
        err.print(why)
    warn_if_in_sample(when, bundle.outcomes_seen_until(), bundle.scorer)
    with log.stage("score", "scored", "scoring on Spark") as end:
        score_spark(crm, bundle, snapshots, cfg, target)
        end.report(f"{len(snapshots):,} leads to {target}", leads=len(snapshots), path=str(target))
    with log.stage("history", "recorded", "recording the score history") as end:
        recorded = record_spark_history(target, when, bundle, name, version, cfg)
        end.report(f"{recorded:,} leads", rows=recorded)
    out.print(f"scored the open leads as of {when.date()} on Spark with {name} v{version}: {target}")



def print_score_summary(result, psi_warn: float, psi_fail: float) -> None:
    """Print counts per grade and segment, drift status and where the scores went."""
    c = result.counts
    grades = ", ".join(f"{g} {c.get('grade_' + g, 0):,}" for g in "ABCD")
    segments = ", ".join(f"{s} {c.get('segment_' + s, 0):,}" for s in ("hot", "nurture", "leave"))
    out.print(f"scored {c['leads']:,} open leads with {result.model_name} v{result.model_version} in {result.seconds:.1f} s")
    out.print(f"grades: {grades}; segments: {segments}; rule and model disagree on {c['segments_disagree']:,} segments")
    out.print(f"drift: {drift_line(result.drift, psi_warn, psi_fail)}")
    out.print(f"scores: {result.out_path}")
