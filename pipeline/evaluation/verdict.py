"""Say in plain words which scorer is better, by how much, and which thresholds to change."""

from __future__ import annotations

from leadscore.pipeline.evaluation.thresholds import ThresholdAudit


def _threshold_text(a: ThresholdAudit) -> str:
    return f"{a.threshold:g} points" if a.unit == "points" else f"{a.threshold:.2f} probability"


def _cut_text(cut: float, unit: str) -> str:
    """Print a recommended cut in full: it is already the shortest decimal that passes the right leads."""
    return f"{cut:.12g} points" if unit == "points" else f"{cut:.12g}"


def _ranking_line(m: dict, r: dict, top_decile_share: dict[str, float]) -> str:
    if m["roc_auc"] != m["roc_auc"] or r["roc_auc"] != r["roc_auc"]:  # NaN: the test leads hold one class only
        return "Ranking cannot be assessed: the test leads hold no wins (or nothing but wins)."
    better = "model" if m["roc_auc"] >= r["roc_auc"] else "points table"
    worse = "points table" if better == "model" else "model"
    return (f"The {better} ranks leads better than the {worse}: ROC AUC {max(m['roc_auc'], r['roc_auc']):.3f} vs "
            f"{min(m['roc_auc'], r['roc_auc']):.3f} ({abs(m['roc_auc'] - r['roc_auc']):+.3f}); its top 10% of leads hold "
            f"{top_decile_share['model' if better == 'model' else 'rule']:.0%} of the wins vs "
            f"{top_decile_share['rule' if better == 'model' else 'model']:.0%}.")


def _fix_text(a: ThresholdAudit, target: float | None = None) -> str:
    """Say which cut meets the target on the leads it was chosen on, and what it does on the test leads.

    It can sit below the current one when conversion is not monotone in the score.
    """
    if a.recommended_threshold is None:
        return f"no threshold meets both targets on the {a.recommended_on}"
    move = "raise" if a.recommended_threshold > a.threshold else "lower"
    wins = (f"missing {a.missed_wins} of the wins it now catches" if a.missed_wins >= 0
            else f"catching {-a.missed_wins} more wins")
    where = ("(chosen on the test leads themselves, an in-sample figure): it passes" if a.recommended_on == "test leads"
             else f"(chosen on the {a.recommended_on}): on the test leads it passes")
    text = (f"{move} it to ≥ {_cut_text(a.recommended_threshold, a.unit)} {where} {a.recommended_share:.1%} "
            f"converting at {a.recommended_conversion:.1%}, {wins}")
    if target is not None and a.recommended_conversion == a.recommended_conversion and a.recommended_conversion < target:
        text += f", still below the {target:.0%} target there"
    return text + (f"; {a.ties[:-1]}" if a.ties else "")


CALIBRATED_ECE = 0.02
"""At or below this expected calibration error a score of p means about p of such leads win."""

ROUGH_ECE = 0.05
"""At or below this the probabilities are right to within a few points; above it they are a ranking, not win rates."""


def calibration_line(model_ece: float, rule_ece: float) -> str:
    """Say what the model's probabilities can be read as, chosen by its measured expected calibration error.

    >>> calibration_line(0.01, 0.02).split(" (")[0]
    'Calibration: a model score of p means about p of such leads win'
    >>> "a ranking" in calibration_line(0.198, 0.09)
    True
    """
    figures = f"(expected calibration error {model_ece:.3f}; points table mapped to probabilities: {rule_ece:.3f})"
    if model_ece <= CALIBRATED_ECE:
        return f"Calibration: a model score of p means about p of such leads win {figures}."
    if model_ece <= ROUGH_ECE:
        return f"Calibration: a model score of p means p of such leads win, give or take a few points {figures}."
    return (f"Calibration: the model's probabilities miss the observed win rates by {model_ece:.3f} on average {figures}: "
            "read them as a ranking, not as win rates.")


def verdict(metrics: dict, audits: list[ThresholdAudit], top_decile_share: dict[str, float], shifts=(),
            target: float | None = None) -> list[str]:
    """Return the verdict as a few sentences, most important first; base-rate `shifts` (in words) come last.

    `target` is the conversion a passed lead needs (`targets.min_conversion_rate`): a recommended
    cut that misses it on the test leads says so.
    """
    m, r = metrics["model"], metrics["rule"]
    lines = [
        _ranking_line(m, r, top_decile_share),
        calibration_line(m["ece"], r["ece"]),
    ]
    for a in audits:
        label = f"{'Points table' if a.scorer == 'rule' else 'Model'} {a.name} threshold (≥ {_threshold_text(a)})"
        if a.over_generous:
            lines.append(f"Over-generous: {label} {'; '.join(a.problems)}. To meet the target, {_fix_text(a, target)}.")
        else:
            lines.append(f"OK: {label} passes {a.share_passed:.1%} of leads converting at {a.conversion:.1%}.")
        if a.inflation:
            lines.append(f"Score inflation on the {label}: {a.inflation_detail}.")
    if shifts:
        lines.append(f"Drift: {'; '.join(shifts)}. Calibration used the most recent period; expect figures measured "
                     "before a shift to hold less well after it, and retrain as new outcomes arrive.")
    return lines
