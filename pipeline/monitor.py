"""Judge past scores against what happened next: realized conversion, calibration, AUC, thresholds, Sales' verdicts.

Every `leadscore score` run is kept in the score history (`pipeline.history`). Monitoring joins
those scores with the outcomes that have arrived since, per scoring date and model version:

- a date whose horizon has passed (as_of + gap + horizon on or before the data's end) is
  *matured*: its realized conversion per grade and segment, its calibration (reliability and
  ECE), its AUC and its threshold audit are facts;
- a younger date is not: its expected conversion is the mean of the calibrated probabilities
  (the idea behind confidence-based performance estimation), reported as an estimate, beside
  the wins that have arrived so far.

A threshold is over-generous when even the upper end of the confidence interval of its
realized conversion (Clopper-Pearson, scipy) is below the conversion target; calibration has
drifted when a matured date's ECE exceeds `monitor.max_ece`. Either is an alert (exit code 4).
With a lifecycle table, it also counts how many of the leads called hot Sales recycled.

A run scored at a date before the end of the outcomes its model learned from (the history's
`outcomes_seen_until`: a backfill with the deployed, refitted model) is *in-sample*: its leads'
outcomes were training labels. It is reported, flagged, but never judged or alerted on.
This module computes; `pipeline.monitor_report` writes HTML and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from leadscore.models.calibration import expected_calibration_error
from leadscore.pipeline.config import Config
from leadscore.pipeline.drift import distribution_psi
from leadscore.pipeline.history import with_provenance

WON_AFTER_SQL = """
    SELECT h.lead_id, h.as_of, min(o.closed_at) AS won_at
    FROM {scores} h
    LEFT JOIN opportunities o
      ON o.lead_id = h.lead_id AND o.outcome = 'won' AND o.closed_at > h.as_of + INTERVAL {gap} DAY
    GROUP BY h.lead_id, h.as_of
"""
"""The first win after each scored (lead, as_of): the label of `features.labels`, read at any horizon."""

GROUPS = (("grade", "model grade"), ("segment", "model segment"), ("rule_segment", "points table segment"))


@dataclass
class Monitoring:
    """What monitoring found: one row per run, per group and per threshold, the alerts and the advice."""

    runs: pd.DataFrame
    groups: pd.DataFrame
    audits: pd.DataFrame
    reliability: dict[str, pd.DataFrame]
    alerts: list[str]
    recommendation: str
    window: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return everything as plain JSON-ready values (NaN as null)."""
        def rows(frame: pd.DataFrame) -> list[dict]:
            out = frame.copy()
            for column in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[column]):
                    out[column] = out[column].dt.strftime("%Y-%m-%d")
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                    for r in out.astype(object).where(out.notna(), None).to_dict("records")]

        return {"window": self.window, "alerts": self.alerts, "recommendation": self.recommendation, "runs": rows(self.runs),
                "groups": rows(self.groups), "audits": rows(self.audits),
                "reliability": {k: rows(v) for k, v in self.reliability.items()}}


