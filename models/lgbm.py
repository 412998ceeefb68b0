"""The LightGBM lead model, with the categorical handling scoring must reproduce exactly.

Categories seen in training are recorded in `categories_`; at scoring time the same codes
are used and an unseen category becomes missing (LightGBM's own path for NaN), never an
error. No class reweighting: `scale_pos_weight` would distort the probabilities that the
calibration step then has to undo; LightGBM ranks imbalanced data well without it, and
calibration fixes the scale.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if

from leadscore.models.sampling import corrected_probability, log_odds_shift


def require_columns(X: pd.DataFrame, names) -> None:
    """Raise KeyError listing the training columns `X` lacks (both model families read columns by name)."""
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise KeyError(f"missing feature columns: {missing}")


def as_numbers(values: pd.Series) -> pd.Series:
    """Return a numeric or flag column as floats (text that is no number becomes NaN), as both families read numbers."""
    return pd.to_numeric(values.astype(float) if pd.api.types.is_bool_dtype(values) else values, errors="coerce").astype(float)


def training_categories(X: pd.DataFrame) -> dict[str, list[str]]:
    """Return the sorted categories of every column that is neither a number nor a flag (a manifest records them)."""
    return {c: sorted(X[c].dropna().astype(str).unique().tolist())
            for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))}


class LeadScoringModel(ClassifierMixin, BaseEstimator):
    """LightGBM classifier over the registered features, with early stopping on `eval_set`."""

    family = "lightgbm"

    def __init__(self, params: dict | None = None, early_stopping_rounds: int = 100, seed: int = 0):
        self.params = params
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed

    def fit(self, X: pd.DataFrame, y, eval_set: tuple[pd.DataFrame, np.ndarray] | None = None,
            negative_rate: float = 1.0) -> LeadScoringModel:
        """Fit on X, y; stop early on `eval_set` (validation features, labels) when given.

        `negative_rate` is the share of non-wins X keeps (models.sampling): predictions are
        shifted back to the population's odds.
        """
        y = np.asarray(y).astype(int)
        if len(np.unique(y)) < 2:
            raise ValueError("training labels hold a single class; a scorer needs wins and non-wins")
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.categories_ = training_categories(X)
        # threads: OpenMP's default (every core, or OMP_NUM_THREADS) unless params set n_jobs; a fixed count
        # above the cores left free oversubscribes them, and LightGBM's spinning threads then run several times slower
        params = {"random_state": self.seed, "n_jobs": None, "verbose": -1, **(self.params or {})}
        self.booster_model_ = lgb.LGBMClassifier(**params)
        fit_args = {}
        if eval_set is not None:
            fit_args = {
                "eval_X": (self.prepare(eval_set[0]),),
                "eval_y": (np.asarray(eval_set[1]).astype(int),),
                "eval_metric": "binary_logloss",
                "callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            }
        self.booster_model_.fit(self.prepare(X), y, **fit_args)
        self.best_iteration_ = int(self.booster_model_.best_iteration_ or self.booster_model_.n_estimators_)
        self.negative_rate_ = float(negative_rate)
        self.classes_ = np.array([0, 1])
        self.log_odds_for_calibration_ = True
        return self

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return X with the training columns in order, categoricals coded with the training categories."""
        require_columns(X, self.feature_names_in_)
        out = {}
        for column in self.feature_names_in_:
            values = X[column]
            if column in self.categories_:
                known = values.astype("string")
                known = known.where(known.isin(self.categories_[column]))  # unseen category -> missing
                out[column] = pd.Categorical(known.astype(object).where(known.notna(), None), categories=self.categories_[column])
            else:
                out[column] = as_numbers(values)
        return pd.DataFrame(out, index=X.index)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return uncalibrated (n, 2) probabilities (corrected for sampled non-wins)."""
        p = corrected_probability(self.booster_model_.predict_proba(self.prepare(X))[:, 1], getattr(self, "negative_rate_", 1.0))
        return np.column_stack([1 - p, p])

    @available_if(lambda self: getattr(self, "log_odds_for_calibration_", False))
    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return the booster's log-odds, the scale scikit-learn's calibration reads when it exists.

        Platt's sigmoid is a line in log-odds; fitted on probabilities instead, it cannot follow a
        booster whose scores crowd near 0 and lifts every lead under 1% to about 1.1%. A model
        whose calibrator was fitted on probabilities must keep being read on that scale, so the
        method exists only where `fit` set `log_odds_for_calibration_`.
        """
        return self.booster_model_.predict(self.prepare(X), raw_score=True) + log_odds_shift(getattr(self, "negative_rate_", 1.0))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return 1 where the uncalibrated probability is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's contribution to each lead's log-odds (LightGBM pred_contrib).

        About a hundred times the cost of a prediction: call it only for the leads that need reasons.
        """
        raw = self.booster_model_.booster_.predict(self.prepare(X), pred_contrib=True)
        return pd.DataFrame(raw[:, :-1], columns=list(self.feature_names_in_), index=X.index)

    def path_contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's contribution to each lead's log-odds along its trees' paths (`models.paths`).

        The cost of one prediction; the same sum as `contributions`, shared out split by split.
        """
        from leadscore.models.paths import path_contributions, path_table

        booster = self.booster_model_.booster_
        table = getattr(self, "path_table_", None)
        if table is None:
            table = self.path_table_ = path_table(booster)
        leaves = booster.predict(self.prepare(X), pred_leaf=True)
        return pd.DataFrame(path_contributions(table, leaves), columns=list(self.feature_names_in_), index=X.index)

    def feature_importance(self) -> pd.Series:
        """Return total gain per feature, largest first."""
        booster = self.booster_model_.booster_
        gain = booster.feature_importance(importance_type="gain")
        return pd.Series(gain, index=booster.feature_name()).sort_values(ascending=False)


def check_params(params: dict | None) -> None:
    """Raise ValueError naming the LightGBM parameters LightGBM refuses, by fitting two rounds on a few rows.

    A bad value (`num_leaves: -3`, `objective: nonsense`) would otherwise surface after an hour
    of feature building, as LightGBM's own fatal error. Two rounds on 40 rows cost milliseconds.

    >>> check_params({"num_leaves": 31})
    >>> check_params({"objective": "nonsense"})
    Traceback (most recent call last):
    ...
    ValueError: LightGBM refuses objective='nonsense': Unknown objective type name: nonsense
    """
    params = dict(params or {})
    problem = _refusal(params)
    if problem is None:
        return
    named = [k for k in params if k != "verbose" and _refusal({k: params[k]}) is not None] or list(params)
    shown = ", ".join(f"{k}={params[k]!r}" for k in named) or "the defaults"
    raise ValueError(f"LightGBM refuses {shown}: {problem}")


def _refusal(params: dict) -> str | None:
    """Return LightGBM's first line of complaint about `params` on a two-round fit of 40 rows, or None if it accepts them."""
    rounds = params.get("n_estimators", 2)
    trial = {"verbose": -1, **params, "n_estimators": min(rounds, 2) if isinstance(rounds, int) else rounds}
    rng = np.random.default_rng(0)
    X, y = pd.DataFrame({"a": rng.random(40), "b": rng.random(40)}), np.tile([0, 1], 20)
    try:
        lgb.LGBMClassifier(**trial).fit(X, y)
    except (lgb.basic.LightGBMError, ValueError, TypeError) as exc:
        return str(exc).strip().splitlines()[0]
    return None
