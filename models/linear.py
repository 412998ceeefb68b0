"""The regularized logistic-regression lead model: the family that extrapolates when the population drifts.

Trees predict a constant beyond the last value they saw; a line keeps its slope, so a
macro column (an interest rate, a headcount) that moves out of the training range moves
the prediction with it. Numbers are imputed (median, with a missing-value indicator) and
standardized, optionally with a spline basis (quantile knots, linear beyond the ends) for
a bend; categories are one-hot encoded, rare ones pooled (`min_frequency`) and unseen ones
ignored. Each feature's contribution to a lead's log-odds is exact and cheap: its encoded
columns' distance from the training mean times their coefficients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler

from leadscore.models.lgbm import as_numbers, require_columns, training_categories
from leadscore.models.sampling import log_odds_shift

_MISSING = "(missing)"


class LinearLeadModel(ClassifierMixin, BaseEstimator):
    """L2-regularized logistic regression over the registered features, as one scikit-learn pipeline."""

    family = "logistic"

    def __init__(self, C: float = 1.0, spline_knots: int = 0, min_frequency: int = 20, max_iter: int = 1000):
        self.C = C
        self.spline_knots = spline_knots
        self.min_frequency = min_frequency
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y, eval_set=None, negative_rate: float = 1.0, sample_weight=None) -> LinearLeadModel:
        """Fit on X, y (`eval_set` is accepted for the shared interface; a penalized line needs no early stopping).

        `negative_rate` is the share of non-wins X keeps (models.sampling): predictions are
        shifted back to the population's odds. `sample_weight` weighs each row's loss (e.g. by
        recency); the encoding is learned unweighted.
        """
        y = np.asarray(y).astype(int)
        if len(np.unique(y)) < 2:
            raise ValueError("training labels hold a single class; a scorer needs wins and non-wins")
        self.feature_names_in_ = np.array(list(X.columns), dtype=object)
        self.categories_ = training_categories(X)
        prepared = self.prepare(X)
        self.encoder_ = self._encoder(prepared)
        encoded = self.encoder_.fit_transform(prepared)
        self.columns_of_ = self._output_columns()
        self.encoded_mean_ = np.asarray(encoded.mean(axis=0)).ravel()
        self.regression_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(encoded, y, sample_weight=sample_weight)
        self.negative_rate_ = float(negative_rate)
        self.classes_ = np.array([0, 1])
        self.log_odds_for_calibration_ = True
        return self

    def _encoder(self, prepared: pd.DataFrame) -> ColumnTransformer:
        """Return the encoding: every number in one imputer and scaler, each category and spline on its own.

        One transformer over all numbers (not one per column) keeps the fit fast on a wide
        frame; per column the result is the same: its median, its missing indicator, its scale.
        """
        numbers = [name for name in self.feature_names_in_ if name not in self.categories_]
        steps = []
        if numbers:
            steps.append(("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                                   StandardScaler()), numbers))
        for name in self.feature_names_in_:
            if name in self.categories_:
                steps.append((f"category:{name}", make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=_MISSING),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=self.min_frequency, sparse_output=False)), [name]))
                continue
            knots = _quantile_knots(prepared[name], self.spline_knots)
            if knots is not None:
                spline = SplineTransformer(knots=knots.reshape(-1, 1), degree=3, extrapolation="linear")
                steps.append((f"spline:{name}", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), spline),
                              [name]))
        return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)

    def _output_columns(self) -> dict[str, np.ndarray]:
        """Return each feature's columns in the encoded matrix: its scaled value, its missing indicator, its spline or one-hot columns."""
        out = {name: [] for name in self.feature_names_in_}
        slices = self.encoder_.output_indices_
        if "numbers" in self.encoder_.named_transformers_:
            numbers = next(columns for key, _, columns in self.encoder_.transformers_ if key == "numbers")
            start = slices["numbers"].start
            for i, name in enumerate(numbers):
                out[name].append(start + i)
            indicator = self.encoder_.named_transformers_["numbers"][0].indicator_
            for j, i in enumerate(indicator.features_ if indicator is not None else []):
                out[numbers[i]].append(start + len(numbers) + j)
        for key, part in slices.items():
            if ":" in key:
                out[key.split(":", 1)[1]].extend(range(part.start, part.stop))
        return {name: np.array(sorted(columns), dtype=int) for name, columns in out.items()}

    def _columns(self) -> dict:
        """Return each feature's encoded columns; a model saved with one transformer per feature names them by feature."""
        if hasattr(self, "columns_of_"):
            return self.columns_of_
        return {name: self.encoder_.output_indices_[name] for name in self.feature_names_in_}

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return X with the training columns in order: numbers as floats, categories as text (unseen ones kept)."""
        require_columns(X, self.feature_names_in_)
        out = {}
        for column in self.feature_names_in_:
            values = X[column]
            if column in self.categories_:
                text = values.astype("string")
                out[column] = text.astype(object).where(text.notna(), np.nan)
            else:
                out[column] = as_numbers(values)
        return pd.DataFrame(out, index=X.index)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return the log-odds of a win (corrected for sampled non-wins), the scale calibration reads."""
        return self.regression_.decision_function(self.encoder_.transform(self.prepare(X))) + log_odds_shift(self.negative_rate_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return uncalibrated (n, 2) probabilities."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return 1 where the uncalibrated probability is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's contribution to each lead's log-odds, against the average training lead.

        The contributions and the log-odds of the average encoded lead add up to the model's
        log-odds exactly (a line has no interactions to share out).
        """
        centred = self.encoder_.transform(self.prepare(X)) - self.encoded_mean_
        weights, columns = self.regression_.coef_.ravel(), self._columns()
        out = {name: centred[:, columns[name]] @ weights[columns[name]] for name in self.feature_names_in_}
        return pd.DataFrame(out, index=X.index)

    def expected_log_odds(self) -> float:
        """Return the log-odds of the average encoded training lead (what contributions are measured from)."""
        return float(self.encoded_mean_ @ self.regression_.coef_.ravel() + self.regression_.intercept_[0]
                     + log_odds_shift(self.negative_rate_))

    def feature_importance(self) -> pd.Series:
        """Return each feature's mean absolute contribution scale (|coefficient| x spread), largest first."""
        weights = np.abs(self.regression_.coef_.ravel())
        return pd.Series({name: float(weights[self._columns()[name]].sum()) for name in self.feature_names_in_}
                         ).sort_values(ascending=False)


def _quantile_knots(column: pd.Series, n_knots: int) -> np.ndarray | None:
    """Return distinct quantile knots for a spline, or None when the column has too few values to bend."""
    values = column.dropna().to_numpy(dtype=float)
    if n_knots < 3 or len(values) == 0:
        return None
    knots = np.unique(np.quantile(values, np.linspace(0, 1, n_knots)))
    return knots if len(knots) >= 3 else None