def outcomes(history: pd.DataFrame, crm, config: Config, lifecycle: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return `history` with `matured`, `label` (its model's event within the horizon; NaN until matured) and `won_so_far`.

    A row's event is what its model predicts (the history's `predicts`): a win, or for a model
    trained on `label.stage` the lead's first entry into that stage or a later one, read from
    `lifecycle` (`features.lifecycle.lifecycle_events`). `won_at` holds the event's time.
    """
    w = config.windows
    keys = history[["lead_id", "as_of"]].drop_duplicates()
    won = crm.query(WON_AFTER_SQL.format(scores="monitor_scores_tmp", gap=int(w.gap_days)), {"monitor_scores_tmp": keys})
    won["lead_id"] = won["lead_id"].astype(str)
    won["as_of"] = pd.to_datetime(won["as_of"], utc=True)
    won["won_at"] = pd.to_datetime(won["won_at"], utc=True)
    frame = history.assign(lead_id=history["lead_id"].astype(str)).merge(won, on=["lead_id", "as_of"], how="left")
    for stage in sorted(set(frame["predicts"]) - {"won"}):
        rows = frame["predicts"] == stage
        frame.loc[rows, "won_at"] = _stage_reached_at(frame.loc[rows, ["lead_id", "as_of"]], stage, lifecycle, crm.source,
                                                      pd.Timedelta(days=w.gap_days))
    horizon_end = frame["as_of"] + pd.Timedelta(days=w.gap_days + w.horizon_days)
    frame["matured"] = horizon_end <= crm.data_end
    frame["won_so_far"] = frame["won_at"].notna() & (frame["won_at"] <= horizon_end)
    frame["label"] = np.where(frame["matured"], frame["won_so_far"].astype(float), np.nan)
    return frame


def monitor(history: pd.DataFrame, crm, config: Config, mql_threshold: float, hot_points: float,
            lifecycle: pd.DataFrame | None = None) -> Monitoring:
    """Return the monitoring of the scores in `history` against the CRM's outcomes (and its lifecycle entries)."""
    frame = outcomes(with_provenance(history), crm, config, lifecycle)
    if lifecycle is not None:
        frame = _with_sales_verdicts(frame, lifecycle, crm.data_end, config)
    target = config.targets.min_conversion_rate
    runs, groups, audits = [], [], []
    thresholds = [("model hot threshold", f"≥ {config.grades.hot:g} probability", frame["probability"] >= config.grades.hot),
                  ("points table hot threshold", f"≥ {hot_points:g} points", frame["rule_points"] >= hot_points),
                  ("points table MQL threshold", f"≥ {mql_threshold:g} points", frame["rule_points"] >= mql_threshold)]
    if "handed_over" in frame:
        thresholds.append(("actual handoffs (entered MQL)", f"within {config.lifecycle.accept_within_days} days",
                           frame["handed_over"]))
    first_of_version = {}
    for (as_of, version, scorer), run in frame.groupby(["as_of", "model_version", "scorer"], sort=True):
        matured = bool(run["matured"].all())
        seen_until = run["outcomes_seen_until"].max()
        reference = first_of_version.setdefault((version, scorer), run["probability"])
        row = {"as_of": as_of, "model_version": str(version), "scorer": scorer, "model_name": str(run["model_name"].iloc[0]),
               "predicts": str(run["predicts"].iloc[0]),
               "leads": len(run), "matured": matured, "in_sample": bool(pd.notna(seen_until) and as_of < seen_until),
               "outcomes_seen_until": seen_until, "days_elapsed": int((crm.data_end - as_of).days),
               "predicted": float(run["probability"].mean()), "realized": _mean(run["label"]) if matured else np.nan,
               "wins_so_far": int(run["won_so_far"].sum()),
               "ece": expected_calibration_error(run["label"], run["probability"]) if matured else np.nan,
               "auc": _auc(run["label"], run["probability"]) if matured else np.nan,
               "auc_so_far": np.nan if matured else _auc(run["won_so_far"].astype(float), run["probability"]),
               "score_psi": distribution_psi(reference, run["probability"], config.scoring.drift.bins)}
        hot = run["segment"] == "hot"
        if "recycled" in run:
            row["hot_leads"] = int(hot.sum())
            row["hot_recycled_share"] = _mean(run.loc[hot, "recycled"].astype(float)) if hot.any() else np.nan
        runs.append(row)
        for column, kind in GROUPS:
            for value, part in run.groupby(column, sort=True):
                groups.append({"as_of": as_of, "model_version": str(version), "scorer": scorer, "in_sample": row["in_sample"],
                               "kind": kind, "group": str(value),
                               **_conversion(part, matured, config.monitor.confidence)})
        for name, rule, passed in thresholds:
            part = run[passed.loc[run.index]]
            audit = {"as_of": as_of, "model_version": str(version), "scorer": scorer, "in_sample": row["in_sample"],
                     "threshold": name, "rule": rule,
                     "passed": len(part), "share_passed": len(part) / len(run), "target": target,
                     **_conversion(part, matured, config.monitor.confidence)}
            audit["over_generous"] = bool(matured and not row["in_sample"] and len(part) and audit["high"] < target)
            if "recycled" in part:
                audit["recycled_share"] = _mean(part["recycled"].astype(float)) if len(part) else np.nan
            audits.append(audit)
    runs, groups, audits = pd.DataFrame(runs), pd.DataFrame(groups), pd.DataFrame(audits)
    alerts = _alerts(runs, audits, config)
    judged = runs.loc[runs["matured"] & ~runs["in_sample"], ["as_of", "model_version", "scorer"]]
    mature = frame.merge(judged.assign(model_version=judged["model_version"].astype(str)),
                         on=["as_of", "model_version", "scorer"]) if len(judged) else frame.iloc[:0]
    curves = {str(v): _reliability(part) for v, part in mature.groupby("model_version") if part["label"].nunique() == 2}
    window = {"first_as_of": str(frame["as_of"].min().date()), "last_as_of": str(frame["as_of"].max().date()),
              "runs": len(runs), "matured_runs": int(runs["matured"].sum()), "in_sample_runs": int(runs["in_sample"].sum()),
              "data_end": str(crm.data_end.date()),
              "horizon_days": config.windows.horizon_days, "target": target, "max_ece": config.monitor.max_ece,
              "confidence": config.monitor.confidence, "lifecycle": lifecycle is not None}
    return Monitoring(runs, groups, audits, curves, alerts, _recommendation(runs, alerts, config), window)


def _stage_reached_at(keys: pd.DataFrame, stage: str, lifecycle: pd.DataFrame | None, source: str, gap: pd.Timedelta) -> pd.Series:
    """Return, per (lead_id, as_of) row of `keys`, the lead's first entry into `stage` or a later funnel stage after as_of + gap."""
    from leadscore.features.contract import FUNNEL_ROLES
    from leadscore.pipeline.errors import BadInputError

    if lifecycle is None:
        raise BadInputError(f"{source}: the score history holds scores of a model trained to reach the stage {stage!r} "
                            "(label.stage), but the CRM has no lifecycle table to judge them on (lifecycle.csv or .parquet)")
    rank = {role: i for i, role in enumerate(FUNNEL_ROLES)}
    reached = lifecycle[lifecycle["role"].map(rank).fillna(-1) >= rank[stage]][["lead_id", "entered_at"]]
    joined = keys.reset_index().merge(reached.assign(lead_id=reached["lead_id"].astype(str)), on="lead_id")
    joined = joined[joined["entered_at"] > joined["as_of"] + gap]
    first = joined.groupby("index")["entered_at"].min()
    return pd.to_datetime(first.reindex(keys.index), utc=True)


def _with_sales_verdicts(frame: pd.DataFrame, lifecycle: pd.DataFrame, data_end: pd.Timestamp, config: Config) -> pd.DataFrame:
    """Add `handed_over` (entered MQL within N days after as_of) and `recycled` (recycled or disqualified within the horizon)."""
    horizon = pd.Timedelta(days=config.windows.gap_days + config.windows.horizon_days)
    within = pd.Timedelta(days=config.lifecycle.accept_within_days)
    out = frame.copy()
    keys = out[["lead_id", "as_of"]]
    for column, roles, span in (("handed_over", ("mql",), within), ("recycled", ("recycled", "disqualified"), horizon)):
        entries = lifecycle[lifecycle["role"].isin(roles)][["lead_id", "entered_at"]].assign(lead_id=lambda f: f["lead_id"].astype(str))
        joined = keys.reset_index().merge(entries, on="lead_id")
        hit = (joined["entered_at"] > joined["as_of"]) & (joined["entered_at"] <= joined["as_of"] + span)
        out[column] = out.index.isin(joined.loc[hit, "index"])
    return out


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _auc(label: pd.Series, proba: pd.Series) -> float:
    y = np.asarray(label, dtype=float)
    return float(roc_auc_score(y, proba)) if len(np.unique(y[~np.isnan(y)])) == 2 else float("nan")


def _conversion(part: pd.DataFrame, matured: bool, confidence: float) -> dict:
    """Return leads, predicted (mean probability) and, once matured, realized conversion with its confidence interval."""
    n = len(part)
    result = {"leads": n, "predicted": _mean(part["probability"]), "realized": np.nan, "low": np.nan, "high": np.nan,
              "estimate": not matured}
    if matured and n:
        wins = int(part["label"].sum())
        interval = binomtest(wins, n).proportion_ci(confidence_level=confidence, method="exact")
        result.update(realized=wins / n, low=float(interval.low), high=float(interval.high))
    return result


def _reliability(part: pd.DataFrame) -> pd.DataFrame:
    from leadscore.pipeline.evaluation.figures import reliability

    return reliability(part["label"], part["probability"])


def _alerts(runs: pd.DataFrame, audits: pd.DataFrame, config: Config) -> list[str]:
    """Return one plain sentence per over-generous threshold and per matured date whose calibration drifted."""
    alerts = []
    judged = runs[runs["matured"] & ~runs["in_sample"] & (runs["leads"] >= config.monitor.min_leads)]
    for _, a in audits[audits["over_generous"]].iterrows():
        if not ((judged["as_of"] == a["as_of"]) & (judged["model_version"] == a["model_version"])
                & (judged["scorer"] == a["scorer"])).any():
            continue
        alerts.append(f"Over-generous: the {a['threshold']} ({a['rule']}) passed {a['passed']:,} leads on {a['as_of']:%Y-%m-%d} "
                      f"(v{a['model_version']}) that converted at {a['realized']:.1%} ({config.monitor.confidence:.0%} CI {a['low']:.1%}–{a['high']:.1%}), "
                      f"below the {a['target']:.0%} target")
    for _, r in judged[judged["ece"] > config.monitor.max_ece].iterrows():
        alerts.append(f"Calibration drift: scores of {r['as_of']:%Y-%m-%d} (v{r['model_version']}) predicted {r['predicted']:.1%} "
                      f"and {r['realized']:.1%} converted; calibration error {r['ece']:.3f} exceeds monitor.max_ece "
                      f"{config.monitor.max_ece:g}")
    return alerts


def _recommendation(runs: pd.DataFrame, alerts: list[str], config: Config) -> str:
    """Return the plain-words advice: retrain or not, and why."""
    matured = runs[runs["matured"] & ~runs["in_sample"]]
    set_aside = int((runs["matured"] & runs["in_sample"]).sum())
    model_alerts = [a for a in alerts if a.startswith("Calibration drift") or "model hot threshold" in a]
    if model_alerts:
        return (f"Retrain: {len(model_alerts)} alert{'s' if len(model_alerts) > 1 else ''} on the model's matured scoring dates "
                "(below): its probabilities no longer match what happens next. Train on recent data (leadscore train "
                "--promote) and check the new thresholds in its report.")
    if alerts:
        return ("The model holds, the points table does not: its handoffs convert below the target (below). Retraining "
                "the model will not change them; raise the points table's thresholds (the evaluation report names the "
                "threshold that meets the target) or hand Sales the model's hot leads instead.")
    if matured.empty and set_aside:
        return (f"Nothing to judge yet: the {set_aside} matured scoring date{'s' if set_aside > 1 else ''} were scored by a model "
                "that had learned their leads' outcomes (in-sample, set aside). Score later dates, or backfill past dates "
                "with `leadscore score --held-out`, to judge the model.")
    if matured.empty:
        return (f"Too early to judge: no scoring date's {config.windows.horizon_days}-day horizon has passed yet. The "
                "expected conversion shown for each date is an estimate from the calibrated probabilities, not a result.")
    return (f"No retraining needed: on {len(matured)} matured scoring date{'s' if len(matured) > 1 else ''} the thresholds "
            f"met the {config.targets.min_conversion_rate:.0%} target and the calibration error stayed within "
            f"{config.monitor.max_ece:g}.")


def run_monitor(data, config: Config, since: pd.Timestamp | None = None, crm=None,
                raise_on_alert: bool = True) -> tuple[Monitoring, dict, list[str]]:
    """Monitor the working folder's score history since `since` against the CRM in `data`; write the report.

    Return the monitoring, the report paths and the lifecycle table's warnings. When there are
    alerts, raise DriftError (exit code 4, `alert_error`) after writing the report, so a
    scheduler can alert on the exit code and the report says why.
    """
    from leadscore.features.lifecycle import has_lifecycle, lifecycle_events
    from leadscore.features.loaders import load_crm
    from leadscore.models.rules import load_points_table
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.errors import BadInputError
    from leadscore.pipeline.history import read_history
    from leadscore.pipeline.monitor_report import write_monitoring

    catalog = Catalog.of(config)
    history = read_history(catalog, since=since)
    if history.empty:
        after = f" since {since.date()}" if since is not None else ""
        raise BadInputError(f"{catalog.score_history}: no score history{after}; every leadscore score run records its "
                            "scores there, so score first (leadscore score --data DIR --as-of DATE)")
    crm = crm or load_crm(data, engine_settings(config))
    lifecycle, warnings = lifecycle_events(crm, config.lifecycle) if has_lifecycle(crm) else (None, [])
    thresholds = load_points_table(config.points_table).thresholds
    result = monitor(history, crm, config, thresholds.stages["MQL"], thresholds.segments["hot"], lifecycle)
    paths = write_monitoring(result, catalog.monitor_dir(f"monitor-{result.window['last_as_of']}"))
    if result.alerts and raise_on_alert:
        raise alert_error(result, paths)
    return result, paths, warnings


def alert_error(result: Monitoring, paths: dict):
    """Return the DriftError (exit code 4) naming every alert of `result` and its report."""
    from leadscore.pipeline.errors import DriftError

    return DriftError(f"{len(result.alerts)} monitoring alert{'s' if len(result.alerts) > 1 else ''}: "
                      + "; ".join(result.alerts) + f". Report: {paths['html']}")
