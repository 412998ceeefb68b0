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
    m, r = result.metrics["model"], result.metrics["rule"]
    out.print(f"rows: train {result.split['train_rows']:,}, calibration {result.split['calibration_rows']:,}, test {result.split['test_rows']:,} "
              f"(calibration: {result.calibration_method})")
    out.print(f"win rate: train {result.drift['win_rate_train']:.1%}, calibration {result.drift['win_rate_calibration']:.1%}, "
              f"test {result.drift['win_rate_test']:.1%} (mean predicted on test {result.drift['mean_predicted_test']:.1%})")
    out.print(f"test ROC AUC: model {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; Brier {m['brier']:.4f} vs {r['brier']:.4f}; "
              f"ECE {m['ece']:.3f} vs {r['ece']:.3f}")
    out.print(f"report: {result.report_paths['html']}")
