"""Fit a sparse integer points table to labelled snapshots: frame in, PointsTable out (pure).

Candidate conditions a person can read are generated from the features: a count at least k
(k at quantiles of the values above the least), a value at most d (`between` the least and
d: "days since at most d"), an attribute in a set, a flag. Forward selection on a logistic
regression (scikit-learn) picks at most `max_rules` of them, each step the condition that
explains most of what the rules already chosen leave unexplained; a condition whose weight
turns to the wrong sign for its family (a negative criterion never gains points, an activity
never loses any) leaves the pool. The weights (log-odds) are then scaled
onto the grid people use (multiples of `grid` within `points_range`), at the scale that
ranks the training leads best, and the count rules share one decay half-life, picked among
the offered ones on held-out leads of the training period.

Thresholds are the caller's: they are chosen on another slice (`with_thresholds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import sparse
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from leadscore.models.errors import BadInputError
from leadscore.models.rules.table import Limits, PointsTable, Rule, Thresholds, condition_text, parse_points_table
from leadscore.models.rules.scorer import PointsScorer, points_for

FAMILY_SIGNS: dict[str, int] = {"negative": -1, "implicit": 1}
"""The sign a family's rules may take (+1 gains only, -1 loses only); any other family takes either."""

_NO_THRESHOLDS = Thresholds(stages={"MQL": 0, "SQL": 0}, segments={"nurture": 0, "hot": 0})


