"""Name the parameters and metrics a training or scoring run logs to MLflow (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def training_params(result, config) -> dict:
    """Return the parameters of a training run: windows, population, calibration, model settings and split sizes."""
    manifest = result.bundle.manifest
    deployed = manifest.get("deployed", {})
    return {
        "horizon_days": config.windows.horizon_days,
        "slide_days": config.windows.slide_step / pd.Timedelta(days=1) if config.windows.slide else config.windows.slide_days,
        "population_open_opportunities": config.population.open_opportunities,
        "population_left_out_snapshots": result.summary.get("in_sales_pipeline_left_out", 0),
        "calibration_method": result.calibration_method, "best_iteration": manifest["best_iteration"],
        "features": len(result.bundle.feature_names), "points_table": result.bundle.points.table_.name,
        "family": manifest.get("family"), "candidate": manifest.get("candidate"),
        "negative_sampling": config.model.negative_sampling, "backtest_folds": config.backtest.folds,
        **{f"deployed_{part}": f"{span['first_as_of']} to {span['last_as_of']} ({span['rows']} rows, {span['wins']} wins)"
           for part, span in deployed.items() if isinstance(span, dict)},
        **{f"lgbm_{k}": v for k, v in config.model.params.items()},
        **{f"split_{k}_rows": v["rows"] for k, v in result.split.items() if isinstance(v, dict)},
    }


def training_metrics(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    """Return both scorers' test metrics (`test_*`, `rule_test_*`) and backtest means (`backtest_*`, `rule_backtest_*`)."""
    out = {f"test_{k}": v for k, v in metrics["model"].items()} | {f"rule_test_{k}": v for k, v in metrics["rule"].items()}
    backtest = metrics.get("backtest", {})
    out |= {f"backtest_{k}": v for k, v in backtest.get("model", {}).items()}
    return out | {f"rule_backtest_{k}": v for k, v in backtest.get("rule", {}).items()}


def fold_metrics(backtest: pd.DataFrame) -> dict[str, list[float]]:
    """Return each backtest figure's values over the folds, logged with step = fold number."""
    from leadscore.pipeline.core import BACKTEST_METRICS

    return {f"fold_{scorer}_{m}": [float(v) for v in backtest[f"{scorer}_{m}"]]
            for scorer in ("model", "rule") for m in BACKTEST_METRICS}


def scoring_metrics(counts: dict, seconds: float, drift: pd.DataFrame) -> dict[str, float]:
    """Return a scoring run's counts, runtime, worst feature PSI, score PSI and share of hot leads."""
    features = drift["name"] != "score"
    return {**counts, "seconds": seconds, "max_feature_psi": float(drift.loc[features, "psi"].max()),
            "score_psi": float(drift.loc[~features, "psi"].iloc[0]), "share_hot": float(drift.attrs.get("share_hot", np.nan))}
