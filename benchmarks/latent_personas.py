"""Latent personas: unsupervised classes of who a lead is, learned from the explicit attributes.

An experiment behind `quality_experiments.py --personas K` (BENCHMARKS.md), not part of the
model: the classes it finds lift the test AUC by 0.002, the exact persona posterior by 0.009.

Buyers differ by persona (an ideal-fit VP of marketing at a mid-size software company, a
student, a competitor...), and a persona shows in the combination of attributes, each one
only weakly: P(persona | seniority, department, industry, source, size, email) multiplies
many small likelihoods. Trees fitted on a few thousand wins learn such products poorly; a
latent class model fitted on every training lead, without labels, learns them well. Its
class probabilities would be given to LightGBM as features, which then learns which classes buy.

The EM is written here (~40 lines of numpy: one-hot matrix products) rather than taken from
StepMix, the maintained latent-class package: StepMix took 327 s to fit 20k leads on this
machine (BENCHMARKS.md), this takes seconds for 100k. It is fitted on one row per lead of the
training slice only, without labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORICAL: tuple[str, ...] = ("seniority", "department", "industry", "lead_source", "is_personal_email", "is_competitor")
"""Explicit features the classes are built from (title_bucket repeats seniority, so it is left out)."""

CONTINUOUS: tuple[str, ...] = ("company_employees",)
"""Numeric explicit features, modelled as Gaussian in log10 (missing allowed)."""


def persona_columns(n_personas: int) -> list[str]:
    """Return the names of the class-probability columns: persona_1 ... persona_K."""
    return [f"persona_{k + 1}" for k in range(n_personas)]


class LatentPersonas:
    """Fit latent classes on one row per lead; return each lead's class probabilities."""

    def __init__(self, n_personas: int = 6, n_init: int = 8, max_iter: int = 1000, random_state: int = 0) -> None:
        self.n_personas = n_personas
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, outcome=None, start=None) -> "LatentPersonas":
        """Fit by EM on `frame` (one row per lead, the explicit feature columns); the best of `n_init` starts.

        `outcome` (optional, one 0/1 per lead: won during the training window) is one more
        indicator while fitting, so the classes separate buyers; `transform` never sees it.
        """
        self.levels_ = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL}
        onehot, size = self._design(frame)
        self.outcome_width_ = 0
        if outcome is not None:
            won = np.asarray(outcome).astype(float)[:, None]
            onehot = np.hstack([onehot, won, 1 - won])
            self.outcome_width_ = 2
        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(self.n_init):
            resp = rng.dirichlet(np.ones(self.n_personas), len(frame)) if start is None else np.asarray(start, dtype=float)
            previous = -np.inf
            for _ in range(self.max_iter):
                params = self._m_step(onehot, size, resp)
                log_joint = self._log_joint(onehot, size, params)
                log_lik = np.logaddexp.reduce(log_joint, axis=1)
                resp = np.exp(log_joint - log_lik[:, None])
                if log_lik.sum() - previous < 1e-8 * abs(log_lik.sum()):
                    break
                previous = log_lik.sum()
            if best is None or log_lik.sum() > best[0]:
                best = (log_lik.sum(), params)
        self.log_likelihood_, params = best
        # a stable order (largest class first), so persona_1 means the same class within one fit
        order = np.argsort(-params[0], kind="stable")
        log_theta = params[1][order][:, :params[1].shape[1] - self.outcome_width_]
        self.params_ = (params[0][order], log_theta, params[2][order], params[3][order])
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the class probabilities of each row of `frame` (unseen categories count as missing)."""
        onehot, size = self._design(frame)
        log_joint = self._log_joint(onehot, size, self.params_)
        proba = np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1)[:, None])
        return pd.DataFrame(proba, columns=persona_columns(self.n_personas), index=frame.index)

    def _design(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return the one-hot matrix of the categorical attributes (missing: all zeros) and log10 size (NaN if unknown)."""
        blocks = []
        for c in CATEGORICAL:
            values = frame[c].astype("object").map(lambda v: str(v) if pd.notna(v) else None).to_numpy()
            blocks.append(np.stack([values == level for level in self.levels_[c]], axis=1).astype(float))
        employees = pd.to_numeric(frame[CONTINUOUS[0]], errors="coerce").astype(float).to_numpy()
        size = np.log10(np.where(employees >= 1, employees, np.nan))
        return np.hstack(blocks), size

    def _m_step(self, onehot: np.ndarray, size: np.ndarray, resp: np.ndarray):
        """Return (class shares, per-class category probabilities, size means, size spreads) for `resp`."""
        shares = resp.mean(axis=0)
        counts = resp.T @ onehot + 0.1  # a little smoothing: no category gets probability 0
        theta, start = np.empty_like(counts), 0
        widths = [len(self.levels_[c]) for c in CATEGORICAL] + ([self.outcome_width_] if self.outcome_width_ else [])
        for width in widths:
            block = counts[:, start:start + width]
            theta[:, start:start + width] = block / block.sum(axis=1, keepdims=True)
            start += width
        known = ~np.isnan(size)
        weights = resp[known]
        mean = weights.T @ size[known] / weights.sum(axis=0)
        spread = np.sqrt((weights * (size[known, None] - mean) ** 2).sum(axis=0) / weights.sum(axis=0)) + 1e-3
        return shares, np.log(theta), mean, spread

    def _log_joint(self, onehot: np.ndarray, size: np.ndarray, params) -> np.ndarray:
        """Return log P(class) + log P(attributes | class) for every row and class."""
        shares, log_theta, mean, spread = params
        log_joint = np.log(shares) + onehot @ log_theta.T
        known = ~np.isnan(size)
        z = (size[known, None] - mean) / spread
        log_joint[known] += -0.5 * z ** 2 - np.log(spread) - 0.5 * np.log(2 * np.pi)
        return log_joint
