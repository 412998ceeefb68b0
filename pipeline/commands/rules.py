"""`leadscore rules --check`: validate a points table against the feature registry and print it; `rules fit`: fit one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from leadscore.pipeline.console import out as _out
from rich.table import Table

from leadscore.features.registry import all_features
from leadscore.features.vocabulary import produced_roles
from leadscore.models.rules.table import check_against_registry, condition_text, load_points_table, vocabulary_problem, without_unbuilt_rules
from leadscore.pipeline.console import err as _err
from rich.markup import escape
from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config


rules_command = typer.Typer(help="Validate a points table (`--check`), or fit one to a CRM (`rules fit`).", no_args_is_help=False)


@rules_command.callback(invoke_without_command=True)
def check_command(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Validate the table and print it.")] = True,
    table: Annotated[Path | None, typer.Option("--table", help="Points table YAML (default: the config's points_table, else the packaged one).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="A CRM: check against the features it produces (its activity types and lead columns) and name every rule whose feature it does not produce.")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate a points table (rules, caps, thresholds) and print it.

    The features a table may name depend on the config (its windows name features such as
    `web_visit_count_14d`; its extra lead attributes add features), so the check reads it.
    """
    if ctx.invoked_subcommand is not None:
        return
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


@rules_command.command("fit")
def fit_command(
    data: Annotated[Path, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the fitted table (YAML); the CSV for a marketing-automation tool goes beside it.")],
    start: Annotated[Path | None, typer.Option("--from", help="Your points table: keep its rules, propose new points for them and a few added or dropped rules.")] = None,
    config: ConfigOption = None,
) -> None:
    """Fit a sparse integer points table on the training slice (the same time split as training: test leads are never seen)."""
    from leadscore.features.dataset import build_training_set
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.catalog import engine_settings
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.rules_fitting import fit_table_on_split, write_exports
    from leadscore.pipeline.split import split_by_time

    cfg = load_config(config)
    with _out.status("building snapshots and features, fitting the points table"):
        crm = load_crm(data, engine_settings(cfg))
        cfg = fit_to_crm(cfg, crm)
        training = build_training_set(crm, cfg.for_features)
        registry = {f.name: f for f in all_features(cfg.for_features)}
        current = load_points_table(start if start is not None else cfg.points_table)
        current = without_unbuilt_rules(current, registry) if start is None and cfg.points_table is None else current
        if start is not None:
            check_against_registry(current, registry)
        split = split_by_time(training.frame, cfg)
        fitted = fit_table_on_split(training.frame, training.feature_names, split, cfg, registry, current,
                                    start=current if start is not None else None)
        paths = write_exports(fitted.table, out)
    print_fitted(fitted)
    _out.print(f"written: {paths['yaml']} and {paths['csv']}; check it with `leadscore rules --check --table {paths['yaml']}`")


def print_fitted(fitted) -> None:
    """Print the fitted table as a card and its rule-by-rule diff with the current table."""
    table = fitted.table
    half_life = f"{fitted.half_life_days:g} days" if fitted.half_life_days else "none"
    shown = Table(title=f"fitted points table: {len(table.rules)} rules, decay half-life {half_life}")
    for column in ("rule", "condition", "points"):
        shown.add_column(column, justify="right" if column == "points" else "left")
    for rule in table.rules:
        shown.add_row(escape(rule.text), escape(condition_text(rule)), f"{rule.points:+g}")
    _out.print(shown)
    t = table.thresholds
    _out.print(f"thresholds (chosen on the calibration slice): MQL {t.stages['MQL']:g}, SQL {t.stages['SQL']:g}, "
               f"nurture {t.segments['nurture']:g}, hot {t.segments['hot']:g}")
    for item in fitted.evidence:
        if item.change != "kept":
            _out.print(f"- {escape(item.describe())}")
    for item in fitted.evidence:
        if item.contradicted:
            _out.print(f"[yellow]the evidence contradicts the sign of[/] {escape(item.text)} ({item.old_points:+g})")
