"""The report's fitted-table section: current table vs fitted table vs model on the same held-out leads (pure).

Conversion is compared at the same volume (the share of leads Sales can take), so a table
that passes fewer leads cannot look better by passing only its surest ones; each table's
thresholds are audited against the targets on these leads, which they were not chosen on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.models.rules import PointsScorer
from leadscore.models.rules.fit import FittedTable, table_card
from leadscore.pipeline.config import Config
from leadscore.pipeline.evaluation.thresholds import audit_threshold, capacity_share


def fitted_table_section(test: pd.DataFrame, model_proba: np.ndarray, current: PointsScorer, fitted: PointsScorer,
                         fit: FittedTable, config: Config) -> dict:
    """Return the section's figures: test `test` (features, label, as_of) scored by the current table, the fitted one and the model."""
    y = test["label"].to_numpy()
    share, capacity_text = capacity_share(test, config)
    scores = {"current table": current.decision_function(test), "fitted table": fitted.decision_function(test), "model": np.asarray(model_proba)}
    rows = []
    for name, score in scores.items():
        top = _top(score, share)
        rows.append({"scorer": name, "roc_auc": _auc(y, score), "conversion_at_volume": float(y[top].mean()) if top.any() else float("nan"),
                     "wins_at_volume": int(y[top].sum())})
    audits = []
    for name, scorer in (("current table", current), ("fitted table", fitted)):
        frame = test[["as_of", "label"]].assign(points=scores[name])
        t = scorer.table_.thresholds
        for cut_name, cut in (("MQL", t.stages["MQL"]), ("hot", t.segments["hot"])):
            a = audit_threshold(frame, name, cut_name, "points", cut, "points", config)
            audits.append({"scorer": name, "threshold": f"{cut_name} ≥ {cut:g}", "share_passed": a.share_passed,
                           "conversion": a.conversion, "wins": int(round(a.recall * y.sum())) if a.recall == a.recall else 0,
                           "status": "meets the targets" if not a.over_generous else "; ".join(a.problems) + _miss(a, config, share)})
    card = table_card(fitted.table_, test, y)
    return {
        "rules": len(fitted.table_.rules), "half_life_days": fit.half_life_days, "volume_share": share, "capacity": capacity_text,
        "comparison": rows, "audits": audits, "card": _records(card),
        "diff": [e.describe() for e in fit.evidence if e.change != "kept"],
        "contradicted": [f"{e.text} ({e.condition}): {e.old_points:+g} points, but leads it fires for convert {e.ratio:.2f}x as often "
                         "as the others once the other rules are accounted for" for e in fit.evidence if e.contradicted],
    }


def markdown_lines(section: dict) -> list[str]:
    """Return the section as Markdown lines for summary.md."""
    lines = ["", "## Fitted points table", "", f"Conversion at the same volume: the top {section['volume_share']:.0%} of leads.", "",
             "| scorer | ROC AUC | conversion at that volume | wins |", "|---|---:|---:|---:|"]
    lines += [f"| {r['scorer']} | {r['roc_auc']:.3f} | {r['conversion_at_volume']:.1%} | {r['wins_at_volume']:,} |" for r in section["comparison"]]
    lines += ["", "| rule | condition | points | leads | win rate |", "|---|---|---:|---:|---:|"]
    lines += [f"| {c['rule']} | {c['condition']} | {c['points']:+g} | {c['leads']:,} | {c['win_rate']:.1%} |" for c in section["card"]]
    lines += [f"- {line}" for line in section["diff"]] + [f"- Sign contradicted: {line}" for line in section["contradicted"]]
    return lines


def _miss(audit, config: Config, share: float) -> str:
    parts = []
    if audit.conversion == audit.conversion and audit.conversion < config.targets.min_conversion_rate:
        parts.append(f"misses the conversion target by {(config.targets.min_conversion_rate - audit.conversion) * 100:.1f} points")
    if audit.share_passed > share:
        parts.append(f"passes {(audit.share_passed - share) * 100:.1f} points of leads more than capacity")
    return f" ({'; '.join(parts)})" if parts else ""


def _top(score: np.ndarray, share: float) -> np.ndarray:
    """Return the mask of the `share` highest-scored leads (ties broken by order, so every scorer passes the same count)."""
    count = int(round(share * len(score)))
    mask = np.zeros(len(score), dtype=bool)
    mask[np.argsort(-score, kind="stable")[:count]] = True
    return mask


def _auc(y, score) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
