"""`leadscore generate`: write a synthetic B2B CRM to a folder."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from leadscore.pipeline.commands.options import parse_date
from leadscore.pipeline.console import out as _out
from rich.table import Table

from leadscore.features.synthetic import generate_crm, write_crm


class CrmFormat(str, Enum):
    """File formats a generated CRM can be written in; typer refuses any other before generating."""

    parquet = "parquet"
    csv = "csv"


class CrmSegments(str, Enum):
    """How the generated leads' behaviour differs by segment (`features.synthetic.SEGMENTS`)."""

    none = "none"
    events = "events"


class CrmVocabulary(str, Enum):
    """The activity vocabularies a generated CRM can speak (`features.synthetic.VOCABULARIES`)."""

    builtin = "built-in"
    custom = "custom"


def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write leads, activities, opportunities and truth to.")],
    leads: Annotated[int, typer.Option("--leads", min=10, help="Number of leads.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same CRM.")] = 0,
    start: Annotated[str, typer.Option(help="First day of the CRM's history (UTC).")] = "2024-01-01",
    months: Annotated[int, typer.Option(min=4, help="Months of history.")] = 24,
    fmt: Annotated[CrmFormat, typer.Option("--format", help="File format of the tables.")] = CrmFormat.parquet,
    vocabulary: Annotated[CrmVocabulary, typer.Option(
        "--vocabulary", help="Activity type names: the 14 built-in ones, or 28 of the CRM's own (custom) with no channel "
                             "column, declared in the leadscore.yaml written beside the tables.")] = CrmVocabulary.builtin,
    lifecycle: Annotated[bool, typer.Option("--lifecycle", help="Also write the lifecycle table: MQL when the packaged points "
                                            "table crosses its threshold, Sales accepting or recycling, deals.")] = False,
    segments: Annotated[CrmSegments, typer.Option(
        "--segments", help="none: every lead behaves alike; events: leads in DE, FR, NL and ES show intent at "
                           "events and webinars, not in email or on the web (README: Segments).")] = CrmSegments.none,
    sync_days: Annotated[int, typer.Option("--sync-days", min=1, help="With --lifecycle: days between two points-table "
                                           "syncs (each scores every open lead).")] = 7,
) -> None:
    """Generate a synthetic B2B CRM (with the hidden truth in truth.parquet)."""
    first_day = str(parse_date("--start", start).date())
    with _out.status(f"generating {leads:,} leads over {months} months"):
        crm = generate_crm(leads, seed=seed, start=first_day, months=months, vocabulary=vocabulary.value,
                           segments=segments.value)
        if lifecycle:
            from leadscore.pipeline.synthetic_lifecycle import with_lifecycle

            crm = with_lifecycle(crm, sync_days)
        paths = write_crm(crm, out, fmt=fmt.value)
    print_crm_summary(crm)
    _out.print(f"written to [bold]{Path(out)}[/] ({', '.join(p.name for p in paths.values())})")
    what = "its competitors' names" + (", the declarations of its activity types" if vocabulary is CrmVocabulary.custom else "")
    _out.print(f"train with its settings ({what}): leadscore train --data {Path(out)} --config {paths['settings']}")


def print_crm_summary(crm) -> None:
    """Print rows per table and outcomes of a generated CRM."""
    table = Table(title="synthetic CRM", show_header=True)
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("detail")
    outcomes = crm.opportunities["outcome"].value_counts().to_dict()
    table.add_row("leads", f"{len(crm.leads):,}", f"created {crm.start.date()} to {crm.end.date()}")
    table.add_row("activities", f"{len(crm.activities):,}", f"{crm.activities['activity_type'].nunique()} types")
    table.add_row("opportunities", f"{len(crm.opportunities):,}", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    if crm.lifecycle is not None:
        stages = crm.lifecycle["stage"].value_counts().to_dict()
        table.add_row("lifecycle", f"{len(crm.lifecycle):,}", ", ".join(f"{k} {v:,}" for k, v in stages.items()))
    _out.print(table)
