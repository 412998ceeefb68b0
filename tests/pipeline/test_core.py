"""The training core: refit windows without label leakage, forward folds, family choice, drift warnings, promotion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from leadscore.pipeline.config import load_config, with_settings
from leadscore.pipeline.core import Candidate, candidates, fit_candidate, fold_bounds, recency_weights, train_core
from leadscore.pipeline.promotion import decide
from leadscore.pipeline.split import split_by_time
from leadscore.pipeline.windows import Window, base_rate_shifts, window_at

START = pd.Timestamp("2024-01-01", tz="UTC")


def _frame(n_dates=20, per_date=300, seed=0, trend=0.0, jump_at=None):
    """Monthly snapshots of the same leads; `trend` moves a macro column (and the odds) with time."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, day in enumerate(pd.date_range(START, periods=n_dates, freq="30D")):
        x = rng.normal(size=per_date)
        macro = np.full(per_date, trend * i) + rng.normal(scale=0.05, size=per_date)
        logit = 1.5 * x - 3 + macro + (1.5 if jump_at is not None and i >= jump_at else 0.0)
        parts.append(pd.DataFrame({"lead_id": [f"L{j}" for j in range(per_date)], "as_of": day, "x": x, "macro": macro,
                                   "kind": rng.choice(["a", "b"], per_date),
                                   "label": (rng.random(per_date) < 1 / (1 + np.exp(-logit))).astype(int)}))
    return pd.concat(parts, ignore_index=True)


class _RankByX(ClassifierMixin, BaseEstimator):
    """A points scorer standing in for the points table: ranks by x, maps to the calibration rows' win rate."""

    def fit(self, X, y):
        self.rate_ = float(np.mean(y))
        return self

    def decision_function(self, X):
        return X["x"].to_numpy()

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 1 - self.rate_), np.full(len(X), self.rate_)])


def _score(rows, calibrated, points):
    return pd.DataFrame({"lead_id": rows["lead_id"], "as_of": rows["as_of"], "label": rows["label"],
                         "model_proba": calibrated.predict_proba(rows)[:, 1],
                         "rule_points": points.decision_function(rows), "rule_proba": points.predict_proba(rows)[:, 1]})


def _run(frame, config, reach_days=90):
    split = split_by_time(frame, with_settings(config, {"windows": {"horizon_days": reach_days}}))
    holdout = Window(split.test_start, split.calibration_start, split.fit, split.validation, split.calibration)
    return train_core(frame, ["x", "macro", "kind"], holdout, split.test, config, pd.Timedelta(days=reach_days),
                      _RankByX, _score)


@settings(max_examples=40, deadline=None)
@given(n_dates=st.integers(6, 16), reach_days=st.sampled_from([0, 30, 60, 90]), periods=st.integers(1, 3),
       origin_back=st.integers(0, 4), seed=st.integers(0, 1000))
def test_no_window_fits_or_calibrates_on_a_label_decided_after_its_origin(n_dates, reach_days, periods, origin_back, seed):
    """Property: fit labels are decided before calibration starts, calibration rows are later than fit rows and
    decided before the origin; the deployed window (origin None) uses only rows the frame holds as labelled."""
    frame = _frame(n_dates, per_date=40, seed=seed)
    dates = sorted(frame["as_of"].unique())
    origin = None if origin_back == 0 else pd.Timestamp(dates[-origin_back])
    reach = pd.Timedelta(days=reach_days)
    try:
        w = window_at(frame, origin, periods, reach, 0.2, seed, 1, 1, 1.5)
    except Exception as exc:  # too few labelled dates before the origin is the one refusal
        assert "too few" in str(exc)
        return
    as_of = frame["as_of"]
    fit, cal = as_of[w.train], as_of[w.calibration]
    assert len(cal) and len(fit) == 0 or (fit + reach <= w.calibration_start).all()
    assert len(fit) == 0 or fit.max() < cal.min()
    if origin is not None:
        assert (cal + reach <= origin).all() and (cal < origin).all()
        assert ((fit + reach) <= origin).all()
    assert not set(frame.loc[w.fit, "lead_id"]) & set(frame.loc[w.validation, "lead_id"])
    assert not (w.fit & w.calibration).any() and not (w.validation & w.calibration).any()


