"""Put the report's decision first: both scorers at the same hand-off volume, in sales terms, and the sentence it leads to.

A sales manager compares scorers by what Sales would get for the same number of calls: at the
volume each points-table threshold passes, the model's top leads of that many convert at some
rate and catch some wins; the difference in wins is the decision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12


def same_volume(frame: pd.DataFrame, rule_thresholds: dict[str, float]) -> pd.DataFrame:
    """Return, per points-table threshold, both scorers' conversion and wins at the volume that threshold passes.

    The model's pick is its `passed` highest probabilities (ties broken by the frame's order,
    so the volume is exactly the points table's).

    >>> frame = pd.DataFrame({"label": [1, 0, 1, 0], "rule_points": [60, 70, 10, 0], "model_proba": [0.9, 0.1, 0.8, 0.2],
    ...                       "lead_id": ["a", "b", "c", "d"]})
    >>> same_volume(frame, {"MQL": 50})[["threshold", "passed", "rule_wins", "model_wins", "extra_wins"]].to_dict("records")
    [{'threshold': 'MQL ≥ 50', 'passed': 2, 'rule_wins': 1, 'model_wins': 2, 'extra_wins': 1}]
    """
    label = frame["label"].to_numpy().astype(int)
    order = np.argsort(-frame["model_proba"].to_numpy(), kind="stable")
    rows = []
    for name, cut in rule_thresholds.items():
        picked_by_rule = frame["rule_points"].to_numpy() >= cut
        passed = int(picked_by_rule.sum())
        picked_by_model = np.zeros(len(frame), dtype=bool)
        picked_by_model[order[:passed]] = True
        rule_wins, model_wins = int(label[picked_by_rule].sum()), int(label[picked_by_model].sum())
        rows.append({
            "threshold": f"{name} ≥ {cut:g}", "stage": name, "passed": passed,
            "distinct_leads": int(frame.loc[picked_by_rule, "lead_id"].nunique()) if "lead_id" in frame else passed,
            "share": passed / len(frame) if len(frame) else float("nan"),
            "rule_conversion": rule_wins / passed if passed else float("nan"), "rule_wins": rule_wins,
            "model_conversion": model_wins / passed if passed else float("nan"), "model_wins": model_wins,
            "extra_wins": model_wins - rule_wins,
        })
    return pd.DataFrame(rows)


def headline(comparison: pd.DataFrame, months: float | None) -> str:
    """Return the report's first sentence: which scorer to hand leads off with, in calls and wins a month.

    With `months` None (a flat export has no calendar) the counts are those of the test rows.

    >>> table = pd.DataFrame([{"stage": "MQL", "passed": 600, "extra_wins": 30, "threshold": "MQL ≥ 50"}])
    >>> headline(table, 3.0)
    'Use the model for hand-offs: the same number of sales calls as the points table (MQL ≥ 50, 200 a month), 10 more wins a month.'
    """
    if comparison.empty:
        return "No points-table threshold to compare the model with."
    row = comparison[comparison["stage"] == "MQL"].iloc[0] if (comparison["stage"] == "MQL").any() else comparison.iloc[0]
    if not row["passed"]:
        return f"The points table's {row['threshold']} passes no lead, so the two scorers cannot be compared at its volume."
    per = "a month" if months is not None else "in the test rows"
    months = max(months, 1e-9) if months is not None else 1.0
    calls, extra = row["passed"] / months, row["extra_wins"] / months
    volume = f"the same number of sales calls as the points table ({row['threshold']}, {calls:,.0f} {per})"
    if row["extra_wins"] > 0:
        return f"Use the model for hand-offs: {volume}, {extra:,.0f} more wins {per}."
    if row["extra_wins"] < 0:
        return f"Keep the points table for hand-offs: at {volume[4:]}, the model would catch {-extra:,.0f} fewer wins {per}."
    return f"The model and the points table catch the same wins at {volume[4:]}; either can hand leads off."


def months_between(first, last) -> float:
    """Return the length in months of the test period from its first to its last snapshot date (at least one month, so a single date is not read as a rate)."""
    days = (pd.Timestamp(last) - pd.Timestamp(first)) / pd.Timedelta(days=1)
    return max(days, DAYS_PER_MONTH) / DAYS_PER_MONTH
