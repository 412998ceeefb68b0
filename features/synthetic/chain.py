"""Simulate each lead's hidden buying state day by day, and compute the exact oracle.

The state on day t is drawn from the persona's daily transition matrix applied to the state
on day t-1. A snapshot taken at midnight starting day D sees everything up to the end of
day D-1, so the best any scorer can do is to know the persona and the state on day D-1:
P(won within (D, D + H days]) = (P_persona ** H)[state, won].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.synthetic.personas import COLD, OPPORTUNITY, WARM, WON, transition_matrices

NOT_YET = -1  # before the lead was created


def simulate_states(persona: np.ndarray, created_day: np.ndarray, start_state: np.ndarray, days: int, rng: np.random.Generator) -> np.ndarray:
    """Return the state of every lead on every day, shape (leads, days), int8, -1 before creation."""
    cumulative = np.cumsum(transition_matrices(), axis=2)
    n = len(persona)
    states = np.full((n, days), NOT_YET, dtype=np.int8)
    current = np.full(n, NOT_YET, dtype=np.int8)
    for day in range(days):
        born = created_day == day
        current[born] = start_state[born]
        alive = current >= 0
        if alive.any():
            idx = np.flatnonzero(alive)
            cum = cumulative[persona[idx], current[idx]]
            draw = rng.random(len(idx))
            moved = (draw[:, None] > cum).sum(axis=1).astype(np.int8)
            # a newborn lead keeps its start state on its first day
            moved[born[idx]] = start_state[idx[born[idx]]]
            current[idx] = moved
        states[:, day] = current
    return states


def state_runs(states: np.ndarray) -> pd.DataFrame:
    """Compress the day-by-state matrix into runs: lead, state, first_day, end_day (exclusive)."""
    n, days = states.shape
    change = np.ones((n, days), dtype=bool)
    change[:, 1:] = states[:, 1:] != states[:, :-1]
    lead, first = np.nonzero(change)
    state = states[lead, first]
    end = np.empty_like(first)
    end[:-1] = np.where(lead[1:] == lead[:-1], first[1:], days)
    end[-1] = days
    keep = state >= 0
    return pd.DataFrame({"lead": lead[keep], "state": state[keep], "first_day": first[keep], "end_day": end[keep]})


def win_probability_table(horizon_days: int) -> np.ndarray:
    """Return P(won within horizon | persona, state), shape (persona, state)."""
    mats = transition_matrices()
    return np.stack([np.linalg.matrix_power(m, horizon_days)[:, WON] for m in mats])


def start_states(lead_source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return each lead's state on its first day: referrals and event leads arrive warm."""
    warm_start = np.isin(lead_source, ["referral", "event"]) & (rng.random(len(lead_source)) < 0.6)
    return np.where(warm_start, WARM, COLD).astype(np.int8)


def true_probability(truth: pd.DataFrame, snapshots: pd.DataFrame, horizon_days: int = 90) -> np.ndarray:
    """Return the oracle probability of a win within the horizon for each snapshot.

    `truth` is the generator's truth table (one row per state run with persona, state,
    valid_from, valid_to); `snapshots` has lead_id and as_of. The state that counts is the
    one in force just before as_of (events strictly before as_of are visible). A snapshot
    whose lead is already won/lost, or not yet created, gets NaN.
    """
    from leadscore.features.synthetic.personas import PERSONAS, STATES

    table = win_probability_table(horizon_days)
    runs = truth.sort_values(["lead_id", "valid_from"])
    probe = pd.DataFrame({
        "lead_id": pd.array(snapshots["lead_id"].astype(str).to_numpy(), dtype="string"),
        "moment": pd.to_datetime(snapshots["as_of"], utc=True) - pd.Timedelta(microseconds=1),
        "order": np.arange(len(snapshots)),
    }).sort_values("moment")
    runs = runs.assign(moment=runs["valid_from"], lead_id=runs["lead_id"].astype("string")).sort_values("moment")
    matched = pd.merge_asof(probe, runs[["lead_id", "moment", "valid_to", "persona", "state"]], on="moment", by="lead_id")
    matched = matched.sort_values("order")
    inside = matched["valid_to"].notna() & (matched["moment"] < matched["valid_to"])
    persona_idx = matched["persona"].map({p: i for i, p in enumerate(PERSONAS)})
    state_idx = matched["state"].map({s: i for i, s in enumerate(STATES)})
    result = np.full(len(matched), np.nan)
    ok = inside & persona_idx.notna() & state_idx.isin([COLD, WARM, 2, OPPORTUNITY])
    result[ok.to_numpy()] = table[persona_idx[ok].astype(int).to_numpy(), state_idx[ok].astype(int).to_numpy()]
    return result
