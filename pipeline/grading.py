"""Map calibrated probabilities to the words Sales uses: a 0-100 score, grades A-D, segments.

The cut-offs live in config (`grades`), so RevOps can move them after reading the report's
threshold audit without retraining anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.pipeline.config import GradeConfig

SEGMENTS: tuple[str, ...] = ("leave", "nurture", "hot")
GRADES: tuple[str, ...] = ("A", "B", "C", "D")


def score_0_100(proba: np.ndarray) -> np.ndarray:
    """Return the probability as a whole-number score from 0 to 100.

    >>> score_0_100(np.array([0.0, 0.234, 1.0])).tolist()
    [0, 23, 100]
    """
    return np.rint(np.clip(np.asarray(proba, dtype=float), 0, 1) * 100).astype("int64")


def grade(proba: np.ndarray, grades: GradeConfig) -> pd.Categorical:
    """Return grade A, B, C or D for each probability (A from `grades.a` up, D below `grades.c`).

    >>> list(grade(np.array([0.5, 0.25, 0.1, 0.01]), GradeConfig()))
    ['A', 'B', 'C', 'D']
    """
    p = np.asarray(proba, dtype=float)
    labels = np.select([p >= grades.a, p >= grades.b, p >= grades.c], ["A", "B", "C"], default="D")
    return pd.Categorical(labels, categories=list(GRADES), ordered=True)


def segment(proba: np.ndarray, grades: GradeConfig) -> pd.Categorical:
    """Return segment leave, nurture or hot for each probability.

    >>> list(segment(np.array([0.3, 0.1, 0.01]), GradeConfig()))
    ['hot', 'nurture', 'leave']
    """
    p = np.asarray(proba, dtype=float)
    labels = np.select([p >= grades.hot, p >= grades.nurture], ["hot", "nurture"], default="leave")
    return pd.Categorical(labels, categories=list(SEGMENTS), ordered=True)
