"""Explain the held-out scores to a reader: the factors that move them most, and a few anonymised example leads.

Both are read from the model's own per-feature contributions to a lead's log-odds (its
`contributions`: LightGBM's pred_contrib, or a logistic regression's coefficients times the
lead's centred encoded values) and worded by `models.explain`, as the scores file words its
reasons, so the report and the scores file never give different reasons for a score.
LightGBM's contributions cost about a hundred predictions a lead, so the factors are
averaged over at most `EXPLAINED_ROWS` test rows drawn with a fixed seed. Example leads
are chosen by rule, never at random, and named by letter: no lead id reaches the report.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.features.declarations import readable
from leadscore.models.explain import reasons_from_contributions

EXPLAINED_ROWS = 2000
"""The most test rows the top factors are averaged over (LightGBM contributions on more cost seconds per thousand)."""
TOP_FACTORS = 10


@dataclass(frozen=True)
class Explainer:
    """Hold the held-out rows with what explains their scores: the model, the points scorer, the words of each feature.

    `scored` holds the rows as evaluation reads them (`scoring.score_frame`: `lead_id`,
    `label`, `model_proba`, `model_grade`, `model_segment`, `rule_points`, `rule_proba`,
    `rule_segment`) and `features` the same rows' feature values, row for row; `model` is
    the uncalibrated model behind `model_proba` and `points` the points scorer behind
    `rule_points`. `registry` and `labels` word the reasons as scoring does; `scope` says
    which model scored the rows when it is not the one behind the report's other figures.
    """

    scored: pd.DataFrame
    features: pd.DataFrame
    model: object
    points: object
    registry: dict
    labels: Mapping[str, str] | None = None
    per_lead: int = 3
    scope: str = ""


def explain(explainer: Explainer, hot: float, seed: int, limit: int = EXPLAINED_ROWS, top: int = TOP_FACTORS) -> dict:
    """Return the report's top factors and example leads as JSON-ready values (no lead id among them)."""
    names = list(explainer.model.feature_names_in_)
    rows = sample_rows(len(explainer.scored), limit, seed)
    contributions = explainer.model.contributions(explainer.features.iloc[rows][names].reset_index(drop=True))
    factors = top_factors(contributions, explainer.features.iloc[rows], explainer.registry, top, explainer.labels)
    return {"factors": factors.to_dict(orient="records"), "examples": example_leads(explainer, choose_examples(explainer.scored, hot)),
            "explained_rows": int(len(rows)), "rows": int(len(explainer.scored)), "hot": float(hot), "scope": explainer.scope}


def sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """Return the positions of at most `limit` of `n` rows, drawn without replacement with `seed`, in order.

    >>> sample_rows(5, 10, 0).tolist(), len(sample_rows(10_000, 2000, 0)), sample_rows(50, 7, 1).tolist() == sample_rows(50, 7, 1).tolist()
    ([0, 1, 2, 3, 4], 2000, True)
    """
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def top_factors(contributions: pd.DataFrame, features: pd.DataFrame, registry: dict, top: int = TOP_FACTORS,
                labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return the `top` features by mean absolute contribution, with their words, the shares they raise and lower, and which way.

    A feature that moves few leads a lot and one that moves every lead a little both rank
    by how far they move the average lead. The mean signed contribution would not say which
    way: contributions are measured from the average lead, so they average about zero;
    `direction` says which values push up (`factor_direction`) instead. `features` holds
    the same rows' values, row for row.

    >>> c = pd.DataFrame({"web_visit_count_7d": [1.0, -0.5, 0.9], "is_student": [-0.1, -0.2, 0.0]})
    >>> X = pd.DataFrame({"web_visit_count_7d": [4, 0, 3], "is_student": [False, True, False]})
    >>> top_factors(c, X, {})[["feature", "label", "mean_abs", "raises", "lowers", "direction"]].round(2).to_dict(orient="records")[0]
    {'feature': 'web_visit_count_7d', 'label': 'Web visit count 7d', 'mean_abs': 0.8, 'raises': 0.67, 'lowers': 0.33, 'direction': 'more raises the score'}
    """
    values = contributions.to_numpy(dtype=float)
    table = pd.DataFrame({
        "feature": list(contributions.columns),
        "label": [factor_label(name, registry) for name in contributions.columns],
        "mean_abs": np.abs(values).mean(axis=0),
        "raises": (values > 0).mean(axis=0), "lowers": (values < 0).mean(axis=0),
    }).sort_values("mean_abs", ascending=False, kind="stable", ignore_index=True).head(top)
    table["direction"] = [factor_direction(features[name].reset_index(drop=True), contributions[name].to_numpy(dtype=float),
                                           registry.get(name), labels) for name in table["feature"]]
    return table


MIXED = "no steady direction"
SAME_PUSH = "the same push for every row"


def factor_direction(values: pd.Series, pushes: np.ndarray, feature=None, labels: Mapping[str, str] | None = None) -> str:
    """Return which values of a feature push the score up, in words: for a number, whether more raises or lowers it
    (rank correlation); for a flag, what being set does; for a category, the values that push most up and down.

    Category values seen on fewer than 1% of the rows (at least 5) are left out: one
    lead's push is no pattern. A feature whose values push both ways reads `MIXED`, one whose
    rows all take one value (or the same push) `SAME_PUSH`.

    >>> pushes = np.array([0.5, -0.4, 0.1, -0.2])
    >>> factor_direction(pd.Series([9, 1, 5, 2]), pushes), factor_direction(pd.Series([True, False, False, False]), pushes)
    ('more raises the score', 'when set: raises the score')
    """
    if pd.api.types.is_bool_dtype(values) or (feature is not None and feature.dtype == "bool"):
        on = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
        if on.all() or not on.any():
            return SAME_PUSH
        words = feature.explain(True, labels) if feature is not None else "when set"
        return f"{words}: {'raises' if pushes[on].mean() > pushes[~on].mean() else 'lowers'} the score"
    if pd.api.types.is_numeric_dtype(values) and not (feature is not None and feature.dtype == "category"):
        seen = values.notna().to_numpy()
        if pd.Series(values[seen]).nunique() < 2:
            return SAME_PUSH
        if np.ptp(pushes[seen]) < 1e-9:  # a tree sees every value in one leaf (all beyond the training range)
            return SAME_PUSH
        rho = np.corrcoef(pd.Series(values[seen]).rank().to_numpy(), pd.Series(pushes[seen]).rank().to_numpy())[0, 1]
        return MIXED if not abs(rho) >= 0.1 else f"more {'raises' if rho > 0 else 'lowers'} the score"
    groups = pd.Series(pushes).groupby(values.astype("string").fillna("unknown").to_numpy())
    means = groups.mean()[groups.size() >= max(5, 0.01 * len(values))].sort_values(kind="stable")
    if len(means) < 2:
        return SAME_PUSH
    return f"highest for {readable(means.index[-1], labels)}, lowest for {readable(means.index[0], labels)}"


def factor_label(name: str, registry: dict) -> str:
    """Return the words for a feature as a whole: its declaration's description, short enough for a table row.

    A trailing gloss in brackets (the codes a category takes, "NaN if unknown") is left out,
    and a description that only repeats the column name (a flat export's) reads as words.

    >>> from leadscore.features.declarations import Feature
    >>> seniority = Feature("seniority", "explicit", "Seniority level (c_level, vp)", "lead", "l.seniority", "category")
    >>> factor_label("seniority", {"seniority": seniority}), factor_label("emp_var_rate", {}), factor_label("cons.price.idx", {})
    ('Seniority level', 'Emp var rate', 'Cons price idx')
    """
    feature = registry.get(name)
    text = feature.description if feature is not None else name
    if text.endswith(")") and " (" in text:
        text = text[:text.rindex(" (")]
    if text.startswith(name):  # dotted names (a flat export's emp.var.rate) read as words too
        text = readable(name.replace(".", " ")) + text[len(name):]
    return text


EXAMPLE_ROLES = ("highest model score", "just above the model's hot threshold", "just below the model's hot threshold",
                 "model and points table disagree most")
"""Why each example lead is shown, in the order they are chosen; a lead already shown is never shown twice."""


def choose_examples(scored: pd.DataFrame, hot: float) -> list[tuple[str, int]]:
    """Return (role, row position) of each example lead: the highest score, the nearest either side of `hot`, the widest gap.

    The gap is between the model's and the points table's probabilities. Ties go to the
    earlier row, and each example is a different lead (a lead has a row per snapshot), so
    the choice is the same on every run. A role no row fills (nobody is hot) is left out.
    """
    p = scored["model_proba"].to_numpy(dtype=float)
    ids = scored["lead_id"].to_numpy()
    by_score = np.argsort(-p, kind="stable")
    above = by_score[p[by_score] >= hot]
    gap = np.abs(p - scored["rule_proba"].to_numpy(dtype=float))
    preferred = (by_score, above[np.argsort(p[above], kind="stable")], by_score[p[by_score] < hot], np.argsort(-gap, kind="stable"))
    picks: list[tuple[str, int]] = []
    for role, positions in zip(EXAMPLE_ROLES, preferred):
        shown = {ids[i] for _, i in picks}
        chosen = next((int(i) for i in positions if ids[i] not in shown), None)
        if chosen is not None:
            picks.append((role, chosen))
    return picks


def example_leads(explainer: Explainer, picks: list[tuple[str, int]]) -> list[dict]:
    """Return each chosen lead as the report shows it: a letter, both scorers' figures, the outcome, the reasons."""
    if not picks:
        return []
    positions = [i for _, i in picks]
    X = explainer.features.iloc[positions][list(explainer.model.feature_names_in_)].reset_index(drop=True)
    model_reasons = reasons_from_contributions(explainer.model.contributions(X), X, explainer.registry,
                                               top=explainer.per_lead, labels=explainer.labels)
    rule_reasons = explainer.points.reasons(explainer.features.iloc[positions].reset_index(drop=True), top=explainer.per_lead)
    rows = explainer.scored.iloc[positions]
    return [{"name": f"Lead {letter}", "why_shown": role, "probability": float(row.model_proba), "grade": str(row.model_grade),
             "segment": str(row.model_segment), "points": float(row.rule_points), "points_segment": str(row.rule_segment),
             "won": bool(row.label), "reasons_model_up": list(up), "reasons_model_down": list(down), "reasons_rule": list(rule)}
            for letter, (role, _), row, up, down, rule in zip(string.ascii_uppercase, picks, rows.itertuples(),
                                                               model_reasons["reasons_up"], model_reasons["reasons_down"], rule_reasons)]
