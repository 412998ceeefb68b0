"""Say who the evaluated leads are: the population rule, and how leads already in Sales' hands convert.

A lead with an open opportunity at as_of converts far more often than one Sales has not
taken yet, so mixed in silently it flatters any threshold that passes it. Whether such
snapshots were left out (`population.open_opportunities: exclude`) or kept (`include`), the
report shows them as their own group beside the rest.
"""

from __future__ import annotations

import pandas as pd

from leadscore.pipeline.scoring import PIPELINE_FLAG

COLUMNS = ("group", "treatment", "snapshots", "wins", "conversion")

_IN_PIPELINE = "open opportunity at as_of"
_NOT_IN_PIPELINE = "not in Sales' pipeline"


def _row(group: str, treatment: str, labels: pd.Series) -> dict:
    n = int(len(labels))
    return {"group": group, "treatment": treatment, "snapshots": n, "wins": int(labels.sum()),
            "conversion": float(labels.mean()) if n else float("nan")}


def population_groups(frame: pd.DataFrame, left_out: pd.DataFrame | None, rule: str) -> pd.DataFrame:
    """Return snapshots, wins and conversion of the evaluated leads and of those with an open opportunity.

    `frame` holds the evaluated snapshots (with `in_sales_pipeline` when the population includes
    such leads); `left_out` the labelled snapshots the rule left out of the same period.

    >>> f = pd.DataFrame({"label": [0, 0, 1, 0]})
    >>> population_groups(f, pd.DataFrame({"label": [1, 1]}), "exclude")[["treatment", "snapshots", "conversion"]].values.tolist()
    [['evaluated', 4, 0.25], ['left out', 2, 1.0]]
    """
    if rule == "include" and PIPELINE_FLAG in frame.columns:
        flag = frame[PIPELINE_FLAG].astype(bool)
        rows = [_row(_NOT_IN_PIPELINE, "evaluated", frame.loc[~flag, "label"]),
                _row(_IN_PIPELINE, "evaluated (population includes them)", frame.loc[flag, "label"])]
    else:
        labels = left_out["label"] if left_out is not None else pd.Series(dtype="int8")
        rows = [_row(_NOT_IN_PIPELINE, "evaluated", frame["label"]), _row(_IN_PIPELINE, "left out", labels)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def population_line(groups: pd.DataFrame) -> str:
    """Return the verdict's sentence on the population: who was evaluated, and how the open-opportunity group converts."""
    rest, pipeline = groups.iloc[0], groups.iloc[1]
    if pipeline["snapshots"] == 0:
        return "Population: no test lead had an open opportunity at its snapshot; every open lead was evaluated."
    total = rest["snapshots"] + pipeline["snapshots"]
    share = pipeline["snapshots"] / total
    facts = (f"{pipeline['snapshots']:,} test snapshots ({share:.1%}) are of leads with an open opportunity, converting at "
             f"{pipeline['conversion']:.1%} against {rest['conversion']:.1%} for the rest")
    if pipeline["treatment"] == "left out":
        return (f"Population: leads not yet in Sales' hands. {facts}; they were left out of training, the figures above "
                "and the threshold audit (population.open_opportunities: exclude).")
    return (f"Population: includes leads already in Sales' hands. {facts}; every figure above and the threshold audit "
            "mix them in (population.open_opportunities: include).")
