"""`leadscore flat train` / `flat score`: the lifecycle of a model on a flat lead export (one row per lead, an outcome column).

`leadscore flat --config FILE` with no sub-command is `flat train`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import err, out

FlatConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML with a 'flat' section (see pipeline/conf/examples/bank_marketing.yaml).")]
WorkdirOption = Annotated[Path | None, typer.Option("--workdir", help="Working folder for models, reports and the MLflow store.")]
PromoteOption = Annotated[bool, typer.Option("--promote", help="Make the new model champion if it beats the champion and the points table.")]

flat_command = typer.Typer(help="Train, register and score a model on a flat lead export (one row per lead, an outcome column).")


@flat_command.callback(invoke_without_command=True)
def flat_default(ctx: typer.Context, config: FlatConfigOption = None, workdir: WorkdirOption = None,
                 promote: PromoteOption = False) -> None:
    """Train on a flat lead export (`flat train`), or train and score with the sub-commands."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        raise typer.BadParameter("--config is required (or use `leadscore flat train --config FILE`)", param_hint="--config")
    flat_train_command(config, workdir, promote)


@flat_command.command("train")
def flat_train_command(config: Annotated[Path, typer.Option("--config", help="YAML with a 'flat' section.")],
                       workdir: WorkdirOption = None, promote: PromoteOption = False) -> None:
    """Train, calibrate and compare with a points table on a flat export, save the model and register it in MLflow."""
    from leadscore.pipeline.flat_train import train_flat_model

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    with out.status("training on the flat table"):
        trained = train_flat_model(cfg, base=Path.cwd(), config_dir=config.parent, promote=promote, on_leakage=print_leakage)
    print_flat_summary(trained)


@flat_command.command("score")
def flat_score_command(
    data: Annotated[Path, typer.Option("--data", help="A flat export with the training export's columns (the outcome column may be missing).")],
    out_path: Annotated[Path, typer.Option("--out", help="Output .parquet or .csv, written atomically.")],
    config: Annotated[Path, typer.Option("--config", help="The YAML the model was trained with (its working folder and MLflow store).")],
    model: Annotated[str | None, typer.Option("--model", help="models:/NAME@ALIAS, models:/NAME/VERSION or a bundle folder in the model store. Default: the flat champion.")] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Score every row of a flat export with the flat champion and its points table; a rerun writes the same bytes."""
    from leadscore.pipeline.flat_score import score_flat

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    result = score_flat(data, out_path, cfg, model=model)
    counts = result.frame["grade"].value_counts()
    segments = result.frame["segment"].value_counts()
    out.print(f"scored {len(result.frame):,} rows with {result.model_name} v{result.model_version}: grades "
              + ", ".join(f"{g} {int(counts.get(g, 0)):,}" for g in "ABCD") + "; segments "
              + ", ".join(f"{s} {int(segments.get(s, 0)):,}" for s in ("hot", "nurture", "leave")))
    out.print(f"scores: {result.out_path}")
    out.print(f"MLflow scoring run {result.run_id} ({cfg.tracking.scoring_experiment_name()})")


LEAKAGE_SHOWN = 40
"""The leakage table prints at most this many columns, the most suspicious first."""


def print_leakage(table) -> None:
    """Print the per-column leakage table, then a warning for each column warned of or to confirm."""
    order = {"refuse": 0, "warn": 1, "confirm": 2, "allowed": 3, "ok": 4}
    shown = table.assign(_rank=table["verdict"].map(order)).sort_values(["_rank", "auc"], ascending=[True, False])
    grid = Table(title="leakage guard on the train rows: each column alone")
    for column in ("column", "AUC alone", "filled: winners", "filled: others", "win rate when filled", "verdict"):
        grid.add_column(column, justify="left" if column in ("column", "verdict") else "right")
    for r in shown.head(LEAKAGE_SHOWN).itertuples():
        grid.add_row(escape(str(r.feature)), f"{r.auc:.3f}", f"{r.filled_won:.0%}", f"{r.filled_other:.0%}",
                     f"{r.win_rate_filled:.1%}" if r.win_rate_filled == r.win_rate_filled else "—", r.verdict)
    out.print(grid)
    if len(shown) > LEAKAGE_SHOWN:
        out.print(f"({len(shown) - LEAKAGE_SHOWN} more columns, all ok)")
    for r in shown.itertuples():
        if r.verdict in ("warn", "confirm"):
            err.print(f"[yellow]warning:[/] leakage guard: '{escape(str(r.feature))}': {escape(r.reason)}; "
                      "if it is known before the outcome, list it under model.allow_features to say so")


def print_flat_summary(trained) -> None:
    """Print the split and why, the family, the backtest, the test figures, the verdict, and where things went."""
    result = trained.result
    m, r = result.metrics["model"], result.metrics["rule"]
    core, split = result.core, result.split
    for shift in core.shifts:
        err.print(f"[yellow]warning:[/] drift: {escape(shift)}; calibration used the most recent block")
    out.print(f"split {escape(split['why'])}")
    if "censoring" in split:
        out.print(f"left out: {escape(split['censoring'])}")
    out.print(f"rows: train {split['train_rows']:,}, calibration {split['calibration_rows']:,} (from {split['calibration_from']}), "
              f"test {split['test_rows']:,} (from {split['test_from']} to {split['last']}); calibration: {result.calibration_method}")
    choice = "; ".join(f"{c['candidate']} {c['validation_roc_auc']:.3f}" for c in core.selection.to_dict(orient="records"))
    out.print(f"family: {core.candidate.name} (validation ROC AUC over the latest labelled blocks: {choice})")
    out.print(f"backtest over the test rows, {len(core.backtest)} blocks, each scored by a model fitted on all rows before it: "
              + ", ".join(f"{f.model_roc_auc:.3f}" for f in core.backtest.itertuples()) + " ROC AUC per block (points table "
              + ", ".join(f"{f.rule_roc_auc:.3f}" for f in core.backtest.itertuples()) + ")"
              + ("; family per block: " + ", ".join(core.backtest["family"]) if "family" in core.backtest else ""))
    out.print(f"win rate: train {result.drift['win_rate_train']:.1%}, calibration {result.drift['win_rate_calibration']:.1%}, "
              f"test {result.drift['win_rate_test']:.1%} (mean predicted on test {result.drift['mean_predicted_test']:.1%})")
    out.print(f"test ROC AUC (backtest blocks pooled): model {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; "
              f"Brier {m['brier']:.4f} vs {r['brier']:.4f}; ECE {m['ece']:.3f} vs {r['ece']:.3f}")
    held = result.metrics["held_out"]["model"]
    out.print(f"one model fitted before all test rows: ROC AUC {held['roc_auc']:.3f}, ECE {held['ece']:.3f}")
    out.print("verdict:")
    for line in result.verdict:
        out.print(f"  - {escape(line)}")
    out.print(f"model bundle: {trained.bundle_dir}")
    out.print(f"report: {result.report_paths['html']}")
    out.print(f"MLflow run {trained.run_id}, registered as {trained.bundle.manifest['name']} version {trained.model_version} (alias challenger)")
    if trained.promotion is not None:
        out.print(escape(trained.promotion.reason))
