"""Score leads with a points table, as a scikit-learn estimator the evaluation treats like the model.

`decision_function` returns raw points. `predict_proba` maps points to the conversion rate
seen at that many points in the training snapshots (isotonic, so more points never means a
lower probability): rule and model are then compared on the same probability scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from leadscore.models.errors import BadInputError
from leadscore.models.rules.table import PointsTable, Rule, check_against_registry, load_points_table


class PointsScorer(ClassifierMixin, BaseEstimator):
    """Score leads with a declarative points table (`table`: a PointsTable, a path, or None for the default).

    >>> import pandas as pd
    >>> from leadscore.features.registry import feature_names
    >>> X = pd.DataFrame({n: [0] for n in feature_names()})
    >>> X["seniority"], X["company_size_band"], X["lead_source"] = "vp", "51-200", "organic"
    >>> PointsScorer().fit(pd.concat([X, X]), [0, 1]).decision_function(X).tolist()
    [15.0]
    """

    def __init__(self, table=None, features=None):
        self.table = table
        self.features = features  # {name: Feature}; default: the CRM feature registry

    def fit(self, X: pd.DataFrame, y) -> PointsScorer:
        """Validate the table against the registry and X, then learn points → conversion rate.

        Every other method needs the validated table, so each raises sklearn's NotFittedError
        before `fit`: an unchecked table never scores a lead.
        """
        table = self.table if isinstance(self.table, PointsTable) else load_points_table(self.table)
        registry = self._registry()
        check_against_registry(table, registry)
        self.table_ = table
        self.families_ = {name: f.family for name, f in registry.items()}
        _require_columns(table, X)
        points = self.decision_function(X)
        self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
        self.calibrator_.fit(points, np.asarray(y, dtype=float))
        self.classes_ = np.array([0, 1])
        return self

    def rule_points(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the points each rule gives each lead, one column per rule id (before caps)."""
        table = self._table()
        _require_columns(table, X)
        return pd.DataFrame({rule.id: _points_of(rule, X) for rule in table.rules}, index=X.index)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return each lead's points after family caps and the total floor and ceiling."""
        table = self._table()
        per_rule = self.rule_points(X)
        families = self._families()
        total = np.zeros(len(X))
        for family in sorted({families[r.feature] for r in table.rules}):
            ids = [r.id for r in table.rules if families[r.feature] == family]
            subtotal = per_rule[ids].sum(axis=1).to_numpy()
            limits = table.caps.get(family)
            if limits is not None:
                subtotal = np.clip(subtotal, limits.min, limits.max)
            total += subtotal
        return np.clip(total, table.total.min, table.total.max)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return (n, 2) probabilities: the training conversion rate at each lead's points."""
        check_is_fitted(self, "calibrator_", msg=_NOT_FITTED)
        p = self.calibrator_.predict(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return 1 for leads at or above the hot threshold."""
        return (self.decision_function(X) >= self._table().thresholds.segments["hot"]).astype(int)

    def stage(self, X: pd.DataFrame) -> pd.Categorical:
        """Return lifecycle stage lead, MQL or SQL from the thresholds."""
        t = self._table().thresholds.stages
        points = self.decision_function(X)
        labels = np.select([points >= t["SQL"], points >= t["MQL"]], ["SQL", "MQL"], default="lead")
        return pd.Categorical(labels, categories=["lead", "MQL", "SQL"], ordered=True)

    def segment(self, X: pd.DataFrame) -> pd.Categorical:
        """Return segment leave, nurture or hot from the thresholds."""
        t = self._table().thresholds.segments
        points = self.decision_function(X)
        labels = np.select([points >= t["hot"], points >= t["nurture"]], ["hot", "nurture"], default="leave")
        return pd.Categorical(labels, categories=["leave", "nurture", "hot"], ordered=True)

    def breakdown(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the rules that fired: one row per (lead row, rule) with its points (before caps)."""
        per_rule = self.rule_points(X)
        long = per_rule.reset_index(names="row").melt(id_vars="row", var_name="rule_id", value_name="points")
        return long[long["points"] != 0].sort_values(["row", "points"], key=_by_abs, ignore_index=True)

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[str]]:
        """Return, per lead, the `top` rules that moved its points most, each as "+20 attended a webinar".

        Points are shown whole (a decayed rule's 47.46 reads "+47"); a rule whose points round
        to zero moves nothing a person sees and is left out.
        """
        table = self._table()
        per_rule = self.rule_points(X).to_numpy()
        texts = np.array([r.text for r in table.rules], dtype=object)
        order = np.argsort(-np.abs(per_rule), axis=1, kind="stable")[:, :top]
        return [[f"{per_rule[row, i]:+.0f} {texts[i]}" for i in idx if round(per_rule[row, i]) != 0]
                for row, idx in enumerate(order)]

    def _table(self) -> PointsTable:
        check_is_fitted(self, "table_", msg=_NOT_FITTED)
        return self.table_

    def _registry(self) -> dict:
        if self.features is not None:
            return dict(self.features)
        from leadscore.features.registry import all_features

        return {f.name: f for f in all_features()}

    def _families(self) -> dict[str, str]:
        check_is_fitted(self, "families_", msg=_NOT_FITTED)
        return self.families_


_NOT_FITTED = "This %(name)s is not fitted yet: call fit on labelled training snapshots before scoring with it."


def _by_abs(column: pd.Series) -> pd.Series:
    return -column.abs() if column.name == "points" else column


def _require_columns(table: PointsTable, X: pd.DataFrame) -> None:
    needed = {r.feature for r in table.rules} | {r.decay.age_feature for r in table.rules if r.decay}
    missing = sorted(needed - set(X.columns))
    if missing:
        raise BadInputError(f"{table.source}: the feature frame lacks columns the rules use: {', '.join(missing)}")


def _fires(rule: Rule, column: pd.Series) -> np.ndarray:
    c = rule.condition
    kind = c.kind
    if kind == "at_least":
        return (pd.to_numeric(column, errors="coerce") >= c.at_least).fillna(False).to_numpy(dtype=bool)
    if kind == "between":
        values = pd.to_numeric(column, errors="coerce")
        return ((values >= c.between[0]) & (values <= c.between[1])).fillna(False).to_numpy(dtype=bool)
    if kind == "equals":
        if isinstance(c.equals, bool):
            return column.fillna(False).astype(bool).to_numpy() == c.equals
        return (column == c.equals).fillna(False).to_numpy(dtype=bool)
    return column.isin(c.in_).fillna(False).to_numpy(dtype=bool)


def points_for(rule: Rule, X: pd.DataFrame) -> np.ndarray:
    """Return the points one rule gives each row of `X` (its decay, per and cap applied; before family caps)."""
    return _points_of(rule, X)


def _points_of(rule: Rule, X: pd.DataFrame) -> np.ndarray:
    column = X[rule.feature]
    points = np.where(_fires(rule, column), rule.points, 0.0)
    if rule.per is not None:
        units = np.floor(pd.to_numeric(column, errors="coerce").fillna(0).to_numpy(dtype=float) / rule.per)
        points = points * np.maximum(units, 0)
    if rule.decay is not None:
        age = pd.to_numeric(X[rule.decay.age_feature], errors="coerce").to_numpy(dtype=float)
        if rule.decay.half_life_days is not None:
            factor = np.power(0.5, np.clip(age, 0, None) / rule.decay.half_life_days)
        else:
            factor = (age <= rule.decay.within_days).astype(float)
        points = points * np.nan_to_num(factor, nan=0.0)
    if rule.cap is not None:
        points = np.clip(points, min(rule.cap, 0), max(rule.cap, 0))
    return points
