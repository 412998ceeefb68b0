"""`leadscore validate`: check a CRM against the data contract without training anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out


def validate_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    config: ConfigOption = None,
) -> None:
    """Check a CRM's leads, activities and opportunities against the data contract."""
    from leadscore.features.loaders import load_crm

    cfg = load_config(config)
    crm = load_crm(data, cfg.engine)
    s = crm.summary
    table = Table(title=f"{crm.source} meets the data contract")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in ("leads", "activities", "opportunities"):
        table.add_row(name, f"{s[f'{name}_rows']:,}")
    out.print(table)
    out.print(f"data up to {crm.data_end:%Y-%m-%d %H:%M} UTC; exact duplicate activities dropped: {s['duplicate_activities_dropped']:,}")
    ignored = [f"{name}.{column}" for name, columns in s.get("ignored_columns", {}).items() for column in columns]
    if ignored:
        out.print(f"[yellow]columns outside the data contract, not read:[/] {escape(', '.join(ignored))}")
