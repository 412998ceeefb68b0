"""`leadscore evaluate`: the rule-vs-model report for a registered model on its test slice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.pipeline.commands.train import ConfigOption, WorkdirOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out


def evaluate_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    model: Annotated[str | None, typer.Option("--model", help="models:/NAME@ALIAS or models:/NAME/VERSION (default: the champion).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for report.html, summary.md and metrics.json.")] = None,
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
) -> None:
    """Compare the model with the points table on held-out leads; flag over-generous thresholds."""
    from leadscore.pipeline.evaluate import evaluate

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    with out.status("rebuilding the test slice and scoring it"):
        evaluation, paths = evaluate(data, cfg, model=model, out=out_dir)
    for line in evaluation.verdict:
        out.print(f"- {line}")
    out.print(f"report: {paths['html']}")
