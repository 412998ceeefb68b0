"""Say in plain words which scorer is better, by how much, and which thresholds to change."""

from __future__ import annotations

from pipeline.evaluation.thresholds import ThresholdAudit


def _threshold_text(a: ThresholdAudit) -> str:
    return f"{a.threshold:g} points" if a.unit == "points" else f"{a.threshold:.2f} probability"


def verdict(metrics: dict, audits: list[ThresholdAudit], top_decile_share: dict[str, float]) -> list[str]:
    """Return the verdict as a few sentences, most important first."""
    m, r = metrics["model"], metrics["rule"]
    better = "model" if m["roc_auc"] >= r["roc_auc"] else "points table"
    worse = "points table" if better == "model" else "model"
    lines = [
        f"The {better} ranks leads better than the {worse}: ROC AUC {max(m['roc_auc'], r['roc_auc']):.3f} vs "
        f"{min(m['roc_auc'], r['roc_auc']):.3f} ({abs(m['roc_auc'] - r['roc_auc']):+.3f}); its top 10% of leads hold "
        f"{top_decile_share[better.split()[-1] if better == 'model' else 'rule']:.0%} of the wins vs "
        f"{top_decile_share['rule' if better == 'model' else 'model']:.0%}.",
        f"Calibration: a model score of p means about p of such leads win (expected calibration error "
        f"{m['ece']:.3f}; points table mapped to probabilities: {r['ece']:.3f}).",
    ]
    for a in audits:
        label = f"{'Points table' if a.scorer == 'rule' else 'Model'} {a.name} threshold (≥ {_threshold_text(a)})"
        if a.over_generous:
            fix = "no threshold meets both targets on these leads"
            if a.recommended_threshold is not None:
                rec = f"{a.recommended_threshold:.4g} points" if a.unit == "points" else f"{a.recommended_threshold:.3f}"
                fix = (f"raise it to ≥ {rec}: passes {a.recommended_share:.1%} of leads converting at "
                       f"{a.recommended_conversion:.1%}, missing {a.missed_wins} of the wins it now catches")
            lines.append(f"Over-generous: {label} {'; '.join(a.problems)}. To meet the target, {fix}.")
        else:
            lines.append(f"OK: {label} passes {a.share_passed:.1%} of leads converting at {a.conversion:.1%}.")
        if a.inflation:
            lines.append(f"Score inflation on the {label}: {a.inflation_detail}.")
    return lines
