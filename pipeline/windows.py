"""Decide which labelled rows a model fitted for one origin in time may fit and calibrate on (pure).

A model scored from `origin` on may learn only from labels decided before it: a row at t is
labelled by (t, t + reach], so it is usable when t + reach <= origin. Of those, the most
recent periods calibrate and the earlier ones fit, with the same purge at the calibration
boundary, so every calibration row is later than every fit row and no fit label is decided
inside the calibration period. When the win rate jumps between consecutive periods by more
than `base_rate_jump`, calibration narrows to the most recent period alone (if it holds
enough wins), because a mapping learned across the jump would average two populations.
The deployed model's window is the one at the data end: everything labelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.pipeline.errors import InsufficientDataError


@dataclass
class Window:
    """Boolean masks over a labelled frame: the rows one model fits, stops early on, and is calibrated on."""

    origin: pd.Timestamp | None  # first date the model scores; None: after the data end (the deployed model)
    calibration_start: pd.Timestamp
    fit: np.ndarray
    validation: np.ndarray
    calibration: np.ndarray
    narrowed: bool = False  # calibration narrowed to the latest period because the win rate jumped
    shifts: list[tuple] = field(default_factory=list)  # (previous date, date, previous rate, rate), see base_rate_shifts

    @property
    def train(self) -> np.ndarray:
        """Return the rows the model learns from (fit and early-stopping validation)."""
        return self.fit | self.validation

    def describe(self, frame: pd.DataFrame) -> dict:
        """Return the dates, rows and wins the model was fitted and calibrated on."""
        return {"fitted_on": _span(frame, self.train), "calibrated_on": _span(frame, self.calibration),
                "calibration_narrowed_to_latest_period": self.narrowed}


def window_at(frame: pd.DataFrame, origin: pd.Timestamp | None, calibration_periods: int, reach: pd.Timedelta,
              validation_share: float, seed: int, min_won: int, min_lost: int, base_rate_jump: float) -> Window:
    """Return the fit / validation / calibration masks of a model that scores rows from `origin` on.

    `calibration_periods` is how many of the latest dates before `origin` calibrate; `reach`
    how far past its `as_of` a row's label looks (gap plus horizon; zero for a flat export).
    Early stopping holds out a share of the fit *leads* (all their rows).
    """
    as_of = frame["as_of"]
    decided = (as_of + reach <= origin) & (as_of < origin) if origin is not None else pd.Series(True, index=frame.index)
    dates = np.array(sorted(as_of[decided].unique()))
    if len(dates) <= calibration_periods:
        raise InsufficientDataError(f"only {len(dates)} labelled snapshot dates before {_day(origin)}: too few to fit on "
                                    f"some and calibrate on the latest {calibration_periods}")
    calibration_start = pd.Timestamp(dates[len(dates) - calibration_periods])
    periods = frame.loc[decided].groupby("as_of")["label"].agg(rows="size", wins="sum")
    shifts = base_rate_shifts(periods, base_rate_jump)
    narrowed = False
    jumps_inside = [s for s in shifts if s[1] > calibration_start]
    latest = pd.Timestamp(dates[-1])
    if jumps_inside and latest > calibration_start:
        labels = frame.loc[decided & (as_of >= latest), "label"]
        if int(labels.sum()) >= min_won and int((labels == 0).sum()) >= min_lost:
            calibration_start, narrowed = latest, True
    calibration = (decided & (as_of >= calibration_start)).to_numpy()
    train = ((as_of < calibration_start) & (as_of + reach <= calibration_start)).to_numpy()
    leads = frame.loc[train, "lead_id"].unique()
    rng = np.random.default_rng(seed)
    held = set(rng.choice(leads, size=max(1, int(len(leads) * validation_share)), replace=False)) if len(leads) else set()
    validation = train & frame["lead_id"].isin(held).to_numpy()
    return Window(origin, calibration_start, train & ~validation, validation, calibration, narrowed, shifts)


def base_rate_shifts(periods: pd.DataFrame, factor: float, significance: float = 0.01) -> list[tuple]:
    """Return (previous date, date, previous rate, rate) wherever the win rate moves by more than `factor`.

    `periods` holds `rows` and `wins` per date. A move counts only if a chi-squared test on
    the two periods' counts also rejects an unchanged rate at `significance`: a period of a
    few dozen rows moves by 1.5x by chance.

    >>> dates = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"], utc=True)
    >>> periods = pd.DataFrame({"rows": [2000, 2000, 2000], "wins": [100, 120, 300]}, index=dates)
    >>> [(str(b.date()), r) for _, b, _, r in base_rate_shifts(periods, 1.5)]
    [('2024-03-01', 0.15)]
    """
    from scipy.stats import chi2_contingency

    out = []
    rows, wins, dates = periods["rows"].to_numpy(), periods["wins"].to_numpy(), list(periods.index)
    for i in range(1, len(rows)):
        before, now = wins[i - 1] / rows[i - 1], wins[i] / rows[i]
        low, high = sorted((before, now))
        if high == 0 or (low > 0 and high / low <= factor) or wins[i - 1] + wins[i] in (0, rows[i - 1] + rows[i]):
            continue
        table = [[wins[i - 1], rows[i - 1] - wins[i - 1]], [wins[i], rows[i] - wins[i]]]
        if chi2_contingency(table)[1] < significance:
            out.append((pd.Timestamp(dates[i - 1]), pd.Timestamp(dates[i]), float(before), float(now)))
    return out


def shift_text(before_date, date, before: float, now: float, name=None) -> str:
    """Say a base-rate shift in plain words; `name` words a period (default: its date).

    >>> shift_text(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), 0.05, 0.15)
    'the win rate moved from 5.0% (2024-01-01) to 15.0% (2024-02-01), 3.0 times as high'
    """
    name = name or _day
    how = f"{now / before:.1f} times as high" if before and now >= before else \
        f"{before / now:.1f} times lower" if now else "to none"
    return f"the win rate moved from {before:.1%} ({name(before_date)}) to {now:.1%} ({name(date)}), {how}"


def _span(frame: pd.DataFrame, mask: np.ndarray) -> dict:
    part = frame.loc[mask]
    return {"rows": int(len(part)), "wins": int(part["label"].sum()),
            "first_as_of": _day(part["as_of"].min()) if len(part) else None,
            "last_as_of": _day(part["as_of"].max()) if len(part) else None}


def _day(when) -> str:
    return "the data end" if when is None else str(pd.Timestamp(when).date())
