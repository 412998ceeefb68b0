"""Audit the cut-offs that pass leads to Sales, and flag the over-generous ones.

A threshold is over-generous when the leads it passes convert below the target rate a sales
call needs, or when it passes more leads than Sales can call. For each one the audit finds
the threshold that would meet both targets, and what it would cost in missed wins.

Capacity is a share of the open leads at each snapshot date (`max_share_to_sales`), or, when
`leads_per_week` is set, leads passed per snapshot date converted to a weekly rate with the
snapshot spacing (the slide, in days): passed_per_date * 7 / slide.

A recommended cut is chosen on other leads than the ones it is judged on (`recommend_on`,
the calibration slice before the test period), then reported on the test leads: chosen on
the test leads themselves, every recommendation would land exactly on its target, an
in-sample optimum the next month would not repeat. A points-table cut is a whole number of
points, as a marketing-automation tool takes it. When many leads share one score, a cut
passes all or none of them: the audit names such a tie beside the cut it constrains.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from leadscore.pipeline.config import Config


@dataclass
class ThresholdAudit:
    """One cut-off on one scorer, its consequences and, if over-generous, the fix."""

    scorer: str
    name: str
    threshold: float
    unit: str
    share_passed: float
    passed: int
    conversion: float
    recall: float
    not_ready: int
    over_generous: bool
    problems: list[str]
    recommended_threshold: float | None
    recommended_share: float | None
    recommended_conversion: float | None
    missed_wins: int | None
    inflation: bool
    inflation_detail: str
    recommended_on: str = "test leads"  # the leads the recommended cut was chosen on
    ties: str = ""  # a tie of many leads at or just below the recommended cut, in words

    def to_dict(self) -> dict:
        """Return the audit as plain JSON-serialisable values."""
        return asdict(self)


TIE_SHARE = 0.01
"""A group of equal scores this large a share of the leads is named: a cut moves the passed share by it at once."""


def _passes(score: np.ndarray, threshold: float) -> np.ndarray:
    return score >= threshold


def capacity_share(frame: pd.DataFrame, config: Config, leads: str = "open leads") -> tuple[float, str]:
    """Return the share of `leads` Sales can take, and how it was derived."""
    if config.targets.leads_per_week:
        per_date = len(frame) / max(frame["as_of"].nunique(), 1)
        per_week_open = per_date * 7 / (config.windows.slide_step / pd.Timedelta(days=1))
        share = min(1.0, config.targets.leads_per_week / max(per_week_open, 1e-9))
        return share, f"{config.targets.leads_per_week} leads per week"
    return config.targets.max_share_to_sales, f"{config.targets.max_share_to_sales:.0%} of {leads}"


def audit_threshold(frame: pd.DataFrame, scorer: str, name: str, score_column: str, threshold: float, unit: str,
                    config: Config, leads: str = "open leads", recommend_on: pd.DataFrame | None = None,
                    recommend_on_name: str = "calibration slice") -> ThresholdAudit:
    """Return the audit of `score_column >= threshold` against the targets in config.

    `leads` words the rows judged: the open leads at each snapshot, or a flat export's "leads".
    The recommended cut is chosen on `recommend_on` (named `recommend_on_name`) when given,
    else on `frame` itself, and its share, conversion and missed wins are those on `frame`.
    """
    y = frame["label"].to_numpy()
    score = frame[score_column].to_numpy(dtype=float)
    passed = _passes(score, threshold)
    n_pass = int(passed.sum())
    wins = int(y.sum())
    conversion = float(y[passed].mean()) if n_pass else float("nan")
    share = n_pass / max(len(y), 1)
    capacity, capacity_text = capacity_share(frame, config, leads)
    target = config.targets.min_conversion_rate
    problems = []
    if n_pass and conversion < target:
        problems.append(f"passed leads convert at {conversion:.1%}, below the {target:.0%} target")
    if share > capacity + 1e-12:
        problems.append(f"passes {share:.1%} of {leads}, more than Sales capacity ({capacity_text})")
    chooser = frame if recommend_on is None or not len(recommend_on) else recommend_on
    whole = unit == "points"
    recommended = recommend_threshold(chooser["label"].to_numpy(), chooser[score_column].to_numpy(dtype=float), target,
                                      capacity_share(chooser, config, leads)[0], whole=whole)
    rec_t, rec_share, rec_conv, missed, ties = None, None, None, None, ""
    if recommended is not None:
        rec_t = recommended
        rec_pass = _passes(score, rec_t)
        rec_share = float(rec_pass.mean())
        rec_conv = float(y[rec_pass].mean()) if rec_pass.any() else float("nan")
        missed = int(y[passed].sum() - y[rec_pass].sum())
        ties = tie_text(score, rec_t, unit, leads, whole)
    inflation, detail = score_inflation(frame, score_column, threshold)
    return ThresholdAudit(
        scorer=scorer, name=name, threshold=float(threshold), unit=unit, share_passed=share, passed=n_pass,
        conversion=conversion, recall=(int(y[passed].sum()) / wins) if wins else float("nan"),
        not_ready=int((passed & (y == 0)).sum()), over_generous=bool(problems), problems=problems,
        recommended_threshold=rec_t, recommended_share=rec_share, recommended_conversion=rec_conv,
        missed_wins=missed, inflation=inflation, inflation_detail=detail,
        recommended_on="test leads" if chooser is frame else recommend_on_name, ties=ties,
    )


def tie_text(score: np.ndarray, cut: float, unit: str, leads: str = "leads", whole: bool = False) -> str:
    """Name the ties that decide where `cut` can sit: many leads sharing the lowest passed score, or the next one below.

    A cut passes a group of equal scores whole, so when one holds many leads the next cut
    down jumps by all of them: a recommended share can move from 0.2% to 12% in one step.

    >>> tie_text(np.array([0.9, 0.5, 0.5, 0.5, 0.1]), 0.9, "probability")
    '3 leads (60.0%) share the score 0.5 just below this cut: the next cut down passes all of them at once (80.0% of leads).'
    >>> tie_text(np.array([0.9, 0.8, 0.5, 0.1]), 0.9, "probability")
    ''
    """
    values = whole_points(score) if whole else score
    n = max(len(values), 1)
    words = []
    at = values[values >= cut]
    if len(at) and (group := int((values == at.min()).sum())) > 1 and group / n >= TIE_SHARE:
        words.append(f"{group:,} {leads} ({group / n:.1%}) share the lowest score this cut passes, "
                     f"{_value_text(at.min(), unit)}")
    below = values[values < cut]
    if len(below) and (group := int((values == below.max()).sum())) > 1 and group / n >= TIE_SHARE:
        words.append(f"{group:,} {leads} ({group / n:.1%}) share the score {_value_text(below.max(), unit)} just below this cut: "
                     f"the next cut down passes all of them at once ({(values >= below.max()).mean():.1%} of {leads})")
    return "; ".join(words) + ("." if words else "")


def whole_points(points) -> np.ndarray:
    """Return the whole part of each score: for a whole cut c, points >= c exactly when floor(points) >= c.

    >>> whole_points(np.array([46.5, 47.0, 47.46, -0.5])).tolist()
    [46.0, 47.0, 47.0, -1.0]
    """
    return np.floor(np.asarray(points, dtype=float) + 1e-9)  # 46.99999999999 from summed decays counts as 47


def _value_text(value: float, unit: str) -> str:
    return f"{value:g} points" if unit == "points" else f"{value:.4g}"


def recommend_threshold(y: np.ndarray, score: np.ndarray, target: float, capacity: float, whole: bool = False) -> float | None:
    """Return the lowest cut-off (most leads passed) whose passed leads convert >= target within capacity.

    Candidates are the distinct score values; the cut returned is the shortest decimal that
    passes exactly the same leads (see `round_cut`), so the number a report prints is the one
    that meets the target. With `whole`, candidates are whole numbers (a points table's cut:
    `points >= c` for a whole c passes the leads whose whole part is at least c).
    None when no cut-off meets both targets.

    >>> recommend_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4]), 0.9, 1.0)
    0.3
    >>> recommend_threshold(np.array([0, 1, 1]), np.array([51.2, 56.458864, 60.0]), 0.9, 1.0)
    56.0
    >>> recommend_threshold(np.array([0, 1, 1]), np.array([47.2, 47.46, 60.0]), 0.9, 1.0, whole=True)
    60.0
    """
    if whole:
        score = whole_points(score)
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    cum_wins = np.cumsum(y[order])
    count = np.arange(1, len(y) + 1)
    # only cut at the last row of a run of equal scores: a threshold passes all ties together
    last_of_tie = np.append(sorted_score[1:] != sorted_score[:-1], True)
    ok = last_of_tie & (cum_wins / count >= target) & (count / max(len(y), 1) <= capacity + 1e-12)
    if not ok.any():
        return None
    best = np.flatnonzero(ok)[-1]
    if whole:
        return float(sorted_score[best])
    below = sorted_score[best + 1] if best + 1 < len(sorted_score) else -np.inf
    return round_cut(float(below), float(sorted_score[best]))


def round_cut(below: float, lowest_passed: float) -> float:
    """Return the shortest decimal cut c with below < c <= lowest_passed: the same leads pass as at lowest_passed.

    A report rounds what it prints; rounding the exact cut (56.4589 printed as 56.46) could
    stop passing the lead at 56.4589 and miss the target it was chosen to meet.

    >>> round_cut(56.41, 56.458864453127376)
    56.45
    >>> round_cut(float("-inf"), 0.0173)
    0.0
    """
    for decimals in range(16):
        step = 10.0 ** decimals
        cut = round(math.floor(lowest_passed * step) / step, decimals)
        if below < cut <= lowest_passed:
            return cut
    return lowest_passed


def score_inflation(frame: pd.DataFrame, score_column: str, threshold: float) -> tuple[bool, str]:
    """Flag inflation: over the test dates, the share above threshold rises while its conversion falls."""
    by_date = frame.assign(passed=frame[score_column] >= threshold).groupby("as_of")
    share = by_date["passed"].mean()
    conversion = by_date.apply(lambda g: g.loc[g["passed"], "label"].mean() if g["passed"].any() else np.nan, include_groups=False)
    valid = conversion.notna()
    if valid.sum() < 3:
        return False, "fewer than 3 test dates: inflation not assessed"
    steps = np.arange(valid.sum())
    share_trend = spearmanr(steps, share[valid]).statistic if share[valid].nunique() > 1 else 0.0
    conversion_trend = spearmanr(steps, conversion[valid]).statistic if conversion[valid].nunique() > 1 else 0.0
    inflating = bool(share_trend > 0.5 and conversion_trend < -0.5)
    detail = (f"share above threshold {share[valid].iloc[0]:.1%} → {share[valid].iloc[-1]:.1%}, "
              f"their conversion {conversion[valid].iloc[0]:.1%} → {conversion[valid].iloc[-1]:.1%} "
              f"over {int(valid.sum())} dates")
    return inflating, detail
