"""Promote a registered version to champion when the promotion policy says it wins (MLflow wiring).

The decision itself is `pipeline.promotion.decide`, pure; this module fetches the scores
it compares and sets the alias.
"""

from __future__ import annotations

import pandas as pd

from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import SchemaMismatchError
from leadscore.pipeline.promotion import Decision, decide


def promote_version(config: Config, version: str, metrics: dict[str, dict[str, float]]) -> Decision:
    """Apply the promotion policy to `version`; set `champion` if it wins.

    With a backtest (`metrics["backtest"]`), the challenger, the points table and the champion
    are compared on their backtest means, the champion's as its run logged it; without one, on
    the test slice, the champion re-scored on the challenger's own test leads.
    """
    from leadscore.pipeline import tracking

    metric = config.tracking.promotion_metric
    champion = tracking.alias_version(config, tracking.CHAMPION)
    if champion == version:
        return Decision(False, f"version {version} is already the champion")
    backtest = metrics.get("backtest")
    if backtest:
        champion_score = None if champion is None else \
            tracking.version_metrics(config, champion).get(f"backtest_{metric}")
        if champion is not None and champion_score is None:
            champion_score = champion_score_on(config, champion, version)
        return _promote_if(decide(metric, config.tracking.promotion_margin, backtest["model"][metric], backtest["rule"][metric],
                                  champion_score, basis="backtest mean"), config, version)
    champion_score = None if champion is None else champion_score_on(config, champion, version)
    return _promote_if(decide(metric, config.tracking.promotion_margin, metrics["model"][metric], metrics["rule"][metric],
                              champion_score), config, version)


def _promote_if(decision: Decision, config: Config, version: str) -> Decision:
    from leadscore.pipeline import tracking

    if decision.promote:
        tracking.set_alias(config, tracking.CHAMPION, version)
    tracking.record_promotion(config, version, decision.promote, decision.reason)
    return decision


def champion_score_on(config: Config, champion: str, challenger: str) -> float:
    """Return the champion's promotion metric on the challenger's own test slice.

    The challenger's training run logged its test slice's features and labels, so both are
    judged on the same leads; if the champion's feature schema or feature settings differ (its
    features would mean something else), its logged metric from its own test slice is used
    instead (and that is said in the decision's metric).
    """
    from leadscore.models.bundle import read_manifest
    from leadscore.models.metrics import classification_metrics
    from leadscore.pipeline import tracking

    challenger_dir = tracking.download_bundle(config, f"models:/{config.tracking.model_name}/{challenger}")
    test = pd.read_parquet(tracking.download_test_slice(config, challenger))
    champion_bundle, _ = tracking.registered_bundle(config, f"models:/{config.tracking.model_name}/{champion}")
    challenger_settings = read_manifest(challenger_dir).get("feature_settings")
    try:
        champion_bundle.check_schema(test)
        comparable = champion_bundle.manifest.get("feature_settings") == challenger_settings
    except SchemaMismatchError:
        comparable = False
    if not comparable:
        return float(tracking.version_metrics(config, champion).get(f"test_{config.tracking.promotion_metric}", float("nan")))
    # the held-out model, where the bundle keeps one: the deployed one was refitted on its own test slice
    scorer = champion_bundle.holdout if champion_bundle.holdout is not None else champion_bundle.calibrated
    proba = scorer.predict_proba(test[champion_bundle.feature_names])[:, 1]
    return classification_metrics(test["label"], proba)[config.tracking.promotion_metric]
