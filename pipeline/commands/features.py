"""`leadscore features`: list the registered features, or write the feature frame for a CRM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadscore.pipeline.commands.options import LogFormatChoice, LogFormatOption, QuietOption, parse_date
from leadscore.pipeline.commands.train import ConfigOption
from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.io import check_frame_target, write_frame
from leadscore.pipeline.run_log import RunLog, run_log


def features_command(
    data: Annotated[Path | None, typer.Option("--data", help="CRM folder (CSV/Parquet) or DuckDB file.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Parquet file for the feature frame (written atomically).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="One snapshot of every open lead at this date (default: training snapshots with labels).")] = None,
    training: Annotated[bool, typer.Option("--training", help="Training snapshots with labels (the default without --as-of).")] = False,
    list_features: Annotated[bool, typer.Option("--list", help="List every registered feature and exit (with --data: "
                                                "those this CRM gives: its own activity types and its lead columns).")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="duckdb (one machine, default) or spark (Parquet input on any path Spark reads).")] = None,
    config: ConfigOption = None,
    log_format: LogFormatOption = LogFormatChoice.text,
    quiet: QuietOption = False,
) -> None:
    """Build point-in-time features (explicit, implicit, negative) for every snapshot."""
    cfg = load_config(config, engine={"name": engine} if engine else None)
    if list_features:
        from rich.markup import escape

        from leadscore.features.registry import BUILT_IN_FAMILIES, all_features
        from leadscore.pipeline.vocabulary import custom_type_count

        if data is not None:
            from leadscore.features.engines import open_engine
            from leadscore.pipeline.catalog import engine_settings
            from leadscore.pipeline.crm_settings import fit_to_crm

            cfg = fit_to_crm(cfg, open_engine(data, engine_settings(cfg)))
        table = Table(title="registered features")
        for column in ("name", "family", "type", "module", "activity types", "description"):
            table.add_column(column)
        for f in all_features(cfg.for_features):
            built_in = f.module in BUILT_IN_FAMILIES
            table.add_row(f.name, f.family, f.dtype, f.module.rpartition(".")[2] if built_in else f"{f.module} (plug-in)",
                          escape(", ".join(f.roles)), escape(f.description))
        out.print(table)
        out.print(f"{custom_type_count(cfg)} custom activity type(s) with features of their own"
                  + ("" if data is not None else " (pass --data to list those of a CRM)"))
        return
    if training and as_of:
        raise BadInputError("leadscore features takes --as-of DATE or --training, not both")
    if data is None or out_path is None:
        raise BadInputError("leadscore features needs --data and --out (or --list)")
    when = parse_date("--as-of", as_of) if as_of else None
    check_frame_target(out_path)
    with run_log(log_format.value, quiet, "features") as log:
        _write_features(data, when, out_path, cfg, log)


def _write_features(data: Path, when, out_path: Path, cfg, log: RunLog) -> None:
    """Load the CRM, build the feature frame of scoring (`when`) or training snapshots, and write it, each a stage of `log`."""
    from leadscore.features.dataset import build_training_set
    from leadscore.features.engines import open_engine
    from leadscore.features.snapshots import scoring_snapshots, split_population
    from leadscore.pipeline.catalog import engine_settings
    from leadscore.pipeline.crm_settings import fit_to_crm

    with log.stage("load", "validated", f"reading and validating {data}") as end:
        crm = open_engine(data, engine_settings(cfg))
        cfg = fit_to_crm(cfg, crm)
        end.report(f"{crm.source} on {crm.name}, data up to {crm.data_end:%Y-%m-%d}", source=str(crm.source), engine=crm.name,
                   data_end=str(crm.data_end))
    with log.stage("features", "built", f"building features on {crm.name}") as end:
        if when is not None:
            # the leads scoring would score: the population rule applies as it does there
            frame = crm.features(split_population(scoring_snapshots(crm, when), cfg.population)[0], cfg.for_features)
            end.report(f"{len(frame):,} lead-snapshots x {frame.shape[1]} columns", snapshots=len(frame), columns=frame.shape[1])
        else:
            training = build_training_set(crm, cfg.for_features)
            frame, made = training.frame, training.summary
            end.report(f"{len(frame):,} lead-snapshots x {frame.shape[1]} columns on {made['dates']} dates, {made['positives']:,} won "
                       f"within the horizon, {made['censored']:,} censored and dropped", snapshots=len(frame), columns=frame.shape[1],
                       dates=made["dates"], positives=made["positives"], censored=made["censored"])
    with log.stage("write", "written", f"writing {out_path}") as end:
        write_frame(frame, out_path)
        end.report(f"{len(frame):,} rows to {out_path}", path=str(out_path), rows=len(frame))
    out.print(f"wrote {len(frame):,} rows x {frame.shape[1]} columns to {out_path} ({crm.name})")
