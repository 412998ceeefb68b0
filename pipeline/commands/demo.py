"""`leadscore demo`: the whole pipeline on a generated CRM, the first command a new user runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out


def demo_command(
    leads: Annotated[int, typer.Option("--leads", min=500, help="Leads in the generated CRM.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated CRM.")] = 42,
    months: Annotated[int, typer.Option(min=18, help="Months of generated history.")] = 30,
    workdir: Annotated[Path, typer.Option("--workdir", help="The one folder every artefact goes to.")] = Path("leadscore-work"),
    config: ConfigOption = None,
    lifecycle: Annotated[bool, typer.Option("--lifecycle", help="Also generate the CRM's lifecycle table (handoffs to Sales, "
                                            "Sales accepting or recycling) for the handoff audit and monitoring; slower.")] = False,
) -> None:
    """Generate a CRM, validate it, train, evaluate rule vs model, promote the champion and score every open lead."""
    from leadscore.pipeline.demo import run_demo

    cfg = load_config(config, workdir=str(workdir))
    out.print(f"[bold]leadscore demo[/] — everything goes to {Catalog.of(cfg).root.resolve()}")
    result = run_demo(cfg, leads=leads, seed=seed, months=months, say=lambda line: out.print(line), lifecycle=lifecycle)
    report = result.train.report_paths["html"]
    out.print("")
    out.print("[bold]verdict[/]")
    for line in _verdict(report.with_name("metrics.json")):
        out.print(f"  - {line}")
    out.print("")
    out.print("[bold]monitoring[/]")
    out.print(f"  - {result.monitor.recommendation}")
    for line in result.monitor.alerts:
        out.print(f"  - {line}")
    out.print("")
    out.print(f"report:  {report.resolve()}")
    out.print(f"monitor: {result.monitor_paths['html'].resolve()}")
    out.print(f"scores:  {result.score.out_path.resolve()}")
    out.print(f"model:   models:/{cfg.tracking.model_name}@champion (version {result.train.model_version})")
    out.print(f"MLflow UI: mlflow ui --backend-store-uri {cfg.tracking_uri()}")
    out.print(f"settings: {(Catalog.of(cfg).demo_data / 'leadscore.yaml').resolve()} (the CRM's competitors: pass it with "
              "--config to train on this data again; a trained model keeps its feature settings)")
    out.print(f"done in {result.seconds:.0f} s")


def _verdict(metrics_json: Path) -> list[str]:
    import json

    return json.loads(metrics_json.read_text())["verdict"]
