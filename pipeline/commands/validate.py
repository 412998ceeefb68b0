"""`leadscore validate`: check a CRM against the data contract and explain its activity vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import err, out

def validate_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    config: ConfigOption = None,
) -> None:
    """Check a CRM's leads, activities and opportunities against the data contract."""
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.catalog import engine_settings

    cfg = load_config(config)
    crm = load_crm(data, engine_settings(cfg))  # spills where every other stage does
    s = crm.summary
    table = Table(title=f"{crm.source} meets the data contract")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in ("leads", "activities", "opportunities", "lifecycle"):
        if f"{name}_rows" in s:
            table.add_row(name, f"{s[f'{name}_rows']:,}")
    out.print(table)
    out.print(f"data up to {crm.data_end:%Y-%m-%d %H:%M} UTC; exact duplicate activities dropped: {s['duplicate_activities_dropped']:,}")
    if "validated_parts" in s:
        out.print(escape(s["validated_parts"].text()))
    ignored = [f"{name}.{column}" for name, columns in s.get("ignored_columns", {}).items() for column in columns]
    if ignored:
        out.print(f"[yellow]columns outside the data contract, not read:[/] {escape(', '.join(ignored))}")
    explain_vocabulary(crm, cfg)
    _print_lead_columns(crm, cfg)
    _print_lifecycle(crm, cfg)


def _print_lifecycle(crm, cfg) -> None:
    """Print the lifecycle table's entries per role, and warn naming its rows of unknown leads or out of order."""
    from leadscore.features.lifecycle import has_lifecycle, lifecycle_events

    if not has_lifecycle(crm):  # optional: nothing to say about a table a CRM need not have
        return
    events, warnings = lifecycle_events(crm, cfg.lifecycle)
    counts = events.groupby(["stage", "role"]).size().sort_values(ascending=False)
    out.print("lifecycle stages: " + escape(", ".join(f"{stage} → {role} ({n:,})" for (stage, role), n in counts.items())))
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def explain_vocabulary(crm, cfg) -> None:
    """Print every activity type with its rows and the meaning it got, a YAML section for the undeclared ones,
    and a warning naming the rows whose channel contradicts their type's declaration."""
    from leadscore.features.vocabulary import resolve, undeclared_snippet, with_present_types
    from leadscore.pipeline.vocabulary import warn_channel_contradictions

    counts = crm.summary.get("activity_types", {})
    vocabulary = resolve(with_present_types(cfg.for_features, counts))
    table = Table(title="activity types (column 'activity_type')")
    for column in ("activity_type", "rows", "role", "meaning from", "label", "family", "channel", "value"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for t in sorted((t for t in vocabulary.types if t.raw in counts), key=lambda t: (-counts[t.raw], t.raw)):
        origin = "undeclared: custom" if t.origin == "undeclared" else t.origin
        table.add_row(escape(t.raw), f"{counts[t.raw]:,}", t.role, origin, escape(t.label), t.family, t.channel, t.value)
    out.print(table)
    undeclared = [t for t in vocabulary.types if t.origin == "undeclared"]
    if undeclared:
        out.print(f"{len(undeclared)} activity type{'s are' if len(undeclared) > 1 else ' is'} undeclared: each gets features of "
                  "its own as a custom implicit online type labelled with its raw name. To say what they mean, put this in "
                  "the file you pass with --config and edit it (a built-in role makes a type an alias of it):")
        out.print(escape(undeclared_snippet(vocabulary)), highlight=False, soft_wrap=True)
    warn_channel_contradictions(crm, cfg)


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
