"""`leadscore flat`: model vs points table on a flat lead export (one row per lead, an outcome column)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out


def flat_command(
    config: Annotated[Path, typer.Option("--config", help="YAML with a 'flat' section (see pipeline/conf/examples/bank_marketing.yaml).")],
    workdir: Annotated[Path | None, typer.Option("--workdir", help="Working folder for the report.")] = None,
) -> None:
    """Train, calibrate and compare with a points table on a flat lead table, split by time."""
    from leadscore.pipeline.flat import train_flat

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    with out.status("training on the flat table"):
        result = train_flat(cfg, base=Path.cwd(), config_dir=config.parent)
    from leadscore.pipeline.console import err

    m, r = result.metrics["model"], result.metrics["rule"]
    core = result.core
    for shift in core.shifts:
        err.print(f"warning: drift: {shift}; calibration used the most recent block")
    out.print(f"rows: train {result.split['train_rows']:,}, calibration {result.split['calibration_rows']:,}, test {result.split['test_rows']:,} "
              f"(calibration: {result.calibration_method})")
    choice = "; ".join(f"{c['candidate']} {c['validation_roc_auc']:.3f}" for c in core.selection.to_dict(orient="records"))
    out.print(f"family: {core.candidate.name} (validation ROC AUC: {choice})")
    out.print(f"backtest over the test rows, {len(core.backtest)} blocks, each scored by a model fitted on all rows before it: "
              + ", ".join(f"{f.model_roc_auc:.3f}" for f in core.backtest.itertuples()) + " ROC AUC per block (points table "
              + ", ".join(f"{f.rule_roc_auc:.3f}" for f in core.backtest.itertuples()) + ")")
    out.print(f"win rate: train {result.drift['win_rate_train']:.1%}, calibration {result.drift['win_rate_calibration']:.1%}, "
              f"test {result.drift['win_rate_test']:.1%} (mean predicted on test {result.drift['mean_predicted_test']:.1%})")
    out.print(f"test ROC AUC (backtest blocks pooled): model {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; "
              f"Brier {m['brier']:.4f} vs {r['brier']:.4f}; ECE {m['ece']:.3f} vs {r['ece']:.3f}")
    held = result.metrics["held_out"]["model"]
    out.print(f"one model fitted before all test rows: ROC AUC {held['roc_auc']:.3f}, ECE {held['ece']:.3f}")
    out.print(f"report: {result.report_paths['html']}")
