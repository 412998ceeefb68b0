"""Compare segmented models with one global model on the same held-out leads, per segment and overall (pure).

Each segment's model and the global model both scored the segment's test snapshots held
out: the comparison keeps the snapshots (lead, as_of) in both test slices, so every figure
sets the two on the same rows. The interval of the ROC AUC difference comes from a paired
bootstrap over leads (a lead's snapshots are resampled together, since they are not
independent). A segment's own model pays only when the whole interval lies above zero and
the segment's test snapshots hold at least `min_test_wins` wins; otherwise the global model
scores the segment. Overall, the segmented scorer is each paying segment's model on its leads
and the global model elsewhere; beside it, every trained segment's model on its leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

PAYS, NOT_PAYING, GLOBAL_BETTER, TOO_SMALL, NOT_TRAINED = "pays", "does not pay", "global model better", "too small", "not trained"
"""The verdicts of a segment's own model against the global model."""

OVERALL = "overall"


@dataclass(frozen=True)
class Interval:
    """A paired difference of ROC AUC (segmented minus global) with its bootstrap interval."""

    difference: float
    low: float
    high: float


def paired_auc_interval(label: np.ndarray, ours: np.ndarray, theirs: np.ndarray, groups: np.ndarray,
                        resamples: int, confidence: float, seed: int) -> Interval:
    """Return ROC AUC(ours) − ROC AUC(theirs) and its percentile interval over `resamples` resamples of the groups.

    Each resample draws the groups (leads) with replacement and weights their rows by how often
    they were drawn, so both scorers are judged on the same resampled leads.

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400); good = y + rng.normal(0, 0.5, 400); bad = rng.normal(0, 1, 400)
    >>> i = paired_auc_interval(y, good, bad, np.arange(400), 200, 0.95, 0)
    >>> i.low > 0
    True
    """
    label = np.asarray(label)
    if len(np.unique(label)) < 2:
        return Interval(float("nan"), float("nan"), float("nan"))
    difference = roc_auc_score(label, ours) - roc_auc_score(label, theirs)
    codes, uniques = pd.factorize(pd.Series(groups))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        weight = np.bincount(rng.integers(0, len(uniques), len(uniques)), minlength=len(uniques))[codes]
        if len(np.unique(label[weight > 0])) < 2:
            continue
        draws.append(roc_auc_score(label, ours, sample_weight=weight) - roc_auc_score(label, theirs, sample_weight=weight))
    tail = (1 - confidence) / 2
    low, high = (np.quantile(draws, [tail, 1 - tail]) if draws else (float("nan"), float("nan")))
    return Interval(float(difference), float(low), float(high))


def paired_rows(global_test: pd.DataFrame, segment_test: pd.DataFrame) -> pd.DataFrame:
    """Return the snapshots in both test slices: lead_id, as_of, label, global_proba, segment_proba."""
    keys = ["lead_id", "as_of"]
    left = global_test[[*keys, "label", "model_proba"]].rename(columns={"model_proba": "global_proba"})
    right = segment_test[[*keys, "model_proba"]].rename(columns={"model_proba": "segment_proba"})
    left = left.assign(lead_id=left["lead_id"].astype(str))
    right = right.assign(lead_id=right["lead_id"].astype(str))
    return left.merge(right, on=keys, how="inner", validate="one_to_one")


def verdict(interval: Interval, wins: int, min_test_wins: int) -> str:
    """Return whether a segment's own model pays: its whole interval above zero, on enough wins.

    >>> verdict(Interval(0.05, 0.02, 0.08), 100, 30), verdict(Interval(0.01, -0.01, 0.03), 100, 30)
    ('pays', 'does not pay')
    >>> verdict(Interval(-0.05, -0.08, -0.02), 100, 30), verdict(Interval(0.05, 0.02, 0.08), 10, 30)
    ('global model better', 'too small')
    """
    if wins < min_test_wins or np.isnan(interval.low):
        return TOO_SMALL
    if interval.low > 0:
        return PAYS
    return GLOBAL_BETTER if interval.high < 0 else NOT_PAYING