class FitSettings(BaseModel):
    """How a points table is fitted (the `rules` section of the config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fit: bool = False  # training fits a table beside the current one (always when the packaged one does not fit the CRM)
    max_rules: int = Field(12, ge=1)
    points_range: tuple[int, int] = (-100, 100)  # the least and the most one rule gives
    grid: int = Field(5, ge=1)  # points are multiples of this
    quantiles: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9)  # where count and value thresholds are cut
    min_support: float = Field(0.005, gt=0, lt=0.5)  # a condition fires for at least this share of leads (and not all but it)
    max_levels: int = Field(30, ge=1)  # the most frequent levels of a category considered
    max_rows: int = Field(100_000, ge=1000)  # snapshots sampled for the fit: proportions settle long before
    max_changes: int = Field(3, ge=0)  # from a user's table: rules added, and rules dropped, at most
    seed: int = 0

    @model_validator(mode="after")
    def _range_spans_zero(self) -> FitSettings:
        low, high = self.points_range
        if not low < 0 < high:
            raise ValueError(f"points_range [{low}, {high}] must hold negative and positive points")
        return self


@dataclass
class RuleEvidence:
    """What the training leads say of one rule: how often it fires, how they convert, the points the evidence gives."""

    rule_id: str
    text: str
    condition: str
    old_points: float | None
    new_points: float | None
    fires_share: float
    win_rate: float
    ratio: float  # win rate when it fires over the win rate when it does not
    implied_ratio: float | None  # the odds ratio the old points stand for, at the fitted scale
    contradicted: bool = False  # the evidence gives points of the other sign

    @property
    def change(self) -> str:
        """Return kept, changed, added or dropped."""
        if self.old_points is None:
            return "added"
        if self.new_points is None:
            return "dropped"
        return "kept" if self.old_points == self.new_points else "changed"

    def describe(self) -> str:
        """Return the change in plain words, e.g. 'downloaded content: +30 → +10: leads it fires for convert 1.4x, not 3.0x'."""
        fires = f"leads it fires for ({self.fires_share:.1%}) convert {self.ratio:.1f}x as often as the others"
        if self.implied_ratio is not None and self.old_points is not None:
            fires += f" (its {self.old_points:+g} points stand for {self.implied_ratio:.1f}x)"
        if self.change == "added":
            return f"{self.text} ({self.condition}): new, {self.new_points:+g}: {fires}"
        if self.change == "dropped":
            return f"{self.text} ({self.condition}): {self.old_points:+g} → dropped: {fires}"
        return f"{self.text} ({self.condition}): {self.old_points:+g} → {self.new_points:+g}: {fires}"


@dataclass
class FittedTable:
    """A fitted table, the scale it was put on, the half-life it chose and the evidence for each rule."""

    table: PointsTable
    points_per_log_odds: float
    half_life_days: float | None
    evidence: list[RuleEvidence] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)  # candidate or kept rules whose evidence had the other sign


@dataclass
class _Candidate:
    id: str
    feature: str
    condition: dict
    sign: int
    fires: np.ndarray
    age_feature: str | None = None  # a count rule that decays with the age of its latest activity
    rule: Rule | None = None  # a user's own rule (`start`), scored as it is written
    shape: np.ndarray | None = None  # a user's rule's points at one point each (its decay and per applied)


def fit_points_table(X: pd.DataFrame, y, features: dict, settings: FitSettings = FitSettings(),
                     half_lives: tuple[float, ...] = (), validation: np.ndarray | None = None,
                     start: PointsTable | None = None, name: str = "fitted") -> FittedTable:
    """Return a sparse integer points table fitted to snapshots `X` labelled `y`.

    `features` maps feature name to its registry entry (family, dtype, roles). `validation`
    marks rows held out to choose the half-life (default: a random fifth of the rows).
    With `start`, the user's rules are kept (re-pointed, or dropped when the evidence gives
    them nothing) and at most `settings.max_changes` new rules are added.
    """
    y = np.asarray(y, dtype=int)
    if len(X) != len(y):
        raise BadInputError(f"{len(X)} snapshots but {len(y)} labels")
    if y.min(initial=1) == y.max(initial=0):
        raise BadInputError("fitting a points table needs won and not-won snapshots")
    rng = np.random.default_rng(settings.seed)
    held = validation if validation is not None else rng.random(len(X)) < 0.2
    rows = _sample(np.flatnonzero(~held), settings.max_rows, rng)
    check_rows = _sample(np.flatnonzero(held), settings.max_rows // 2, rng)
    fit_X, fit_y = X.iloc[rows].reset_index(drop=True), y[rows]
    check_X, check_y = X.iloc[check_rows].reset_index(drop=True), y[check_rows]
    generated = candidates(fit_X, features, settings)
    own = _own_candidates(start, fit_X) if start is not None else []
    pool = own + [c for c in generated if not any(_same(c, o) for o in own)]
    free = np.array([c.rule is not None for c in pool])
    # conditions are chosen once, without decay; each offered half-life then refits their points
    chosen, contradicted = _select(pool, fit_y, free, settings.max_changes if start is not None else settings.max_rules)
    if not chosen:
        raise BadInputError("no condition on these features separates won from not-won snapshots: "
                            "no points table can be fitted (more history, or features of the leads' activity, would help)")
    best = None
    for half_life in (None, *half_lives):
        result = _fit_once(fit_X, fit_y, pool, chosen, contradicted, settings, half_life, features, name, start)
        if result is None:
            continue
        scorer = PointsScorer(result.table, features=features).fit(check_X.head(2), [0, 1])
        auc = _auc(check_y, scorer.decision_function(check_X)) if len(np.unique(check_y)) == 2 else 0.0
        if best is None or auc > best[0] + 1e-4:
            best = (auc, result)
    if best is None:
        raise BadInputError("no condition on these features separates won from not-won snapshots: "
                            "no points table can be fitted (more history, or features of the leads' activity, would help)")
    fitted = best[1]
    fitted.evidence = evidence(start, fitted.table, fit_X, fit_y, features, fitted.points_per_log_odds, settings.grid)
    return fitted


def candidates(X: pd.DataFrame, features: dict, settings: FitSettings = FitSettings()) -> list[_Candidate]:
    """Return the readable conditions on the columns of `X` that fire for a share of leads in [min_support, 1 - min_support]."""
    out, seen = [], set()
    ages = _age_features(features)
    for name in X.columns:
        f = features.get(name)
        if f is None:
            continue
        sign = FAMILY_SIGNS.get(f.family, 0)
        column = X[name]
        found = []
        if f.dtype == "bool":
            found.append((f"{name}", {"equals": True}, column.fillna(False).astype(bool).to_numpy()))
        elif f.dtype == "category":
            counts = column.astype("string").value_counts(dropna=True).head(settings.max_levels)
            for level in counts.index:
                found.append((f"{name}_{level}", {"in": [str(level)]}, column.astype("string").eq(level).fillna(False).to_numpy(bool)))
        else:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            if len(finite) == 0:
                continue
            least = float(finite.min())
            above = finite[finite > least]
            # a count's first step (at least 1) is a readable cut; a measure's least value above the minimum only says "has one"
            cuts = {_readable(float(above.min()), f.dtype)} if len(above) and f.dtype == "int" else set()
            cuts |= {_readable(float(q), f.dtype) for q in np.quantile(above, settings.quantiles)} if len(above) else set()
            for cut in sorted(c for c in cuts if c > least):
                found.append((f"{name}_at_least_{cut:g}", {"at_least": cut}, values >= cut))
            floor = min(least, 0.0)  # "at most d" reads as between 0 and d for the measures that start at 0
            for cut in sorted({_readable(float(q), f.dtype) for q in np.quantile(finite, settings.quantiles)}):
                if cut < float(finite.max()):
                    found.append((f"{name}_at_most_{cut:g}", {"between": [floor, cut]}, (values >= floor) & (values <= cut)))
        for rule_id, condition, fires in found:
            share = fires.mean()
            if not settings.min_support <= share <= 1 - settings.min_support:
                continue
            key = np.packbits(fires).tobytes()
            if key in seen:  # the same leads as a condition already offered (e.g. a 7-day and a 30-day count of a rare type)
                continue
            seen.add(key)
            age = ages.get(name) if "at_least" in condition and f.family == "implicit" else None
            out.append(_Candidate(_identifier(rule_id), name, condition, sign, fires, age))
    return out


def with_thresholds(table: PointsTable, mql: float, sql: float, nurture: float, hot: float) -> PointsTable:
    """Return `table` with these thresholds, raised or lowered so that MQL <= SQL and nurture <= hot."""
    thresholds = Thresholds(stages={"MQL": mql, "SQL": max(sql, mql)}, segments={"nurture": min(nurture, hot), "hot": hot})
    return table.model_copy(update={"thresholds": thresholds})


def evidence(old: PointsTable | None, new: PointsTable, X: pd.DataFrame, y, features: dict,
             points_per_log_odds: float, grid: int = 5) -> list[RuleEvidence]:
    """Return, for every rule of `old` and `new` (matched by id, else by feature), what the leads say of it.

    A rule of `old` is contradicted when a refit of `old`'s rules on these leads gives it
    points of the other sign on the same scale, of at least half a `grid` step (so they would
    not round to zero).
    """
    y = np.asarray(y, dtype=int)
    new_by_id = {r.id: r for r in new.rules}
    old_rules = list(old.rules) if old is not None else []
    matched = {}
    for rule in old_rules:
        match = new_by_id.get(rule.id) or next((r for r in new.rules if r.feature == rule.feature and r.id not in matched.values()), None)
        matched[rule.id] = match.id if match else None
    weights = _refit_weights(old_rules, X, y) if old_rules else {}
    out = []
    for rule in old_rules:
        twin = new_by_id.get(matched[rule.id]) if matched[rule.id] else None
        fires = points_for(rule.model_copy(update={"decay": None, "per": None, "cap": None}), X) != 0
        implied = float(np.exp(rule.points / points_per_log_odds)) if points_per_log_odds > 0 else None
        weight = weights.get(rule.id, 0.0) * points_per_log_odds
        contradicted = bool(rule.points * weight < 0 and abs(weight) >= grid / 2)
        out.append(RuleEvidence(rule.id, rule.text, condition_text(rule), rule.points, twin.points if twin else None,
                                *_rates(fires, y), implied, contradicted))
    for rule in new.rules:
        if rule.id in matched.values():
            continue
        fires = points_for(rule.model_copy(update={"decay": None, "per": None, "cap": None}), X) != 0
        out.append(RuleEvidence(rule.id, rule.text, condition_text(rule), None, rule.points, *_rates(fires, y), None))
    return out


def table_card(table: PointsTable, X: pd.DataFrame, y) -> pd.DataFrame:
    """Return the table as a card: rule, condition, points, leads it fires for, their win rate."""
    y = np.asarray(y, dtype=int)
    rows = []
    for rule in table.rules:
        fires = points_for(rule.model_copy(update={"decay": None, "per": None, "cap": None}), X) != 0
        rows.append({"rule": rule.text, "condition": condition_text(rule), "points": rule.points,
                     "leads": int(fires.sum()), "share": float(fires.mean()) if len(fires) else 0.0,
                     "win_rate": float(y[fires].mean()) if fires.any() else float("nan")})
    return pd.DataFrame(rows, columns=["rule", "condition", "points", "leads", "share", "win_rate"])


def _fit_once(X, y, pool, chosen, contradicted, settings, half_life, features, name, start) -> FittedTable | None:
    columns = {j: _column(pool[j], X, half_life) for j in chosen}
    weights, more = _refit(columns, y, pool, chosen)
    weights = {j: w for j, w in weights.items() if w != 0}
    if start is not None:  # the user's rules the fit left out stay at no weight: `_to_table` drops them within the budget
        for j, c in enumerate(pool):
            if c.rule is not None and j not in weights:
                columns[j] = _column(c, X, half_life)
                weights[j] = 0.0
    return _to_table(X, y, pool, columns, weights, settings, half_life, features, name, start, contradicted + more)


def _to_table(X, y, pool, columns, weights, settings, half_life, features, name, start, contradicted) -> FittedTable | None:
    low, high = settings.points_range
    positive = max([w for w in weights.values() if w > 0], default=0.0)
    negative = max([-w for w in weights.values() if w < 0], default=0.0)
    top = min(high / positive if positive else np.inf, -low / negative if negative else np.inf)
    if not np.isfinite(top):
        top = min(high, -low)  # nothing but a user's rules at no weight: any scale gives them one grid step
    design = sparse.hstack([columns[j] for j in weights]).tocsc()
    beta = np.array(list(weights.values()))
    best = None
    for scale in top * np.linspace(0.2, 1.0, 9):
        points = np.clip(settings.grid * np.round(beta * scale / settings.grid), low, high)
        if not points.any():
            continue
        auc = _auc(y, design @ points)
        if best is None or auc > best[0] + 1e-6:
            best = (auc, scale, points)
    if best is None:
        return None
    _, scale, points = best
    if start is not None:  # a user's rule rounded to nothing is dropped only within the budget; the others keep one grid step
        ids = list(weights)
        zeros = sorted((k for k, j in enumerate(ids) if pool[j].rule is not None and points[k] == 0), key=lambda k: abs(beta[k]))
        for k in zeros[settings.max_changes:]:
            points[k] = pool[ids[k]].sign * settings.grid
    rules = _merge_levels([_rule_of(pool[j], float(p), half_life, features) for j, p in zip(weights, points) if p != 0])
    if not rules:
        return None
    table = parse_points_table({
        "name": name, "version": 1,
        "rules": [r.model_dump(by_alias=True, exclude_none=True, mode="json") for r in rules],
        "caps": {}, "total": {"min": float(sum(min(r.points, 0) for r in rules)), "max": float(sum(max(r.points, 0) for r in rules))},
        "thresholds": (start.thresholds if start is not None else _NO_THRESHOLDS).model_dump(),
    }, source=f"<fitted {name}>")
    table = _with_saturation_caps(table, X, y, features, settings)
    # only the user's own rules are worth naming: a generated condition of the wrong sign was never a rule
    return FittedTable(table, float(scale), half_life, contradicted=sorted({pool[j].id for j in contradicted if pool[j].rule is not None}))


def _with_saturation_caps(table: PointsTable, X, y, features, settings) -> PointsTable:
    """Cap each family's sum where the training leads' win rate stops rising, if ranking loses nothing by it."""
    scorer = PointsScorer(table, features=features).fit(X.head(2), [0, 1])
    per_rule = scorer.rule_points(X)
    base = _auc(y, scorer.decision_function(X))
    caps = {}
    for family in sorted({features[r.feature].family for r in table.rules}):
        ids = [r.id for r in table.rules if features[r.feature].family == family]
        if len(ids) < 2:
            continue
        subtotal = per_rule[ids].sum(axis=1).to_numpy()
        rate = IsotonicRegression(out_of_bounds="clip").fit(subtotal, y).predict(subtotal)
        top, bottom = subtotal[rate >= rate.max()].min(), subtotal[rate <= rate.min()].max()
        limits = {}
        if top < subtotal.max() and (subtotal >= top).mean() >= settings.min_support and top > 0:
            limits["max"] = float(settings.grid * np.ceil(top / settings.grid))
        if bottom > subtotal.min() and (subtotal <= bottom).mean() >= settings.min_support and bottom < 0:
            limits["min"] = float(settings.grid * np.floor(bottom / settings.grid))
        if limits:
            trial = table.model_copy(update={"caps": {**caps, family: Limits(**limits)}})
            capped = PointsScorer(trial, features=features).fit(X.head(2), [0, 1]).decision_function(X)
            if _auc(y, capped) >= base - 1e-4:
                caps[family] = Limits(**limits)
    return table.model_copy(update={"caps": caps}) if caps else table


def _select(pool, y, free, limit) -> tuple[list[int], list[int]]:
    """Return the pool indices forward selection keeps (at most `limit` of the non-free ones), and those dropped for their sign.

    Each step adds the condition with the largest score statistic (the gain in likelihood
    a one-step Newton move on it alone would give, g^2 / I, against the model of the conditions
    already chosen) whose sign its family allows, then refits them all. A condition whose
    refitted weight turns to the wrong sign leaves the pool. Greedy selection on the current
    model spends each rule where the evidence is not yet explained: an L1 path spends several
    on nested cuts of one strong feature before it reaches the next one. Selection stops early
    when no condition's statistic passes `_ENTRY_CHI2` (a chi-squared of one degree of
    freedom): on a small CRM, a rule the evidence does not support is not worth a line.
    Free columns (a user's own rules) enter first and stay unless their sign turns wrong.
    """
    design = sparse.hstack([sparse.csc_matrix((c.shape if c.rule is not None else c.fires).astype(float).reshape(-1, 1))
                            for c in pool]).tocsc()
    squared = design.multiply(design).tocsc()
    signs = np.array([c.sign for c in pool])
    banned = np.zeros(len(pool), dtype=bool)
    contradicted: list[int] = []
    chosen, probability = _fit_chosen(design, y, [j for j in range(len(pool)) if free[j]], signs, banned, free, contradicted)
    while sum(1 for j in chosen if not free[j]) < limit:
        residual = y - probability
        gradient = design.T @ residual
        information = squared.T @ (probability * (1 - probability))
        statistic = np.where(information > 0, gradient ** 2 / np.maximum(information, 1e-12), 0.0)
        open_ = (signs * gradient >= 0) & ~banned
        open_[chosen] = False
        open_ &= statistic >= _ENTRY_CHI2
        if not open_.any():
            break
        best = int(np.argmax(np.where(open_, statistic, -1.0)))
        chosen, probability = _fit_chosen(design, y, chosen + [best], signs, banned, free, contradicted)
    return chosen, contradicted


_ENTRY_CHI2 = 10.83
"""Chi-squared (1 df) a condition's score statistic must reach to enter: p < 0.001, as many candidates are tried."""


def _fit_chosen(design, y, chosen, signs, banned, free, contradicted) -> tuple[list[int], np.ndarray]:
    """Refit `chosen` (lightly penalised) until no weight has a sign its family forbids; return them and the fitted probabilities."""
    while chosen:
        model = LogisticRegression(C=10.0, max_iter=300).fit(design[:, chosen], y)
        wrong = [j for j, w in zip(chosen, model.coef_[0]) if signs[j] * w < 0]
        if not wrong:
            return chosen, model.predict_proba(design[:, chosen])[:, 1]
        banned[wrong] = True
        contradicted += [j for j in wrong if free[j]]
        chosen = [j for j in chosen if j not in wrong]
    return [], np.full(len(y), float(np.mean(y)))


def _refit(columns, y, pool, chosen) -> tuple[dict[int, float], list[int]]:
    """Refit the chosen columns with a light L2 penalty, dropping any whose sign turns wrong; return weights by pool index."""
    chosen = list(chosen)
    dropped = []
    while chosen:
        design = sparse.hstack([columns[j] for j in chosen]).tocsc()
        coef = LogisticRegression(C=1.0, max_iter=500).fit(design, y).coef_[0]
        wrong = [j for j, w in zip(chosen, coef) if pool[j].sign * w < 0]
        if not wrong:
            return dict(zip(chosen, coef.tolist())), dropped
        dropped += wrong
        chosen = [j for j in chosen if j not in wrong]
    return {}, dropped


def _refit_weights(rules: list[Rule], X, y) -> dict[str, float]:
    design = np.column_stack([points_for(r.model_copy(update={"points": 1.0 if r.points >= 0 else -1.0, "cap": None}), X) * np.sign(r.points or 1)
                              for r in rules])
    if len(np.unique(y)) < 2:
        return {}
    coef = LogisticRegression(C=1.0, max_iter=500).fit(design, y).coef_[0]
    return dict(zip([r.id for r in rules], coef.tolist()))


def _own_candidates(start: PointsTable, X: pd.DataFrame) -> list[_Candidate]:
    out = []
    for rule in start.rules:
        unit = rule.model_copy(update={"points": 1.0, "cap": None})
        shape = points_for(unit, X)
        sign = -1 if rule.points < 0 else 1
        out.append(_Candidate(rule.id, rule.feature, rule.condition.model_dump(by_alias=True, exclude_none=True, mode="json"),
                              sign, shape != 0, rule=rule, shape=shape))
    return out


def _column(c: _Candidate, X: pd.DataFrame, half_life: float | None):
    if c.rule is not None:
        values = c.shape
    elif c.age_feature is not None and half_life:
        age = pd.to_numeric(X[c.age_feature], errors="coerce").to_numpy(dtype=float)
        values = c.fires * np.nan_to_num(np.power(0.5, np.clip(age, 0, None) / half_life), nan=0.0)
    else:
        values = c.fires.astype(float)
    return sparse.csc_matrix(values.reshape(-1, 1))


def _rule_of(c: _Candidate, points: float, half_life: float | None, features: dict) -> Rule:
    if c.rule is not None:
        cap = c.rule.cap
        if cap is not None:  # the user's cap keeps its ratio to the points
            cap = float(np.sign(points) * abs(cap) * abs(points) / max(abs(c.rule.points), 1e-9)) if points else None
        return c.rule.model_copy(update={"points": points, "cap": cap})
    f = features[c.feature]
    data = {"id": c.id, "label": _label(f, c.condition), "feature": c.feature, "condition": c.condition, "points": points}
    if c.age_feature is not None and half_life:
        data["decay"] = {"half_life_days": float(half_life), "age_feature": c.age_feature}
    return Rule.model_validate(data)


def _merge_levels(rules: list[Rule]) -> list[Rule]:
    """Merge the category rules of one feature that give the same points into one 'in' rule."""
    out, groups = [], {}
    for rule in rules:
        if rule.condition.kind == "in" and rule.id.startswith(rule.feature):
            groups.setdefault((rule.feature, rule.points), []).append(rule)
        else:
            out.append(rule)
    for (feature, points), group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        levels = sorted({v for r in group for v in r.condition.in_}, key=str)
        first = group[0]
        out.append(first.model_copy(update={
            "id": _identifier(f"{feature}_in_{'_'.join(str(v) for v in levels)}")[:60],
            "label": re.sub(r" is .*$", "", first.label or feature) + f" is {' or '.join(str(v) for v in levels)}",
            "condition": first.condition.model_copy(update={"in_": levels})}))
    return out


def _label(feature, condition: dict) -> str:
    text = (feature.description or feature.name).split(" (")[0]
    text = text[0].lower() + text[1:]
    if "equals" in condition:
        return text
    if "in" in condition:
        return f"{text} is {' or '.join(str(v) for v in condition['in'])}"
    if "at_least" in condition:
        return f"{text} at least {condition['at_least']:g}"
    return f"{text} at most {condition['between'][1]:g}"


def _age_features(features: dict) -> dict[str, str]:
    """Map each activity count feature to the days-since feature of the same activity types (its decay's age)."""
    ages = {tuple(sorted(f.roles)): f.name for f in features.values() if f.name.startswith("days_since_last_") and f.roles}
    return {f.name: ages[tuple(sorted(f.roles))] for f in features.values()
            if f.family == "implicit" and f.dtype == "int" and f.roles and tuple(sorted(f.roles)) in ages}


def _same(c: _Candidate, own: _Candidate) -> bool:
    return c.feature == own.feature and np.array_equal(c.fires, own.fires)


def _rates(fires: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    share = float(fires.mean()) if len(fires) else 0.0
    win = float(y[fires].mean()) if fires.any() else float("nan")
    other = float(y[~fires].mean()) if (~fires).any() else float("nan")
    return share, win, (win / other) if other and other == other and win == win else float("nan")


def _readable(value: float, dtype: str) -> float:
    """Return a cut people can read: a whole number for counts, two significant digits otherwise."""
    if dtype == "int" or abs(value) >= 10:
        return float(np.ceil(value)) if dtype == "int" else float(f"{value:.2g}")
    return float(f"{value:.2g}")


def _identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _sample(rows: np.ndarray, most: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(rows, size=most, replace=False)) if len(rows) > most else rows


def _auc(y, score) -> float:
    return float(roc_auc_score(y, score))
