"""The training core both paths share: choose the family, judge it held out and by backtest, refit it to the data end.

1. Every candidate (LightGBM; logistic regression at each configured C, unweighted and at
   each configured recency half-life, `model.logistic.half_lives`) is ranked by its
   mean ROC AUC over `model.selection_folds` forward folds of the latest labelled periods
   before an origin (as many periods as the time split's calibration slice holds), each
   fold scored by the candidate fitted on everything labelled before it: time-ordered
   validation folds. The choice is part of what is refitted: it is made again for every
   model, from the periods just before its origin, so under drift each model is chosen on
   the population nearest the one it scores.
2. The candidate chosen before the test slice, fitted on the fit rows and calibrated on that
   slice, scores the test slice: the held-out figures.
3. Rolling-origin backtest: the test period is cut into `backtest.folds` forward blocks;
   each block is scored by the candidate chosen before it, fitted on everything labelled
   before it and calibrated on the latest labelled period before it, as the deployed model
   is used when it is retrained every period. Promotion reads the backtest's mean over folds.
4. The deployed model is the candidate chosen on the latest periods, refitted on all
   labelled history (labels that cannot be seen yet are censored before this) and
   calibrated on the latest labelled period.

LightGBM's later fits reuse the number of rounds early stopping chose on the held-out fit.
Non-wins may be sampled for fitting (`model.negative_sampling`); calibration always sees
every row. Pure: frames in, fitted objects out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.models.calibration import calibrate, choose_method
from leadscore.models.linear import LinearLeadModel
from leadscore.models.lgbm import LeadScoringModel
from leadscore.models.sampling import keep_for_training
from leadscore.pipeline.config import Config
from leadscore.pipeline.evaluation.figures import side_by_side_metrics
from leadscore.pipeline.windows import Window, shift_text, window_at

BACKTEST_METRICS = ("roc_auc", "pr_auc", "brier", "ece")
"""The per-fold figures of the backtest, for the model and the points table."""


@dataclass(frozen=True)
class Candidate:
    """One model family with its settings, as the selection names it."""

    family: str
    C: float | None = None
    half_life: float | None = None  # recency weights: a row's weight halves every `half_life` periods back

    @property
    def name(self) -> str:
        """Return the candidate's name, e.g. 'logistic (C=0.1)' or 'logistic (C=0.1, half-life 4 periods)'."""
        if self.C is None:
            return self.family
        return f"{self.family} (C={self.C:g}" + (f", half-life {self.half_life:g} periods)" if self.half_life else ")")

    def make(self, config: Config, rounds: int | None = None):
        """Return an unfitted model of this candidate (LightGBM with `rounds` fixed rounds when given)."""
        if self.family == "logistic":
            lr = config.model.logistic
            return LinearLeadModel(C=self.C, spline_knots=lr.spline_knots, min_frequency=lr.min_frequency)
        params = dict(config.model.params)
        if rounds is not None:
            params["n_estimators"] = rounds
        return LeadScoringModel(params, config.model.early_stopping_rounds, config.model.seed)


def candidates(config: Config, recency: bool = True) -> list[Candidate]:
    """Return the configured candidates, in config order (the first wins a tie).

    Each logistic C competes unweighted and, with `recency`, at each configured half-life.
    """
    lr, out = config.model.logistic, []
    half_lives = (None, *lr.half_lives) if recency else (None,)
    for family in config.model.families:
        out += [Candidate("logistic", c, h) for c in lr.C for h in half_lives] if family == "logistic" else [Candidate(family)]
    return out


def recency_weights(as_of: pd.Series, half_life: float) -> np.ndarray:
    """Return each row's weight, 0.5 ** (how many of the rows' dates are later than its own / `half_life`).

    >>> recency_weights(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-03-01"])), 1).tolist()
    [0.25, 0.5, 1.0, 1.0]
    """
    rank = pd.Series(as_of).rank(method="dense").to_numpy()
    return 0.5 ** ((rank.max() - rank) / half_life)


@dataclass
class Fitted:
    """One fitted and calibrated model with its points table and the window it learned from."""

    model: object
    calibrated: object
    points: object
    method: str
    window: Window


@dataclass
class CoreResult:
    """Everything the training core decided and fitted."""

    candidate: Candidate  # the deployed model's: chosen on the latest labelled periods
    selection: pd.DataFrame  # candidate, validation ROC AUC on the latest labelled periods (the deployed model's choice)
    holdout: Fitted  # fitted before the test slice: the held-out figures
    test_frame: pd.DataFrame  # the test slice scored by `holdout`
    backtest: pd.DataFrame  # one row per fold: dates, rows, wins, model_* and rule_* figures
    backtest_frame: pd.DataFrame  # the test period scored fold by fold (column `fold`)
    deployed: Fitted  # refitted on everything labelled: the model that is registered and scores
    shifts: list[str] = field(default_factory=list)  # base-rate jumps, in words
    calibration_frame: pd.DataFrame = field(default_factory=pd.DataFrame)  # the calibration slice scored by `holdout`: thresholds are chosen there


