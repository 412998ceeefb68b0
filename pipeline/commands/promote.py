"""`leadscore promote`: apply the promotion policy to the challenger (or a named version).

With a config that has a `flat` section, the version considered is the flat model's (`flat.model_name`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.pipeline.config import load_config
from leadscore.pipeline.console import out

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML file overriding the packaged defaults.")]
WorkdirOption = Annotated[Path | None, typer.Option("--workdir", help="Working folder for models, reports and the MLflow store.")]


def promote_command(
    version: Annotated[str | None, typer.Option("--version", help="Model version to consider (default: the challenger).")] = None,
    config: ConfigOption = None,
    workdir: WorkdirOption = None,
) -> None:
    """Make a model version champion if, on its test slice, it beats the champion and the points table."""
    from leadscore.pipeline import tracking
    from leadscore.pipeline.errors import TrackingError
    from leadscore.pipeline.champion import promote_version

    cfg = load_config(config, workdir=str(workdir) if workdir else None)
    if cfg.flat is not None:  # a config with a flat section trains, scores and so promotes the flat model
        from leadscore.pipeline.flat_train import flat_tracking

        cfg = flat_tracking(cfg)
    trainer = "flat train --config FILE" if cfg.flat is not None else "train --data DIR"
    version = version or tracking.alias_version(cfg, tracking.CHALLENGER)
    if version is None:
        raise TrackingError(f"no challenger in {cfg.tracking_uri()}: train a model first (`leadscore {trainer}`)")
    # the version's own run logged its and the points table's scores on its test slice and their
    # backtest means; promote_version compares the backtest means (the test slice without one)
    logged = tracking.version_metrics(cfg, version)
    metric = cfg.tracking.promotion_metric
    if f"test_{metric}" not in logged:
        raise TrackingError(f"version {version} of {cfg.tracking.model_name} has no logged test_{metric}: "
                            f"it was not registered by `leadscore {trainer.split(' --')[0]}`")
    metrics = {"model": {metric: logged[f"test_{metric}"]}, "rule": {metric: logged[f"rule_test_{metric}"]}}
    if f"backtest_{metric}" in logged and f"rule_backtest_{metric}" in logged:
        metrics["backtest"] = {"model": {metric: logged[f"backtest_{metric}"]}, "rule": {metric: logged[f"rule_backtest_{metric}"]}}
    decision = promote_version(cfg, version, metrics)
    out.print(f"version {version}: {decision.reason}")
