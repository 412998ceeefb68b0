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
    _print_lead_columns(crm, cfg)


def _print_lead_columns(crm, cfg) -> None:
    """Print which optional lead columns give features, and the extra columns used or not (checked against their types)."""
    from leadscore.features.contract import OPTIONAL_LEAD_COLUMNS
    from leadscore.features.lead_columns import present_lead_columns
    from leadscore.pipeline.lead_columns import for_crm

    fitted = for_crm(cfg, crm).features
    lacking = [c for c in OPTIONAL_LEAD_COLUMNS if not fitted.has_lead_column(c)]
    if lacking:
        out.print(f"lead columns the leads table lacks (no features from them): {escape(', '.join(lacking))}")
    declared = set(fitted.extra_lead_columns) | set(OPTIONAL_LEAD_COLUMNS) | {"lead_id", "created_at"}
    used = [f"{c} ({kind})" for c, kind in fitted.extra_lead_columns.items()]
    unused = [c for c in present_lead_columns(crm) if c not in declared]
    if used:
        out.print(f"extra lead columns used: {escape(', '.join(used))}")
    if unused:
        out.print(f"extra lead columns not used (declare them in features.extra_lead_columns as numeric, categorical, "
                  f"boolean or date to use them): {escape(', '.join(unused))}")
