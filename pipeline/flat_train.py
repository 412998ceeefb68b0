"""Run `flat train`: train on a flat export, save the bundle, register it in MLflow and optionally promote it.

The lifecycle is the CRM path's (`pipeline.train`): the bundle's model file is hashed and the
hash recorded by the MLflow run and registered version, the new version becomes `challenger`,
and `champion` moves only when the promotion policy (`pipeline.promotion`) says it wins on the
backtest mean. The flat model is registered under `flat.model_name`, apart from the CRM model,
whose features mean other things. The manifest records how the export was read (blank tokens,
column kinds, id column), so `flat score` reads new rows exactly as training read its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from leadscore.models.bundle import ModelBundle, save_bundle, schema_of
from leadscore.models.serving import example_rows
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat import FlatResult, train_flat


@dataclass
class FlatTrainResult:
    """A trained flat model: the training figures, where the bundle went, and its registry version."""

    result: FlatResult
    bundle_dir: Path
    bundle: ModelBundle
    run_id: str
    model_version: str
    promotion: object = None


def flat_tracking(config: Config) -> Config:
    """Return `config` with the registered model's name set to the flat model's (`flat.model_name`)."""
    if config.flat is None:
        raise BadInputError("the config has no 'flat' section: see pipeline/conf/examples/bank_marketing.yaml")
    return config.model_copy(update={"tracking": config.tracking.model_copy(update={"model_name": config.flat.model_name})})


def train_flat_model(config: Config, base: Path | None = None, config_dir: Path | None = None, promote: bool = False,
                     on_leakage: Callable[[pd.DataFrame], None] | None = None) -> FlatTrainResult:
    """Train on the flat export, save and register the deployed model, and promote it if asked and it wins."""
    from leadscore.pipeline import tracking
    from leadscore.pipeline.champion import promote_version
    from leadscore.pipeline.run_record import fold_metrics, training_metrics

    config = flat_tracking(config)
    tracking.client(config)  # fail fast, before training, if the store is unreachable
    result = train_flat(config, base=base, config_dir=config_dir, on_leakage=on_leakage)
    trained_at = pd.Timestamp.now(tz="UTC")
    core = result.core
    deployed = core.deployed
    bundle = ModelBundle(calibrated=deployed.calibrated, model=deployed.model, points=deployed.points,
                         manifest=_manifest(result, config, trained_at, base), holdout=core.holdout.calibrated,
                         holdout_points=core.holdout.points)
    folder = Catalog.of(config).new_bundle_dir(trained_at)
    save_bundle(bundle, folder)
    names = list(result.kinds)
    test = result.rows.loc[result.masks["test"], ["as_of", "label", *names]].reset_index(drop=True)
    test.to_parquet(Catalog.test_slice(folder), index=False)
    run_id, version = tracking.log_training_run(
        config, folder, _params(result, config), training_metrics(result.metrics), list(result.report_paths.values()),
        example_rows(result.rows[names]), tags={"leadscore.stage": "flat-train", "leadscore.bundle": folder.name},
        bundle=bundle, steps=fold_metrics(core.backtest), test_slice=Catalog.test_slice(folder))
    promotion = promote_version(config, version, result.metrics) if promote else None
    return FlatTrainResult(result, folder, bundle, run_id, version, promotion)


def _manifest(result: FlatResult, config: Config, trained_at: pd.Timestamp, base: Path | None = None) -> dict:
    """Return the bundle manifest: how to read the export, the feature schema, the points table, the figures.

    A joined file's path is kept absolute, so `flat score` run from another folder joins the same file.
    """
    from leadscore.pipeline.flat_join import join_path
    from leadscore.pipeline.flat_split import word_periods

    flat, core = config.flat, result.core
    names = list(result.kinds)
    return {
        "name": config.tracking.model_name,
        "flat": {"id_column": flat.id_column, "outcome_column": flat.outcome_column, "delimiter": flat.delimiter,
                 "na_values": list(flat.na_values), "kinds": result.kinds, "explicit": list(flat.explicit),
                 "join": [{**j.model_dump(mode="json"), "path": str(join_path(j, base).resolve())} for j in flat.join],
                 "date_features": {k: list(v) for k, v in flat.date_features.items()},
                 "reference_column": flat.reference_column},
        "features": schema_of(result.rows[names], core.deployed.model.categories_),
        "points_table": core.deployed.points.table_.model_dump(mode="json"),
        "split": result.split,
        **result.training, "backtest": word_periods(core.backtest, result.choice).to_dict(orient="records"),
        "calibration_method": result.calibration_method,
        "leakage": result.leakage.to_dict(orient="records"),
        "best_iteration": getattr(core.holdout.model, "best_iteration_", None),
        "metrics": result.metrics,
        "grades": config.grades.model_dump(),
        "trained_at": trained_at.isoformat(),
    }


def _params(result: FlatResult, config: Config) -> dict:
    """Return the parameters the MLflow run logs: the export, the split, the family, the calibration."""
    flat = config.flat
    return {"flat_path": flat.path, "split_by": result.split["by"], "periods": flat.periods,
            "train_rows": result.split["train_rows"], "calibration_rows": result.split["calibration_rows"],
            "test_rows": result.split["test_rows"], "features": len(result.kinds), "family": result.core.candidate.family,
            "candidate": result.core.candidate.name, "calibration_method": result.calibration_method,
            "points_table": result.core.deployed.points.table_.name, "backtest_folds": config.backtest.folds,
            "negative_sampling": config.model.negative_sampling,
            **{k: result.split[k] for k in ("immature_rows", "late_wins", "export_end") if k in result.split}}
