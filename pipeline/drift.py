"""Compare a scoring population with the training population (population stability index).

Training records a `DriftReference`: quantile bin edges and proportions for every numeric
feature, category shares for categorical ones, and the score distribution. Batch scoring
compares tonight's leads against it, so an operator learns that the inputs moved before
the sales team learns that the scores stopped meaning anything.

PSI = sum((actual - expected) * ln(actual / expected)) over bins. Rules of thumb: below 0.1
stable, 0.1-0.25 moderate shift, above 0.25 a major shift.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

_EPS = 1e-4  # floor for empty bins, so one empty bin does not make PSI infinite


@dataclass(frozen=True)
class FeatureReference:
    """Describe one feature's training distribution: numeric bin edges or category shares."""

    name: str
    kind: str  # "numeric" or "category"
    edges: list[float] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)  # shares per bin (last bin: missing)


@dataclass(frozen=True)
class DriftReference:
    """Hold the training distributions batch scoring is compared with."""

    features: list[FeatureReference]
    score: FeatureReference
    share_hot: float

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict (stored in the model bundle's manifest)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DriftReference:
        """Rebuild a reference from `to_dict` output."""
        return cls(
            features=[FeatureReference(**f) for f in data["features"]],
            score=FeatureReference(**data["score"]),
            share_hot=float(data["share_hot"]),
        )


def reference_from_training(
    features: pd.DataFrame, scores: np.ndarray, hot_floor: float, bins: int = 10
) -> DriftReference:
    """Record the training distribution of every feature column and of the scores."""
    refs = [_reference(name, features[name], bins) for name in features.columns]
    score_ref = _reference("score", pd.Series(np.asarray(scores, dtype=float)), bins)
    return DriftReference(features=refs, score=score_ref, share_hot=float(np.mean(np.asarray(scores) >= hot_floor)))


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Return the population stability index between two vectors of bin shares.

    >>> round(psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])), 6)
    0.0
    >>> psi(np.array([0.9, 0.1]), np.array([0.5, 0.5])) > 0.25
    True
    """
    e = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def shares(reference: FeatureReference, values: pd.Series) -> np.ndarray:
    """Return the shares of `values` in the bins of `reference` (missing values in the last bin)."""
    n = max(len(values), 1)
    if reference.kind == "numeric":
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        missing = np.isnan(numeric)
        idx = np.searchsorted(np.asarray(reference.edges), numeric[~missing], side="right")
        counts = np.bincount(idx, minlength=len(reference.edges) + 1)
        return np.append(counts, missing.sum()) / n
    as_text = values.astype("string")
    counts = [int((as_text == c).sum()) for c in reference.categories]
    other = n - sum(counts) if len(values) else 0
    return np.array(counts + [other]) / n


class DriftTally:
    """Count, chunk by chunk, how a scoring population falls into the reference's bins.

    Batch scoring sees its leads in chunks to bound memory; the tally keeps only bin counts,
    so the report over every chunk equals the report of the whole population added at once.
    """

    def __init__(self, reference: DriftReference, hot_floor: float):
        self.reference = reference
        self.hot_floor = hot_floor
        self.counts: dict[str, np.ndarray] = {}
        self.score_counts = np.zeros(len(reference.score.expected))
        self.rows = 0
        self.hot = 0

    def add(self, features: pd.DataFrame, scores: np.ndarray) -> DriftTally:
        """Count one chunk: its feature rows (reference features it lacks are left out) and its scores."""
        scores = np.asarray(scores, dtype=float)
        n = len(scores)
        for ref in self.reference.features:
            if ref.name in features.columns:
                self.counts[ref.name] = self.counts.get(ref.name, np.zeros(len(ref.expected))) + shares(ref, features[ref.name]) * n
        self.score_counts = self.score_counts + shares(self.reference.score, pd.Series(scores)) * n
        self.rows += n
        self.hot += int(np.sum(scores >= self.hot_floor))
        return self

    def report(self, psi_warn: float = 0.1, psi_fail: float = 0.25) -> pd.DataFrame:
        """Return PSI per feature and for the score (row `score`), worst first, each `stable`, `watch` or `drift`.

        The frame's attrs hold `share_hot` (this population) and `share_hot_training`.
        """
        n = max(self.rows, 1)
        rows = [{"name": ref.name, "psi": psi(np.asarray(ref.expected), self.counts[ref.name] / n)}
                for ref in self.reference.features if ref.name in self.counts]
        rows.append({"name": "score", "psi": psi(np.asarray(self.reference.score.expected), self.score_counts / n)})
        result = pd.DataFrame(rows).sort_values("psi", ascending=False, ignore_index=True)
        result["status"] = np.select([result["psi"] > psi_fail, result["psi"] > psi_warn], ["drift", "watch"], default="stable")
        result.attrs["share_hot"] = self.hot / self.rows if self.rows else 0.0
        result.attrs["share_hot_training"] = self.reference.share_hot
        return result


def drifted(report: pd.DataFrame) -> list[str]:
    """Return the names whose status in `report` is `drift`, worst first."""
    return report.loc[report["status"] == "drift", "name"].tolist()


def drift_counts(report: pd.DataFrame) -> dict[str, int]:
    """Return how many names of `report` are above the warning level only (`watch`) and beyond the limit (`drift`)."""
    return {"drift_watch": int((report["status"] == "watch").sum()), "drift_beyond_limit": int((report["status"] == "drift").sum())}


def drift_line(report: pd.DataFrame, psi_warn: float, psi_fail: float, shown: int = 5) -> str:
    """Return the one line a scoring run says of drift, in agreement with the statuses of `report`.

    "within limits" only when no PSI is above the warning level; names above it are listed,
    worst first, with the level they pass.

    >>> report = pd.DataFrame({"name": ["a", "b", "c"], "psi": [0.3, 0.15, 0.01], "status": ["drift", "watch", "stable"]})
    >>> drift_line(report, 0.1, 0.25)
    'largest PSI 0.300 (a); beyond the limit 0.25: a; above the warning level 0.1: b'
    >>> drift_line(report.iloc[[2]], 0.1, 0.25)
    'largest PSI 0.010 (c); within limits (every PSI at most 0.1)'
    """
    worst = report.iloc[0]
    parts = [f"largest PSI {worst['psi']:.3f} ({worst['name']})"]
    for status, words, level in (("drift", "beyond the limit", psi_fail), ("watch", "above the warning level", psi_warn)):
        names = report.loc[report["status"] == status, "name"].tolist()
        if names:
            more = f" and {len(names) - shown} more" if len(names) > shown else ""
            parts.append(f"{words} {level:g}: {', '.join(names[:shown])}{more}")
    if len(parts) == 1:
        parts.append(f"within limits (every PSI at most {psi_warn:g})")
    return "; ".join(parts)


def _reference(name: str, values: pd.Series, bins: int) -> FeatureReference:
    n = max(len(values), 1)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        finite = numeric[~np.isnan(numeric)]
        if len(finite):
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
        else:
            edges = np.array([])
        ref = FeatureReference(name=name, kind="numeric", edges=[float(x) for x in edges])
    else:
        top = values.astype("string").value_counts(dropna=True).head(bins * 3).index
        ref = FeatureReference(name=name, kind="category", categories=[str(c) for c in top])
    expected = shares(ref, values) if len(values) else np.zeros(len(ref.edges) + 2)
    return FeatureReference(**{**asdict(ref), "expected": [float(x) for x in expected * (len(values) / n)]})


def distribution_psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """Return the PSI of `current` against the distribution of `reference` (bins from its quantiles), as drift reports it.

    >>> values = pd.Series(np.linspace(0, 1, 1000))
    >>> distribution_psi(values, values) == 0.0, distribution_psi(values, values ** 4) > 0.25
    (True, True)
    """
    ref = _reference("score", reference, bins)
    return psi(np.asarray(ref.expected), shares(ref, current))
