"""Turn hidden state runs into the activities a CRM records, vectorised over all leads.

Lead-initiated events (visits, downloads, webinars, offline events, demo requests, sales
calls) are Poisson within each state run at state-dependent rates: hot leads visit in
bursts and request demos; leads in an opportunity get sales calls and meetings. Marketing
email is simulated campaign by campaign, because whether a lead still receives email depends
on what happened before (an unsubscribe or a bounce stops the sends).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.contract import OFFLINE_ACTIVITY_TYPES
from leadscore.features.synthetic.personas import (
    ACTIVITY_RATES,
    CLICK_GIVEN_OPEN,
    OPEN_PROBABILITY,
    OPEN_STATES,
    PERSONA_ACTIVITY,
    PERSONA_UNSUBSCRIBE,
    UNSUBSCRIBE_PROBABILITY,
)

_WEB_SECONDS_MEDIAN = np.array([35.0, 80.0, 180.0, 120.0])  # per open state


def behaviour_events(runs: pd.DataFrame, persona: np.ndarray, rng: np.random.Generator,
                     rates: dict[str, tuple[float, float, float, float]] = ACTIVITY_RATES,
                     own_rates: tuple[np.ndarray, dict] | None = None) -> pd.DataFrame:
    """Return lead-initiated events: lead, day (float, days since start), activity_type, value, asset_id.

    `rates` gives each type's expected events per day in each open state (default: the built-in types').
    `own_rates` is (a mask of leads, rates per type) for a segment that behaves differently: the
    masked leads' types listed there follow those rates instead; the draws are the same in number,
    so the other leads' events do not move.
    """
    open_runs = runs[runs["state"].isin(OPEN_STATES)]
    lead = open_runs["lead"].to_numpy()
    state = open_runs["state"].to_numpy()
    first = open_runs["first_day"].to_numpy().astype(float)
    length = (open_runs["end_day"] - open_runs["first_day"]).to_numpy().astype(float)
    activity_scale = PERSONA_ACTIVITY[persona[lead]]
    parts = []
    for activity_type, per_state in rates.items():
        rate = np.asarray(per_state)[state]
        if own_rates is not None and activity_type in own_rates[1]:
            rate = np.where(own_rates[0][lead], np.asarray(own_rates[1][activity_type])[state], rate)
        rate = rate * activity_scale * length
        counts = rng.poisson(rate)
        total = int(counts.sum())
        if total == 0:
            continue
        run_idx = np.repeat(np.arange(len(lead)), counts)
        day = first[run_idx] + rng.random(total) * length[run_idx]
        value = np.full(total, np.nan)
        asset = np.full(total, None, dtype=object)
        if activity_type == "web_visit":
            value = np.round(rng.lognormal(np.log(_WEB_SECONDS_MEDIAN[state[run_idx]]), 0.8), 0)
        elif activity_type == "content_download":
            asset = np.char.add("A", np.char.zfill(rng.integers(1, 60, total).astype(str), 3)).astype(object)
        elif activity_type in {"webinar_registered", "webinar_attended"}:
            asset = np.char.add("W", np.char.zfill((day // 30).astype(int).astype(str), 3)).astype(object)
        elif activity_type == "event_attended":
            asset = np.char.add("E", np.char.zfill((day // 45).astype(int).astype(str), 3)).astype(object)
        parts.append(pd.DataFrame({
            "lead": lead[run_idx], "day": day, "activity_type": activity_type, "value": value, "asset_id": asset,
        }))
    return pd.concat(parts, ignore_index=True)


def campaign_days(start: pd.Timestamp, days: int, rng: np.random.Generator) -> np.ndarray:
    """Return the days marketing sends a campaign: weekly, thinner in August and late December."""
    candidates = np.arange(2, days, 7)
    dates = start + pd.to_timedelta(candidates, unit="D")
    quiet = (dates.month == 8) | ((dates.month == 12) & (dates.day > 15))
    keep = ~quiet | (rng.random(len(candidates)) < 0.4)
    return candidates[keep]


def email_events(
    states: np.ndarray,
    persona: np.ndarray,
    bad_address: np.ndarray,
    never_opens: np.ndarray,
    start: pd.Timestamp,
    rng: np.random.Generator,
    own_email: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Return email_sent/open/click/bounce and unsubscribe events, campaign by campaign.

    `own_email` is (a mask of leads, open probability per state, click-given-open per state) for a
    segment that reads email differently; the draws are the same in number either way.
    """
    n, days = states.shape
    stopped = np.zeros(n, dtype=bool)
    parts = []
    for number, day in enumerate(campaign_days(start, days, rng)):
        state_today = states[:, day]
        recipients = np.flatnonzero(np.isin(state_today, OPEN_STATES) & ~stopped)
        if len(recipients) == 0:
            continue
        st = state_today[recipients]
        campaign = f"C{number:04d}"
        send_time = day + 0.40 + rng.random(len(recipients)) * 0.05  # ~10:00 UTC
        bounced = bad_address[recipients]
        delivered = recipients[~bounced]
        d_state = st[~bounced]
        d_time = send_time[~bounced]
        p_open, p_click = OPEN_PROBABILITY[d_state], CLICK_GIVEN_OPEN[d_state]
        if own_email is not None:
            own = own_email[0][delivered]
            p_open, p_click = np.where(own, own_email[1][d_state], p_open), np.where(own, own_email[2][d_state], p_click)
        opened = (~never_opens[delivered]) & (rng.random(len(delivered)) < p_open)
        open_time = d_time + rng.exponential(0.3, len(delivered))
        clicked = opened & (rng.random(len(delivered)) < p_click)
        click_time = open_time + rng.exponential(0.01, len(delivered))
        unsub_p = UNSUBSCRIBE_PROBABILITY[d_state] * PERSONA_UNSUBSCRIBE[persona[delivered]]
        unsubscribed = rng.random(len(delivered)) < unsub_p
        unsub_time = d_time + 0.02 + rng.exponential(0.2, len(delivered))
        parts += [
            _events(recipients, send_time, "email_sent", campaign),
            _events(recipients[bounced], send_time[bounced] + 0.001, "email_bounce", campaign),
            _events(delivered[opened], open_time[opened], "email_open", campaign),
            _events(delivered[clicked], click_time[clicked], "email_click", campaign),
            _events(delivered[unsubscribed], unsub_time[unsubscribed], "unsubscribe", campaign),
        ]
        stopped[recipients[bounced]] = True
        stopped[delivered[unsubscribed]] = True
    return pd.concat(parts, ignore_index=True)


def _events(lead: np.ndarray, day: np.ndarray, activity_type: str, asset_id: str) -> pd.DataFrame:
    return pd.DataFrame({"lead": lead, "day": day, "activity_type": activity_type, "value": np.nan, "asset_id": asset_id})


def channel_of(activity_type: pd.Series) -> np.ndarray:
    """Return 'offline' for the contract's offline types and 'online' for the rest."""
    return np.where(activity_type.isin(sorted(OFFLINE_ACTIVITY_TYPES)), "offline", "online")
