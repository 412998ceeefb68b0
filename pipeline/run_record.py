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
        **{f"split_{k}_{end}": v[f"{end}_as_of"] for k, v in result.split.items() if isinstance(v, dict) for end in ("first", "last")},
        **{f"data_{k}": manifest.get("window", {}).get(k) for k in ("first_as_of", "last_as_of", "calibration_start", "test_start")},
        "gap_days": config.windows.gap_days,
        **{f"target_{k}": v for k, v in config.targets.model_dump().items()},
        **flat_settings(manifest.get("feature_settings") or {}, "features"),
    }


def flat_settings(settings: dict, prefix: str) -> dict:
    """Return nested settings as flat MLflow params, `prefix_section_key` (lists and tables as their text).

    >>> flat_settings({"windows": {"days": [7, 30]}, "lower": True}, "features")
    {'features_windows_days': '[7, 30]', 'features_lower': True}
    """
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out |= flat_settings(value, f"{prefix}_{key}")
        else:
            out[f"{prefix}_{key}"] = str(value) if isinstance(value, (list, tuple)) else value
    return out


def version_description(result, data_end) -> str:
    """Return the registered model version's description: what it is, on what data, how it compares with the points table.

    >>> from pathlib import Path
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(bundle=SimpleNamespace(manifest={"family": "lightgbm"}, feature_names=["a", "b"]),
    ...                     bundle_dir=Path("models/20260701-abc"),
    ...                     metrics={"model": {"roc_auc": 0.915, "ece": 0.001}, "rule": {"roc_auc": 0.826}})
    >>> version_description(r, pd.Timestamp("2026-06-30", tz="UTC"))
    'lightgbm model on 2 features, data up to 2026-06-30 (bundle 20260701-abc). Test ROC AUC 0.915 vs the points table 0.826; calibration error 0.001.'
    """
    model, rule = result.metrics["model"], result.metrics["rule"]
    text = (f"{result.bundle.manifest.get('family') or 'model'} model on {len(result.bundle.feature_names)} features, data up to "
            f"{pd.Timestamp(data_end):%Y-%m-%d} (bundle {result.bundle_dir.name}). Test ROC AUC {model['roc_auc']:.3f} vs the points "
            f"table {rule['roc_auc']:.3f}; calibration error {model.get('ece', float('nan')):.3f}.")
    backtest = result.metrics.get("backtest") or {}
    if backtest.get("model", {}).get("roc_auc") is not None:
        text += f" Backtest mean ROC AUC {backtest['model']['roc_auc']:.3f} vs {backtest['rule']['roc_auc']:.3f}."
    return text


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
