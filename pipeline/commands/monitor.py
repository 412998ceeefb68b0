"""`leadscore monitor`: judge past scores against the outcomes and stage changes that arrived since."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadscore.pipeline.commands.options import parse_date
from leadscore.pipeline.commands.train import ConfigOption, WorkdirOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import err, out

MONITOR_HELP = """Judge the scores of past runs against what happened next.

Reads the working folder's score history (every `leadscore score` run records its scores
there) and the CRM's outcomes and lifecycle stages, and reports per scoring date and model
version: realized conversion per grade and segment against the predicted, realized
calibration (reliability, ECE), AUC as labels mature, the threshold audit on the leads handed
over, the share of hot leads Sales recycled, and score drift. Dates whose horizon has not
passed show the expected conversion from the calibrated probabilities, as an estimate.

Exit codes: 0 ok; 2 bad input or no score history; 4 a threshold turned over-generous or
calibration drifted past monitor.max_ece (the report is written and says which).
"""


def monitor_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file holding the outcomes since.")],
    since: Annotated[str | None, typer.Option("--since", help="Only scoring runs as of this date or later.")] = None,
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
) -> None:
    from leadscore.pipeline.monitor import alert_error, run_monitor

    start = parse_date("--since", since) if since is not None else None
    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    result, paths, warnings = run_monitor(data, cfg, start, raise_on_alert=False)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    print_monitoring(result, paths)
    if result.alerts:
        raise alert_error(result, paths)


monitor_command.__doc__ = MONITOR_HELP


def print_monitoring(result, paths) -> None:
    """Print one line per run, the advice and where the report is."""
    for r in result.runs.itertuples():
        status = (f"realized {r.realized:.1%}, ECE {r.ece:.3f}, AUC {r.auc:.3f}" if r.matured else
                  f"estimate {r.predicted:.1%} (not matured: {r.days_elapsed} days of the horizon), {r.wins_so_far} wins so far")
        out.print(f"{r.as_of:%Y-%m-%d} v{r.model_version}: {r.leads:,} leads, predicted {r.predicted:.1%}, {status}")
    out.print(result.recommendation)
    out.print(f"report: {paths['html']}")