def train_core(frame: pd.DataFrame, names: list[str], holdout: Window, test: np.ndarray, config: Config,
               reach: pd.Timedelta, make_points: Callable[[], object], score: Callable,
               period_name: Callable | None = None) -> CoreResult:
    """Select, judge, backtest and refit on a labelled frame (`lead_id`, `as_of`, `label` and the features `names`).

    `holdout` is the time split's window before the test slice, `test` its mask; `make_points`
    returns an unfitted points scorer; `score(rows, calibrated, points)` returns rows scored
    as the report reads them; `period_name` words an `as_of` in messages (default: its date).
    """
    X, y, as_of = frame[names], frame["label"].to_numpy(), frame["as_of"]
    periods = int(holdout.calibration.sum() and frame.loc[holdout.calibration, "as_of"].nunique())
    make_window = _window_maker(frame, periods, reach, config)
    fits: dict = {}  # (candidate, fold start) -> fitted model: consecutive origins share validation folds
    chosen, _, on_holdout = _select(X, y, frame, holdout.calibration, make_window, config, fits, holdout)
    # the first validation fold's window is the held-out one: its fit is reused, not repeated
    model = on_holdout[chosen] if chosen in on_holdout else fit_candidate(chosen, X, y, holdout, config, None, as_of)
    lightgbm = next((m for m in (model, *on_holdout.values()) if getattr(m, "best_iteration_", None)), None)
    rounds = lightgbm.best_iteration_ if lightgbm is not None else None
    held = calibrate_fitted(model, X, y, holdout, config, make_points)
    test_frame = score(frame.loc[test].reset_index(drop=True), held.calibrated, held.points)

    def choose_before(origin):
        latest = latest_periods(frame, origin, periods, reach)
        return _select(X, y, frame, latest, make_window, config, fits)[:2]

    rows, scored = [], []
    for i, (start, end) in enumerate(fold_bounds(frame.loc[test, "as_of"], config.backtest.folds), start=1):
        window = make_window(start)
        family = chosen if i == 1 and start == holdout.origin else choose_before(start)[0]
        fitted = fit_calibrated(family, X, y, window, config, rounds if family.family == "lightgbm" else None, make_points,
                                as_of)
        block = ((frame["as_of"] >= start) & (frame["as_of"] < end if end is not None else True)).to_numpy() & test
        part = score(frame.loc[block].reset_index(drop=True), fitted.calibrated, fitted.points).assign(fold=i)
        scored.append(part)
        rows.append(fold_row(i, part, window, frame, fitted.method) | {"family": family.name})
    deployed_family, selection = choose_before(None)
    deployed = fit_calibrated(deployed_family, X, y, make_window(None), config,
                              rounds if deployed_family.family == "lightgbm" else None, make_points, as_of)
    shifts = [shift_text(*shift, name=period_name) for shift in deployed.window.shifts]
    calibration_frame = score(frame.loc[holdout.calibration].reset_index(drop=True), held.calibrated, held.points)
    return CoreResult(deployed_family, selection, held, test_frame, pd.DataFrame(rows), pd.concat(scored, ignore_index=True),
                      deployed, shifts, calibration_frame)


def latest_periods(frame: pd.DataFrame, origin: pd.Timestamp | None, periods: int, reach: pd.Timedelta) -> np.ndarray:
    """Return the rows of the latest `periods` dates whose labels are decided before `origin` (None: the data end).

    >>> f = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=5, freq="MS", tz="UTC")})
    >>> latest_periods(f, pd.Timestamp("2024-05-01", tz="UTC"), 2, pd.Timedelta(0)).tolist()
    [False, False, True, True, False]
    """
    as_of = frame["as_of"]
    decided = ((as_of + reach <= origin) & (as_of < origin)) if origin is not None else pd.Series(True, index=frame.index)
    dates = np.array(sorted(as_of[decided].unique()))
    if len(dates) == 0:
        return np.zeros(len(frame), dtype=bool)
    return (decided & (as_of >= dates[max(len(dates) - max(periods, 1), 0)])).to_numpy()


def fold_bounds(test_dates: pd.Series, folds: int) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    """Return each fold's (first date, first date of the next fold or None): the test dates cut into forward blocks.

    >>> d = pd.Series(pd.date_range("2024-01-01", periods=5, freq="MS", tz="UTC"))
    >>> [(str(a.date()), b if b is None else str(b.date())) for a, b in fold_bounds(d, 2)]
    [('2024-01-01', '2024-04-01'), ('2024-04-01', None)]
    """
    dates = np.array(sorted(pd.Series(test_dates).unique()))
    blocks = [b for b in np.array_split(dates, min(folds, len(dates))) if len(b)]
    starts = [pd.Timestamp(b[0]) for b in blocks]
    return list(zip(starts, starts[1:] + [None]))


