"""Score a scorer's probabilities on held-out labels: the figures every report and run logs."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from leadscore.models.calibration import expected_calibration_error


def classification_metrics(y_true, proba, ranking=None) -> dict[str, float]:
    """Return ROC AUC, PR AUC, Brier score, log loss and ECE (NaN for AUCs on a single class).

    `ranking` is the score that orders the leads when it is not the probability: a points
    table ranks by its points, and its calibrated probability (a step function of them) ties
    whole plateaus of points, which lowered its AUC (0.885 to 0.880 on the test set's CRM).
    """
    y = np.asarray(y_true).astype(int)
    p = np.clip(np.asarray(proba, dtype=float), 1e-6, 1 - 1e-6)
    order = p if ranking is None else np.asarray(ranking, dtype=float)
    two_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, order)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, order)) if two_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "n": int(len(y)),
    }
