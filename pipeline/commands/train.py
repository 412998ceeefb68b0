"""`leadscore train`: fit, calibrate, evaluate and register a model; `--promote` applies the policy at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadscore.pipeline.commands.promote import promote_command  # noqa: F401  (registered from here by commands/__init__)
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML file overriding the packaged defaults.")]
WorkdirOption = Annotated[Path | None, typer.Option("--workdir", help="Working folder for models, reports and the MLflow store.")]


def train_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    promote: Annotated[bool, typer.Option("--promote", help="Make the new model champion if it beats the champion and the points table.")] = False,
    check_split: Annotated[bool, typer.Option("--check-split", help="Only count snapshots and wins per slice of the time split (seconds, no features) and stop.")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="duckdb (default) or spark: Spark builds the snapshots' features and labels from a Parquet CRM folder; the model trains on this machine.")] = None,
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
) -> None:
    """Train and calibrate a model on closed-won outcomes, evaluate it against the points table, register it."""
    from leadscore.pipeline.train import train

    cfg = load_config(config, workdir=str(workdir) if workdir else None, engine={"name": engine} if engine else None)
    if check_split:
        print_split_check(data, cfg)
        return
    if cfg.segments:
        from leadscore.pipeline.segment_train import train_segmented

        with out.status(f"training the global model and one per segment ({', '.join(s.name for s in cfg.segments)})"):
            segmented = train_segmented(data, cfg, promote=promote)
        print_train_summary(segmented.global_result)
        print_segments_summary(segmented)
        return
    with out.status("building snapshots and features, training, calibrating"):
        result = train(data, cfg, promote=promote)
    print_train_summary(result)


def print_segments_summary(result) -> None:
    """Print each segment's leads and model, the comparison with the global model, and each segment's promotion."""
    from rich.markup import escape

    counts = ", ".join(f"{name} {n:,}" for name, n in result.counts.items())
    out.print(f"segments: leads {counts}")
    for name, trained in result.segments.items():
        out.print(f"segment {name}: registered as {trained.bundle.manifest['name']} version {trained.model_version}, "
                  f"report {trained.report_paths.get('html')}")
    for name, why in result.skipped.items():
        out.print(f"segment {name}: no model of its own ({escape(why)}); the global model scores it")
    for line in result.lines:
        out.print(escape(line))
    for name, decision in result.promotions.items():
        out.print(f"segment {name}: {escape(decision.reason)}")
    out.print(f"segments report: {result.report_paths['markdown']}")


def print_split_check(data: Path, cfg) -> None:
    """Print the time split the CRM's schedule allows: dates, snapshots and wins per slice (or the error naming the fix)."""
    import time

    from leadscore.features.engines import open_engine
    from leadscore.features.snapshots import moment_text
    from leadscore.pipeline.catalog import engine_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.split_checks import check_split

    crm = open_engine(data, engine_settings(cfg))
    started = time.perf_counter()
    check = check_split(crm, fit_to_crm(cfg, crm))
    table = Table(title=f"time split of {crm.source}: calibration from {moment_text(check.bounds.calibration_start)}, "
                        f"test from {moment_text(check.bounds.test_start)}")
    for column in ("slice", "dates", "first as_of", "last as_of", "snapshots", "wins"):
        table.add_column(column, justify="left" if column in ("slice", "first as_of", "last as_of") else "right")
    for row in check.slices.itertuples():
        shown = row.dates > 0
        table.add_row(row.slice, f"{row.dates:,}", moment_text(row.first_as_of) if shown else "", moment_text(row.last_as_of) if shown else "",
                      f"{row.snapshots:,}", f"{row.wins:,}")
    out.print(table)
    out.print(f"purged: snapshots whose {cfg.windows.gap_days + cfg.windows.horizon_days}-day label window reaches into the "
              "next slice (their labels would see it); early stopping later holds out "
              f"{cfg.model.validation_share:.0%} of the fit leads")
    pipeline = "left out" if check.left_out else "included"
    out.print(f"snapshots of leads already in Sales' pipeline (an open opportunity at as_of): {check.in_pipeline:,}, {pipeline} "
              f"(population.open_opportunities: {cfg.population.open_opportunities})")
    out.print(f"split checked in {time.perf_counter() - started:.1f} s: enough wins and non-wins in every slice to train")


def print_train_summary(result) -> None:
    """Print the split, the model's and the points table's test metrics, and where things went."""
    total = sum(result.split[name]["rows"] for name in ("fit", "validation", "calibration", "test"))
    split = Table(title=f"time split: {total:,} labelled snapshots, {result.split['purged']:,} purged at the boundaries")
    for column in ("slice", "rows", "wins", "first as_of", "last as_of"):
        split.add_column(column)
    for name in ("fit", "validation", "calibration", "test"):
        s = result.split[name]
        split.add_row(name, f"{s['rows']:,}", f"{s['positives']:,}", str(s["first_as_of"]), str(s["last_as_of"]))
    out.print(split)
    left_out = result.summary.get("in_sales_pipeline_left_out", 0)
    if left_out:
        out.print(f"left out: {left_out:,} snapshots of leads already in Sales' pipeline (an open opportunity at as_of; "
                  f"{result.summary['in_sales_pipeline_left_out_wins']:,} of them won), population.open_opportunities: exclude")
    metrics = Table(title=f"held-out test metrics (calibration of the deployed model: {result.calibration_method}, best iteration {result.bundle.manifest['best_iteration']})")
    for column in ("metric", "model", "points table"):
        metrics.add_column(column)
    for key in ("roc_auc", "pr_auc", "brier", "log_loss", "ece"):
        metrics.add_row(key, f"{result.metrics['model'][key]:.4f}", f"{result.metrics['rule'][key]:.4f}")
    out.print(metrics)
    if result.core is not None:
        folds = Table(title=f"rolling-origin backtest ({result.core.candidate.name}; promotion reads the mean)")
        for column in ("fold", "dates", "rows", "wins", "model AUC", "points AUC", "model ECE", "points ECE"):
            folds.add_column(column)
        for f in result.core.backtest.itertuples():
            folds.add_row(str(f.fold), f"{f.first_as_of} to {f.last_as_of}", f"{f.rows:,}", f"{f.wins:,}", f"{f.model_roc_auc:.4f}",
                          f"{f.rule_roc_auc:.4f}", f"{f.model_ece:.4f}", f"{f.rule_ece:.4f}")
        out.print(folds)
        deployed = result.training["deployed"]
        fit, cal = deployed["fitted_on"], deployed["calibrated_on"]
        out.print(f"deployed model: {result.core.candidate.name}, fitted on {fit['first_as_of']} to {fit['last_as_of']} "
                  f"({fit['rows']:,} snapshots), calibrated ({deployed['calibration_method']}) on {cal['first_as_of']} to "
                  f"{cal['last_as_of']} ({cal['rows']:,})")
    out.print(f"model bundle: {result.bundle_dir}")
    out.print(f"report: {result.report_paths.get('html')}")
    if result.run_id:
        out.print(f"MLflow run {result.run_id}, registered as version {result.model_version} (alias challenger)")
    if result.promotion is not None:
        out.print(result.promotion.reason)