def compare_segments(global_test: pd.DataFrame, segment_tests: dict[str, pd.DataFrame | None], assignment: pd.Series,
                     settings) -> pd.DataFrame:
    """Return one row per segment (config order, `fallback` and `overall` last): rows, leads, wins, both AUCs,
    the difference with its interval, and the verdict.

    `segment_tests` maps each segment to its model's scored test slice (None: not trained);
    `assignment` is each lead's segment by lead_id; `settings` is `config.segment_comparison`.
    """
    segment_of = assignment.astype(str)
    test = global_test.assign(lead_id=global_test["lead_id"].astype(str))
    test = test.assign(lead_segment=test["lead_id"].map(segment_of).fillna("fallback").to_numpy())
    rows, chosen, every = [], [], []
    for name, scored in segment_tests.items():
        own = test[test["lead_segment"] == name]
        if scored is None:
            rows.append(_row(name, own["label"], own["model_proba"], own["model_proba"], own["lead_id"], settings, NOT_TRAINED))
            chosen.append(own.assign(segmented_proba=own["model_proba"]))
            every.append(own.assign(segmented_proba=own["model_proba"]))
            continue
        paired = paired_rows(own, scored)
        row = _row(name, paired["label"], paired["segment_proba"], paired["global_proba"], paired["lead_id"], settings)
        rows.append(row)
        frame = paired.rename(columns={"global_proba": "model_proba"})
        every.append(frame.assign(segmented_proba=frame["segment_proba"]))
        chosen.append(frame.assign(segmented_proba=frame["segment_proba"] if row["verdict"] == PAYS else frame["model_proba"]))
    rest = test[test["lead_segment"] == "fallback"]
    rows.append(_row("fallback", rest["label"], rest["model_proba"], rest["model_proba"], rest["lead_id"], settings, "global model"))
    rest = rest.assign(segmented_proba=rest["model_proba"])
    for name, parts in ((OVERALL, chosen), (f"{OVERALL}, every segment's own model", every)):
        pooled = pd.concat([*parts, rest], ignore_index=True)
        row = _row(name, pooled["label"], pooled["segmented_proba"], pooled["model_proba"], pooled["lead_id"], settings)
        rows.append(row)
    return pd.DataFrame(rows)


def _row(name: str, label, ours, theirs, leads, settings, fixed: str | None = None) -> dict:
    """Return one comparison row; `fixed` is the verdict of rows the global model scores either way (no interval)."""
    label = np.asarray(label, dtype=int)
    both = len(np.unique(label)) == 2
    wins = int(label.sum())
    if fixed is not None:
        interval, said = Interval(float("nan"), float("nan"), float("nan")), fixed
    else:
        interval = paired_auc_interval(label, np.asarray(ours), np.asarray(theirs), np.asarray(leads), settings.bootstrap,
                                       settings.confidence, settings.seed)
        said = _overall_verdict(interval) if name.startswith(OVERALL) else verdict(interval, wins, settings.min_test_wins)
    return {
        "segment": name, "rows": int(len(label)), "leads": int(pd.Series(leads).nunique()), "wins": wins,
        "global_roc_auc": float(roc_auc_score(label, theirs)) if both else float("nan"),
        "segmented_roc_auc": float(roc_auc_score(label, ours)) if both else float("nan"),
        "difference": interval.difference, "low": interval.low, "high": interval.high, "verdict": said,
    }


def _overall_verdict(interval: Interval) -> str:
    if np.isnan(interval.low):
        return TOO_SMALL
    return PAYS if interval.low > 0 else (GLOBAL_BETTER if interval.high < 0 else NOT_PAYING)


def segment_lines(table: pd.DataFrame, confidence: float) -> list[str]:
    """Return the comparison in sentences, one per segment and one overall, as the console and the report say it."""
    lines = []
    level = f"{confidence:.0%}"
    for row in table.itertuples():
        if row.verdict in ("global model", NOT_TRAINED):
            why = "no filter takes them" if row.verdict == "global model" else "its model could not be trained"
            lines.append(f"{row.segment}: {row.rows:,} test snapshots of {row.leads:,} leads, scored by the global model ({why})")
            continue
        figures = (f"ROC AUC {row.segmented_roc_auc:.3f} segmented vs {row.global_roc_auc:.3f} global "
                   f"({row.difference:+.3f}, {level} interval {row.low:+.3f} to {row.high:+.3f}) on {row.rows:,} test snapshots "
                   f"of {row.leads:,} leads, {row.wins:,} wins")
        said = {PAYS: "segmenting pays: its own model ranks its leads better",
                NOT_PAYING: "segmenting does not pay: the interval includes zero, the global model scores it",
                GLOBAL_BETTER: "segmenting does not pay: the global model ranks its leads better",
                TOO_SMALL: "segmenting does not pay: too few test wins to tell, the global model scores it"}[row.verdict]
        if row.segment.startswith(OVERALL):
            said = {PAYS: "segmenting pays overall", NOT_PAYING: "overall, segmenting does not pay (the interval includes zero)",
                    GLOBAL_BETTER: "overall, the global model ranks leads better", TOO_SMALL: "too few test wins to tell"}[row.verdict]
        lines.append(f"{row.segment}: {said}; {figures}")
    return lines
