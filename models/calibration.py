"""Calibrate a fitted model on a later time slice, so a score of 0.2 means 20% of such leads win.

The model is frozen (`FrozenEstimator`): calibration only learns the mapping from its scores
to observed win rates on data it never trained on. Isotonic regression needs many positives
to be smooth; with few, a two-parameter sigmoid is the safer choice, and the choice is logged.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator


def choose_method(y_calibration, isotonic_min_positives: int) -> str:
    """Return 'isotonic' when the slice has at least `isotonic_min_positives` wins, else 'sigmoid'.

    >>> choose_method([1] * 5 + [0] * 95, 10)
    'sigmoid'
    """
    return "isotonic" if int(np.sum(y_calibration)) >= isotonic_min_positives else "sigmoid"


def calibrate(model, X_calibration, y_calibration, method: str) -> CalibratedClassifierCV:
    """Return `model` frozen and calibrated on the calibration slice."""
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(X_calibration, np.asarray(y_calibration).astype(int))


def expected_calibration_error(y_true, proba, bins: int = 10) -> float:
    """Return the expected calibration error over equal-frequency bins of predicted probability.

    ECE = sum over bins of (share of leads in the bin) * |mean predicted - observed win rate|.
    Equal-frequency bins, because with a few percent of wins most equal-width bins are empty.

    >>> round(expected_calibration_error([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0], bins=2), 6)
    0.0
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(proba, dtype=float)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk):
            total += len(chunk) / len(y) * abs(p[chunk].mean() - y[chunk].mean())
    return float(total)