def test_folds_tile_the_test_dates_forward_without_overlap():
    dates = pd.Series(pd.date_range(START, periods=7, freq="30D"))
    bounds = fold_bounds(dates, 3)
    assert len(bounds) == 3 and bounds[-1][1] is None
    covered = [d for d in dates if any(a <= d and (b is None or d < b) for a, b in bounds)]
    assert covered == list(dates)
    assert all(a < b for a, b in bounds[:-1])
    assert len(fold_bounds(dates[:2], 5)) == 2  # never more folds than dates


def test_the_core_refits_to_the_data_end_and_backtests_forward():
    frame = _frame(seed=4)
    config = load_config(model={"params": {"n_estimators": 60}, "families": ["lightgbm"]}, backtest={"folds": 3},
                         split={"min_won": 10, "min_lost": 10})
    result = _run(frame, config)
    horizon = pd.Timedelta(days=90)
    deployed, held = result.deployed.window, result.holdout.window
    as_of = frame["as_of"]
    # the deployed model saw later history than the held-out one, calibration on the most recent labelled period
    assert as_of[deployed.train].max() > as_of[held.train].max()
    assert as_of[deployed.calibration].max() == as_of.max()
    assert (as_of[deployed.train] + horizon <= deployed.calibration_start).all()
    assert list(result.backtest["fold"]) == [1, 2, 3]
    assert (result.backtest["first_as_of"] > result.backtest["fitted_to"]).all()  # each fold fitted before it starts
    assert result.backtest["rows"].sum() == len(result.test_frame)
    for column in ("model_roc_auc", "model_pr_auc", "model_brier", "model_ece", "rule_roc_auc", "rule_ece"):
        assert result.backtest[column].between(0, 1).all(), column
    assert result.backtest["model_roc_auc"].mean() > result.backtest["rule_roc_auc"].mean() - 0.05


def test_a_drifting_macro_column_chooses_the_family_that_extrapolates():
    frame = _frame(n_dates=20, per_date=400, seed=5, trend=0.25)
    config = load_config(model={"params": {"n_estimators": 80}}, split={"min_won": 10, "min_lost": 10}, backtest={"folds": 2})
    assert [c.name for c in candidates(config)] == ["lightgbm", "logistic (C=0.1)", "logistic (C=1)"]
    result = _run(frame, config)
    assert result.candidate.family == "logistic"
    table = result.selection.set_index("candidate")["validation_roc_auc"]
    assert table[result.candidate.name] == table.max()


