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
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
) -> None:
    """Train and calibrate a model on closed-won outcomes, evaluate it against the points table, register it."""
    from leadscore.pipeline.train import train

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    with out.status("building snapshots and features, training, calibrating"):
        result = train(data, cfg, promote=promote)
    print_train_summary(result)


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