def backtest_means(backtest: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Return the mean over folds of each backtest figure, per scorer (NaN folds left out)."""
    return {scorer: {m: float(backtest[f"{scorer}_{m}"].mean()) for m in BACKTEST_METRICS} for scorer in ("model", "rule")}


def _select(X, y, frame: pd.DataFrame, validation: np.ndarray, make_window, config: Config, fits: dict,
            holdout: Window | None = None) -> tuple[Candidate, pd.DataFrame, dict]:
    """Return the candidate with the best mean ROC AUC over forward folds of the `validation` rows, the table,
    and the candidates fitted on the `holdout` window (when it is the first fold's).

    Each fold is scored by the candidate fitted on everything labelled before it; `fits`
    keeps those fits by (candidate, fold start), so a later origin whose folds overlap reuses them.
    """
    options = candidates(config)
    if len(options) == 1:
        return options[0], pd.DataFrame([{"candidate": options[0].name, "family": options[0].family,
                                          "validation_roc_auc": float("nan"), "folds": 0}]), {}
    as_of = frame["as_of"]
    scores = {candidate: [] for candidate in options}
    on_holdout = {}
    for start, end in fold_bounds(as_of[validation], config.model.selection_folds):
        held = holdout is not None and start == holdout.calibration_start
        block = validation & (as_of >= start).to_numpy() & ((as_of < end).to_numpy() if end is not None else True)
        if len(np.unique(y[block])) < 2:
            continue
        window = holdout if held else None
        for candidate in options:
            key = (candidate, "held out" if held else start)
            if key not in fits:
                window = window or make_window(start)
                fits[key] = fit_candidate(candidate, X, y, window, config, rounds=None, as_of=as_of)
            if held:
                on_holdout[candidate] = fits[key]
            scores[candidate].append(roc_auc_score(y[block], fits[key].predict_proba(X[block])[:, 1]))
    table = pd.DataFrame([{"candidate": c.name, "family": c.family,
                           "validation_roc_auc": float(np.mean(s)) if s else float("nan"), "folds": len(s)}
                          for c, s in scores.items()])
    best = int(table["validation_roc_auc"].fillna(-1).to_numpy().argmax())
    return options[best], table, on_holdout


def fit_candidate(candidate: Candidate, X, y, window: Window, config: Config, rounds: int | None,
                  as_of: pd.Series | None = None):
    """Fit `candidate` on the window's fit rows (sampled non-wins, if configured); early stopping when rounds is None.

    A candidate with a half-life weighs its rows by recency over their `as_of` dates.
    """
    rate, seed = config.model.negative_sampling, config.model.seed
    fit = np.flatnonzero(window.fit if rounds is None else window.train)
    fit = fit[keep_for_training(y[fit], rate, seed)]
    model = candidate.make(config, rounds)
    if candidate.half_life and as_of is not None:
        weights = recency_weights(as_of.iloc[fit], candidate.half_life)
        return model.fit(X.iloc[fit], y[fit], negative_rate=rate, sample_weight=weights)
    if rounds is None and candidate.family == "lightgbm":
        validation = np.flatnonzero(window.validation)
        validation = validation[keep_for_training(y[validation], rate, seed + 1)]
        return model.fit(X.iloc[fit], y[fit], eval_set=(X.iloc[validation], y[validation]), negative_rate=rate)
    return model.fit(X.iloc[fit], y[fit], negative_rate=rate)


def calibrate_fitted(model, X, y, window: Window, config: Config, make_points) -> Fitted:
    """Return `model` calibrated on the window's calibration rows, with the points table's mapping fitted on the same rows."""
    cal = window.calibration
    method = choose_method(y[cal], config.model.isotonic_min_positives)
    calibrated = calibrate(model, X[cal], y[cal], method)
    # the points table's probability mapping is learned on the same rows the model is calibrated on
    points = make_points().fit(X[cal], y[cal])
    return Fitted(model, calibrated, points, method, window)


def fit_calibrated(candidate: Candidate, X, y, window: Window, config: Config, rounds, make_points,
                   as_of: pd.Series | None = None) -> Fitted:
    """Return `candidate` fitted and calibrated on `window` (recency-weighted over `as_of` if it has a half-life)."""
    return calibrate_fitted(fit_candidate(candidate, X, y, window, config, rounds, as_of), X, y, window, config, make_points)


def _window_maker(frame: pd.DataFrame, periods: int, reach: pd.Timedelta, config: Config):
    def make(origin):
        return window_at(frame, origin, max(periods, 1), reach, config.model.validation_share, config.model.seed,
                         config.split.min_won, config.split.min_lost, config.model.base_rate_jump)
    return make


def fold_row(fold: int, part: pd.DataFrame, window: Window, frame: pd.DataFrame, method: str) -> dict:
    """Return one backtest row: the fold's periods, rows, wins, what its model saw, and both scorers' figures."""
    metrics = side_by_side_metrics(part)
    described = window.describe(frame)
    row = {"fold": fold, "first_as_of": str(pd.Timestamp(part["as_of"].min()).date()),
           "last_as_of": str(pd.Timestamp(part["as_of"].max()).date()), "rows": int(len(part)), "wins": int(part["label"].sum()),
           "fitted_to": described["fitted_on"]["last_as_of"], "calibrated_from": described["calibrated_on"]["first_as_of"],
           "calibration_method": method}
    for scorer in ("model", "rule"):
        row.update({f"{scorer}_{m}": metrics[scorer][m] for m in BACKTEST_METRICS})
    return row
