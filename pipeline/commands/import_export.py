"""`leadscore import`: turn a Salesforce or HubSpot export folder into a CRM folder leadscore reads."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadscore.pipeline.console import out
from leadscore.pipeline.errors import BadInputError


class Vendor(str, Enum):
    """CRMs whose standard exports leadscore maps; typer refuses any other before reading a file."""

    salesforce = "salesforce"
    hubspot = "hubspot"


class TableFormat(str, Enum):
    """File formats the imported tables can be written in."""

    parquet = "parquet"
    csv = "csv"


def import_command(
    vendor: Annotated[Vendor, typer.Argument(help="Whose export the folder holds.")],
    source: Annotated[Path, typer.Argument(help="Folder of the export's CSV files (Lead.csv, Task.csv, ... or contacts, calls, deals, ...).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write leads, activities, opportunities and leadscore.yaml to.")],
    fmt: Annotated[TableFormat, typer.Option("--format", help="File format of the tables.")] = TableFormat.parquet,
    timezone: Annotated[str, typer.Option("--timezone", help="HubSpot: time zone of times without an offset (the account's, e.g. Europe/Lisbon).")] = "UTC",
) -> None:
    """Import a Salesforce or HubSpot export: the contract tables and a vocabulary config of its activity types."""
    from leadscore.pipeline.adapters import exports, hubspot, salesforce

    exports.check_timezone(timezone)
    if vendor is Vendor.salesforce:
        if timezone != "UTC":
            raise BadInputError("--timezone: a Salesforce export writes every time in UTC with a 'Z'; leave it out")
        result = salesforce.from_salesforce(salesforce.read_salesforce(source))
    else:
        result = hubspot.from_hubspot(hubspot.read_hubspot(source), timezone)
    paths = exports.write_import(result, out_dir, vendor.value, fmt.value)
    table = Table(title=f"{vendor.value} export {source}")
    table.add_column("activity type")
    table.add_column("rows", justify="right")
    table.add_column("role")
    counts = result.activities["activity_type"].value_counts()
    for name, declared in result.vocabulary.items():
        table.add_row(escape(name), f"{counts.get(name, 0):,}", declared.role)
    out.print(table)
    out.print(f"leads {len(result.leads):,}, activities {len(result.activities):,}, opportunities {len(result.opportunities):,} "
              f"(won {int((result.opportunities['outcome'] == 'won').sum()):,})")
    for note in result.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")
    out.print(f"written to [bold]{escape(str(out_dir))}[/] ({', '.join(p.name for p in paths.values())}); "
              f"edit the roles in {paths['settings'].name} and pass it with --config")
