"""`leadscore rules --check`: validate a points table against the feature registry and print it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from leadscore.pipeline.console import out as _out
from rich.table import Table

from leadscore.features.registry import all_features
from leadscore.features.vocabulary import produced_roles
from leadscore.models.rules.table import check_against_registry, load_points_table, vocabulary_problem, without_unbuilt_rules
from leadscore.pipeline.console import err as _err
from rich.markup import escape
from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config


def rules_command(
    check: Annotated[bool, typer.Option("--check", help="Validate the table and print it.")] = True,
    table: Annotated[Path | None, typer.Option("--table", help="Points table YAML (default: the config's points_table, else the packaged one).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="A CRM: check against the features it produces (its activity types and lead columns) and name every rule whose feature it does not produce.")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate a points table (rules, caps, thresholds) and print it.

    The features a table may name depend on the config (its windows name features such as
    `web_visit_count_14d`; its extra lead attributes add features), so the check reads it.
    """
    cfg = load_config(config)
    if data is not None:
        from leadscore.features.engines import open_engine
        from leadscore.pipeline.catalog import engine_settings
        from leadscore.pipeline.crm_settings import fit_to_crm

        engine = open_engine(data, engine_settings(cfg))
        cfg = fit_to_crm(cfg, engine)
    path = table if table is not None else cfg.points_table
    points = load_points_table(path)
    features = {f.name: f for f in all_features(cfg.for_features)}
    problem = vocabulary_problem(points, features, produced_roles(cfg.for_features), packaged=path is None,
                                 data=None if data is None else str(engine.source))
    points = without_unbuilt_rules(points, features) if path is None else points
    check_against_registry(points, features)
    shown = Table(title=f"points table '{points.name}' v{points.version} ({points.source})")
    for column in ("id", "feature", "family", "condition", "points", "decay / per / cap"):
        shown.add_column(column, justify="right" if column == "points" else "left")
    for rule in points.rules:
        extra = []
        if rule.decay:
            d = rule.decay
            extra.append(f"half-life {d.half_life_days:g}d" if d.half_life_days else f"within {d.within_days:g}d")
        if rule.per:
            extra.append(f"per {rule.per:g}")
        if rule.cap is not None:
            extra.append(f"cap {rule.cap:g}")
        shown.add_row(rule.id, rule.feature, features[rule.feature].family, rule.condition.describe(), f"{rule.points:+g}", ", ".join(extra))
    _out.print(shown)
    caps = ", ".join(f"{family} [{c.min:g}, {c.max:g}]" for family, c in points.caps.items())
    _out.print(f"caps: {caps}; total [{points.total.min:g}, {points.total.max:g}]")
    t = points.thresholds
    _out.print(f"stages: MQL from {t.stages['MQL']:g}, SQL from {t.stages['SQL']:g}; "
               f"segments: nurture from {t.segments['nurture']:g}, hot from {t.segments['hot']:g}")
    if problem:
        _err.print(f"[yellow]warning:[/] {escape(problem)}")
        _out.print("[yellow]the table is valid, but does not fit the CRM's activity vocabulary[/]")
        return
    _out.print("[green]the table is valid[/]")
