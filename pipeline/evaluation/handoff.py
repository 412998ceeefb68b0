"""Audit the handoffs to Sales that the lifecycle table records: accepted or recycled, how fast, and who converted.

"If lifecycle stages are changing for individuals, and by the time they get to Sales they
are not ready to buy, the lead scoring model is too generous." Each entry into an MQL stage
is one handoff. Its verdict is the first Sales decision after it and before the next
handoff: accepted (a sales-accepted/SQL stage) or recycled (recycled or disqualified),
counted when it comes within `lifecycle.accept_within_days`; otherwise "no decision". The
conversion of a handoff is a win within the horizon after it, judged only for handoffs
whose horizon has passed. Pure functions of frames; the report renders `handoff.html.j2`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binomtest

_DECISIONS = {"sql": "accepted", "recycled": "recycled", "disqualified": "recycled"}


@dataclass
class HandoffAudit:
    """The handoff figures: per period, per score band at handoff, and the flags."""

    periods: pd.DataFrame
    bands: pd.DataFrame
    flags: list[str]
    summary: dict = field(default_factory=dict)
    instead: pd.DataFrame = field(default_factory=pd.DataFrame)  # what other thresholds would have handed over (`handed_over_instead`)

    def to_dict(self) -> dict:
        """Return the figures as JSON-ready values."""
        def rows(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"periods": rows(self.periods), "bands": rows(self.bands), "flags": self.flags, "summary": self.summary,
                "instead": rows(self.instead)}


def handoffs(lifecycle: pd.DataFrame, within_days: int) -> pd.DataFrame:
    """Return one row per MQL entry: lead_id, handed_at, decision (accepted/recycled/no decision), days_to_decision.

    >>> t = lambda d: pd.Timestamp(d, tz="UTC")
    >>> events = pd.DataFrame({"lead_id": ["a", "a", "b", "b", "c"], "role": ["mql", "sql", "mql", "recycled", "mql"],
    ...                        "entered_at": [t("2024-01-01"), t("2024-01-03"), t("2024-01-01"), t("2024-03-01"), t("2024-01-02")]})
    >>> handoffs(events, 30)["decision"].tolist()
    ['accepted', 'no decision', 'no decision']
    """
    events = lifecycle.sort_values(["lead_id", "entered_at"], kind="stable").reset_index(drop=True)
    rows = []
    for lead_id, lead in events.groupby("lead_id", sort=False):
        roles, times = lead["role"].tolist(), lead["entered_at"].tolist()
        for i, role in enumerate(roles):
            if role != "mql":
                continue
            decision, days = "no decision", np.nan
            for later_role, later_time in zip(roles[i + 1:], times[i + 1:]):
                if later_role == "mql":
                    break
                if later_role in _DECISIONS:
                    elapsed = (later_time - times[i]).total_seconds() / 86400
                    if elapsed <= within_days:
                        decision, days = _DECISIONS[later_role], elapsed
                    break
            rows.append({"lead_id": str(lead_id), "handed_at": times[i], "decision": decision, "days_to_decision": days})
    frame = pd.DataFrame(rows, columns=["lead_id", "handed_at", "decision", "days_to_decision"])
    frame["handed_at"] = pd.to_datetime(frame["handed_at"], utc=True)
    return frame


def handoff_audit(lifecycle: pd.DataFrame, wins: pd.DataFrame, scored: pd.DataFrame | None, data_end: pd.Timestamp,
                  config, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> HandoffAudit:
    """Return the audit of the handoffs entered in [start, end] (all when None).

    `wins` holds (lead_id, closed_at) of won opportunities; `scored` the scored snapshots
    (lead_id, as_of, model_grade) whose latest one before a handoff gives its score band.
    """
    within = config.lifecycle.accept_within_days
    horizon = pd.Timedelta(days=config.windows.horizon_days)
    frame = handoffs(lifecycle, within)
    if start is not None:
        frame = frame[frame["handed_at"] >= start]
    if end is not None:
        frame = frame[frame["handed_at"] <= end]
    frame = frame.reset_index(drop=True)
    win = wins.assign(lead_id=wins["lead_id"].astype(str))
    joined = frame.reset_index().merge(win, on="lead_id")
    converted = joined[(joined["closed_at"] > joined["handed_at"]) & (joined["closed_at"] <= joined["handed_at"] + horizon)]
    frame["matured"] = frame["handed_at"] + horizon <= data_end
    frame["converted"] = np.where(frame["matured"], frame.index.isin(converted["index"]).astype(float), np.nan)
    frame["band"] = _band_at_handoff(frame, scored)
    frame["period"] = frame["handed_at"].dt.strftime("%Y-%m")
    periods = _summarise(frame, "period")
    bands = _summarise(frame, "band")
    flags = _flags(frame, config)
    summary = {"handoffs": int(len(frame)), "within_days": within, "horizon_days": config.windows.horizon_days,
               "accepted_share": _share(frame, "accepted"), "recycled_share": _share(frame, "recycled"),
               "min_acceptance_rate": config.lifecycle.min_acceptance_rate, "min_conversion_rate": config.targets.min_conversion_rate}
    return HandoffAudit(periods, bands, flags, summary)


def handed_over_instead(scored: pd.DataFrame, handed: pd.DataFrame, candidates: list[tuple[str, str, np.ndarray]],
                        within_days: int) -> pd.DataFrame:
    """Return, per threshold, the lead-snapshots it would have handed to Sales beside the handoffs that happened.

    `scored` holds the held-out snapshots (lead_id, as_of, label: a win within the horizon);
    `handed` the handoffs (`handoffs`); each candidate is (name, rule, mask over `scored`). A
    snapshot was *actually handed over* when its lead entered MQL within `within_days` after its
    as_of. Each row: how many the threshold passes, their conversion and wins, the share Sales
    actually got and, of those, the share Sales accepted; the first row is the actual handoffs.
    """
    within = pd.Timedelta(days=within_days)
    keys = scored[["lead_id", "as_of"]].assign(lead_id=scored["lead_id"].astype(str), as_of=pd.to_datetime(scored["as_of"], utc=True))
    joined = keys.reset_index().merge(handed[["lead_id", "handed_at", "decision"]], on="lead_id")
    joined = joined[(joined["handed_at"] > joined["as_of"]) & (joined["handed_at"] <= joined["as_of"] + within)]
    first = joined.sort_values("handed_at").drop_duplicates("index")
    was_handed = keys.index.isin(first["index"])
    accepted = keys.index.isin(first.loc[first["decision"] == "accepted", "index"])
    label = scored["label"].to_numpy(dtype=float)
    rows = []
    for name, rule, mask in [("actual handoffs (entered MQL)", f"within {within_days} days", was_handed), *candidates]:
        mask = np.asarray(mask, dtype=bool)
        n, seen = int(mask.sum()), int((mask & was_handed).sum())
        rows.append({"threshold": name, "rule": rule, "passed": n, "leads": int(scored.loc[mask, "lead_id"].nunique()),
                     "conversion": float(label[mask].mean()) if n else np.nan, "wins": int(label[mask].sum()),
                     "actually_handed_share": seen / n if n else np.nan,
                     "accepted_share": float(accepted[mask & was_handed].sum() / seen) if seen else np.nan})
    return pd.DataFrame(rows)


def _band_at_handoff(frame: pd.DataFrame, scored: pd.DataFrame | None) -> pd.Series:
    if scored is None or scored.empty or frame.empty:
        return pd.Series("unscored", index=frame.index)
    probe = frame[["lead_id", "handed_at"]].reset_index().sort_values("handed_at")
    snaps = scored[["lead_id", "as_of", "model_grade"]].assign(lead_id=lambda f: f["lead_id"].astype(str),
                                                                as_of=lambda f: pd.to_datetime(f["as_of"], utc=True))
    snaps = snaps.sort_values("as_of")
    probe["handed_at"] = probe["handed_at"].astype(snaps["as_of"].dtype)
    matched = pd.merge_asof(probe, snaps, left_on="handed_at", right_on="as_of", by="lead_id", allow_exact_matches=True)
    return matched.set_index("index")["model_grade"].reindex(frame.index).fillna("unscored").astype(str)


def _share(frame: pd.DataFrame, decision: str) -> float:
    return float((frame["decision"] == decision).mean()) if len(frame) else float("nan")


def _summarise(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    rows = []
    for value, part in frame.groupby(by, sort=True):
        accepted = part[part["decision"] == "accepted"]
        rows.append({by: value, "handoffs": len(part), "accepted": len(accepted), "recycled": int((part["decision"] == "recycled").sum()),
                     "no_decision": int((part["decision"] == "no decision").sum()),
                     "accepted_share": len(accepted) / len(part), "recycled_share": float((part["decision"] == "recycled").mean()),
                     "median_days_to_sql": float(accepted["days_to_decision"].median()) if len(accepted) else np.nan,
                     "matured": int(part["matured"].sum()),
                     "conversion": float(part["converted"].mean()) if part["matured"].any() else np.nan})
    return pd.DataFrame(rows)


def _flags(frame: pd.DataFrame, config) -> list[str]:
    """Flag the handoffs as over-generous when acceptance or conversion is confidently below its target."""
    flags = []
    n, accepted = len(frame), int((frame["decision"] == "accepted").sum())
    target = config.lifecycle.min_acceptance_rate
    if n and binomtest(accepted, n).proportion_ci(0.95, method="exact").high < target:
        flags.append(f"Over-generous by acceptance: of {n:,} leads handed to Sales (entered MQL), Sales accepted "
                     f"{accepted / n:.0%} within {config.lifecycle.accept_within_days} days, below the {target:.0%} target "
                     f"({(frame['decision'] == 'recycled').mean():.0%} recycled).")
    matured = frame[frame["matured"]]
    wins, m = int(matured["converted"].sum()), len(matured)
    goal = config.targets.min_conversion_rate
    if m and binomtest(wins, m).proportion_ci(0.95, method="exact").high < goal:
        flags.append(f"Over-generous by wins: of {m:,} handoffs whose {config.windows.horizon_days}-day horizon has passed, "
                     f"{wins / m:.1%} converted, below the {goal:.0%} target.")
    return flags


def handoff_for(crm, scored: pd.DataFrame, config, candidates: list[tuple[str, str, np.ndarray]] = ()) -> HandoffAudit | None:
    """Return the handoff audit of the CRM's lifecycle table over the scored snapshots' dates, or None without one.

    `candidates` are the thresholds to set beside the actual handoffs (`handed_over_instead`).
    """
    from leadscore.features.lifecycle import has_lifecycle, lifecycle_events

    if not has_lifecycle(crm):
        return None
    events, _ = lifecycle_events(crm, config.lifecycle)
    wins = crm.query("SELECT lead_id, closed_at FROM opportunities WHERE outcome = 'won'")
    wins["closed_at"] = pd.to_datetime(wins["closed_at"], utc=True)
    as_of = pd.to_datetime(scored["as_of"], utc=True)
    audit = handoff_audit(events, wins, scored, crm.data_end, config, start=as_of.min(),
                          end=as_of.max() + pd.Timedelta(days=config.windows.slide_days))
    if candidates and "label" in scored:
        audit.instead = handed_over_instead(scored, handoffs(events, config.lifecycle.accept_within_days), list(candidates),
                                            config.lifecycle.accept_within_days)
    return audit


def threshold_candidates(scored: pd.DataFrame, config, rule_cuts: dict[str, float],
                         fitted_points: np.ndarray | None = None, fitted_mql: float | None = None) -> list[tuple[str, str, np.ndarray]]:
    """Return the thresholds the handoff audit sets beside the actual handoffs: the model's hot grade, the points
    table's MQL and, when one was fitted, the fitted table's MQL."""
    found = [("model hot threshold", f"≥ {config.grades.hot:g} probability", scored["model_proba"].to_numpy() >= config.grades.hot),
             ("points table MQL threshold", f"≥ {rule_cuts['MQL']:g} points", scored["rule_points"].to_numpy() >= rule_cuts["MQL"])]
    if fitted_points is not None and fitted_mql is not None:
        found.append(("fitted table MQL threshold", f"≥ {fitted_mql:g} points", np.asarray(fitted_points) >= fitted_mql))
    return found