def _changing_frame(n_dates=20, per_date=400, seed=7, change_at=16):
    """Monthly snapshots whose winners change kind at `change_at`: a bend in x before, a drifting macro column after."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, day in enumerate(pd.date_range(START, periods=n_dates, freq="30D")):
        x = rng.normal(size=per_date)
        macro = np.full(per_date, 0.8 * max(i - change_at + 1, 0)) + rng.normal(scale=0.05, size=per_date)
        logit = -2 + (2 * (np.abs(x) - 0.8) if i < change_at else 0.0) + macro
        parts.append(pd.DataFrame({"lead_id": [f"L{j}" for j in range(per_date)], "as_of": day, "x": x, "macro": macro,
                                   "kind": rng.choice(["a", "b"], per_date),
                                   "label": (rng.random(per_date) < 1 / (1 + np.exp(-logit))).astype(int)}))
    return pd.concat(parts, ignore_index=True)


def test_the_deployed_family_is_chosen_on_the_latest_periods_not_on_the_held_out_ones():
    # before the test period a bend in x wins (trees); in it a macro column drifts out of range (a line)
    config = load_config(model={"params": {"n_estimators": 60}, "logistic": {"C": [1.0]}},
                         split={"min_won": 10, "min_lost": 10}, backtest={"folds": 2})
    result = _run(_changing_frame(), config, reach_days=1)
    assert result.holdout.model.family == "lightgbm"
    assert result.candidate.family == "logistic" and result.deployed.model.family == "logistic"
    table = result.selection.set_index("candidate")["validation_roc_auc"]
    assert table[result.candidate.name] == table.max()
    assert set(result.backtest["family"]) <= {"lightgbm", "logistic (C=1)"}


def test_a_base_rate_jump_is_said_in_words_and_narrows_calibration_to_the_latest_period():
    frame = _frame(n_dates=20, per_date=400, seed=6, jump_at=18)
    config = load_config(model={"params": {"n_estimators": 40}, "families": ["logistic"], "logistic": {"C": [1.0]}},
                         split={"min_won": 10, "min_lost": 10}, backtest={"folds": 1})
    result = _run(frame, config, reach_days=1)
    assert result.shifts and "times as high" in result.shifts[-1]
    deployed = result.deployed.window
    assert deployed.narrowed and frame.loc[deployed.calibration, "as_of"].nunique() == 1
    steady = _run(_frame(n_dates=20, per_date=400, seed=6), config, reach_days=1)
    assert not steady.shifts and not steady.deployed.window.narrowed


def test_a_small_period_moving_by_chance_is_not_called_drift():
    dates = pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True)
    assert base_rate_shifts(pd.DataFrame({"rows": [30, 30], "wins": [2, 4]}, index=dates), 1.5) == []
    assert len(base_rate_shifts(pd.DataFrame({"rows": [3000, 3000], "wins": [200, 400]}, index=dates), 1.5)) == 1


def test_promotion_names_the_backtest_mean_it_was_decided_on():
    decision = decide("roc_auc", 0.0, challenger=0.80, rule=0.82, champion=None, basis="backtest mean")
    assert not decision.promote and decision.reason.startswith("not promoted: roc_auc (backtest mean) 0.8000")


def test_a_single_candidate_needs_no_validation_fold():
    config = load_config(model={"families": ["logistic"], "logistic": {"C": [0.5]}})
    assert candidates(config) == [Candidate("logistic", 0.5)]
    with pytest.raises(Exception, match="families"):
        load_config(model={"families": []})


def test_each_logistic_penalty_competes_at_each_recency_half_life_on_a_time_split_only():
    config = load_config(model={"families": ["lightgbm", "logistic"], "logistic": {"C": [1.0], "half_lives": [4]}})
    assert [c.name for c in candidates(config)] == ["lightgbm", "logistic (C=1)", "logistic (C=1, half-life 4 periods)"]
    assert [c.name for c in candidates(config, recency=False)] == ["lightgbm", "logistic (C=1)"]
    with pytest.raises(Exception, match="half-life"):
        load_config(model={"logistic": {"half_lives": [0]}})


def test_a_half_life_weighs_the_fit_rows_by_how_recent_their_period_is():
    frame = _changing_frame(n_dates=8, per_date=200)
    window = window_at(frame, None, 1, pd.Timedelta(0), 0.2, 0, 1, 1, 1.5)
    config = load_config()
    X, y = frame[["x", "macro", "kind"]], frame["label"].to_numpy()
    weighted = fit_candidate(Candidate("logistic", 1.0, 1.0), X, y, window, config, None, frame["as_of"])
    plain = fit_candidate(Candidate("logistic", 1.0), X, y, window, config, None, frame["as_of"])
    # the winners change kind at period 7 of 8: weighting recent periods moves the fit towards them
    assert not np.allclose(weighted.regression_.coef_, plain.regression_.coef_)
    assert recency_weights(frame["as_of"], 2.0).max() == 1.0
