"""Train on a share of the non-wins and correct the probabilities back (He et al. 2014, Facebook's click model).

Keeping every win and a share `w` of the rest trains a large CRM in minutes; the model then
sees wins `1 / w` times as often as they happen, and q = p / (p + (1 - p) / w) maps its
probability p back to the population's. In log-odds that is a shift by log(w), so a model
applies it to its raw score and calibration, fitted on un-sampled rows, sees true odds.
"""

from __future__ import annotations

import numpy as np


def keep_for_training(y, rate: float, seed: int) -> np.ndarray:
    """Return a mask keeping every win and about `rate` of the non-wins (every row when `rate` is 1).

    >>> keep_for_training([1, 0, 0, 0], 1.0, 0).tolist()
    [True, True, True, True]
    >>> bool(keep_for_training([1] * 10 + [0] * 10_000, 0.1, 0)[:10].all())
    True
    """
    y = np.asarray(y).astype(int)
    if not 0 < rate <= 1:
        raise ValueError(f"negative sampling rate {rate!r} must be in (0, 1]")
    if rate >= 1:
        return np.ones(len(y), dtype=bool)
    return (y == 1) | (np.random.default_rng(seed).random(len(y)) < rate)


def corrected_probability(p, rate: float) -> np.ndarray:
    """Return q = p / (p + (1 - p) / rate): the probability a model trained on sampled non-wins means.

    >>> corrected_probability([0.5], 0.1).round(4).tolist()
    [0.0909]
    """
    p = np.asarray(p, dtype=float)
    return p / (p + (1 - p) / rate)


def log_odds_shift(rate: float) -> float:
    """Return log(rate), the shift in log-odds equal to the prior correction."""
    return float(np.log(rate))
