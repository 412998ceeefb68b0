"""Decide whether a newly trained model replaces the champion.

A challenger becomes champion only if it beats both the current champion and the points-table
baseline by the configured margin, on the mean over the rolling-origin backtest's folds (one
slice can flatter either scorer; a run without a backtest is judged on its test slice). The decision and
its reason are printed and logged, so an operator can see why a model was or was not promoted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """Whether to promote, and why, in one sentence."""

    promote: bool
    reason: str


LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece"})
"""Promotion metrics that are errors: a challenger beats a score by being below it."""

PROMOTION_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
"""Metrics a challenger can be promoted on (`tracking.promotion_metric`)."""


def decide(metric: str, margin: float, challenger: float, rule: float, champion: float | None, basis: str = "") -> Decision:
    """Return the promotion decision for scores on one metric (higher is better, except for errors).

    A tie is not a win: retraining on the same data does not replace the champion. `basis` names
    what the scores are (e.g. "backtest mean") in the reason.

    >>> decide("roc_auc", 0.01, challenger=0.90, rule=0.80, champion=None).promote
    True
    >>> decide("roc_auc", 0.01, challenger=0.90, rule=0.80, champion=0.895).reason
    'not promoted: roc_auc 0.9000 does not beat the champion 0.8950 by the margin 0.01'
    >>> decide("brier", 0.0, challenger=0.030, rule=0.018, champion=0.016).promote
    False
    >>> decide("brier", 0.0, challenger=0.015, rule=0.018, champion=0.016).promote
    True
    """
    if metric not in PROMOTION_METRICS:
        raise ValueError(f"unknown promotion metric {metric!r}; choose one of {', '.join(PROMOTION_METRICS)}")
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    named = f"{metric} ({basis})" if basis else metric

    def beats(score: float) -> bool:
        return sign * (challenger - score) > margin

    if not beats(rule):
        return Decision(False, f"not promoted: {named} {challenger:.4f} does not beat the points table {rule:.4f} by the margin {margin:g}")
    if champion is not None and not beats(champion):
        return Decision(False, f"not promoted: {named} {challenger:.4f} does not beat the champion {champion:.4f} by the margin {margin:g}")
    against = "no champion yet" if champion is None else f"champion {champion:.4f}"
    return Decision(True, f"promoted: {named} {challenger:.4f} beats the points table {rule:.4f} and {against} (margin {margin:g})")
