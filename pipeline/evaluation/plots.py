"""Draw the report's figures with matplotlib and return them as PNG bytes (embedded in the HTML)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLORS = {"model": "#1f6feb", "rule": "#d4731c"}
LABELS = {"model": "Model (calibrated)", "rule": "Points table"}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def reliability_plot(curves: dict[str, pd.DataFrame]) -> bytes:
    """Plot observed vs predicted win rate per scorer, with the diagonal of perfect calibration."""
    fig, ax = plt.subplots(figsize=(5, 4))
    top = max(max(c["predicted"].max(), c["observed"].max()) for c in curves.values())
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name, curve in curves.items():
        ax.plot(curve["predicted"], curve["observed"], marker="o", color=COLORS[name], label=LABELS[name])
    ax.set_xlabel("predicted win probability")
    ax.set_ylabel("observed win rate")
    ax.set_title("Reliability (deciles, the top tenth cut finer)", fontsize=9)
    ax.legend(fontsize=8)
    return _png(fig)


def gains_plot(gains: dict[str, pd.DataFrame]) -> bytes:
    """Plot the cumulative share of wins captured by the top deciles of each scorer."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 100], [0, 100], color="grey", linestyle="--", linewidth=1, label="random")
    for name, table in gains.items():
        ax.plot([0] + list(table["decile"] * 10), [0] + list(table["cumulative_share_of_wins"] * 100),
                marker="o", color=COLORS[name], label=LABELS[name])
    ax.set_xlabel("% of leads contacted (best first)")
    ax.set_ylabel("% of wins captured")
    ax.set_title("Cumulative gains")
    ax.legend(fontsize=8)
    return _png(fig)


def lift_plot(gains: dict[str, pd.DataFrame]) -> bytes:
    """Plot the lift of each decile for both scorers side by side."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    width = 0.4
    for i, (name, table) in enumerate(gains.items()):
        ax.bar(table["decile"] + (i - 0.5) * width, table["lift"], width=width, color=COLORS[name], label=LABELS[name])
    ax.axhline(1, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("decile of score (1 = highest)")
    ax.set_ylabel("lift (conversion / average)")
    ax.set_title("Lift by decile")
    ax.legend(fontsize=8)
    return _png(fig)


def segment_plot(segments: dict[str, pd.DataFrame], column: str) -> bytes:
    """Plot conversion rate per segment for both scorers."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    width = 0.4
    for i, (name, table) in enumerate(segments.items()):
        positions = [j + (i - 0.5) * width for j in range(len(table))]
        ax.bar(positions, table["conversion"].fillna(0) * 100, width=width, color=COLORS[name], label=LABELS[name])
        for x, share in zip(positions, table["share"]):
            ax.annotate(f"{share:.0%} of leads", (x, 0), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7, rotation=90)
    ax.set_xticks(range(len(next(iter(segments.values())))))
    ax.set_xticklabels(next(iter(segments.values()))[column])
    ax.set_ylabel("conversion within horizon (%)")
    ax.set_title("Conversion by segment")
    ax.legend(fontsize=8)
    return _png(fig)


def backtest_plot(backtest: pd.DataFrame) -> bytes:
    """Plot ROC AUC and calibration error per backtest fold for both scorers."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.4))
    for name in ("model", "rule"):
        left.plot(backtest["fold"], backtest[f"{name}_roc_auc"], marker="o", color=COLORS[name], label=LABELS[name])
        right.plot(backtest["fold"], backtest[f"{name}_ece"], marker="o", color=COLORS[name], label=LABELS[name])
    for ax, title in ((left, "ROC AUC per fold (higher is better)"), (right, "calibration error per fold (lower is better)")):
        ax.set_xticks(list(backtest["fold"]))
        ax.set_xlabel("fold (forward in time)")
        ax.set_title(title, fontsize=9)
    left.legend(fontsize=8)
    return _png(fig)


def distribution_plot(model_proba: pd.Series, rule_points: pd.Series) -> bytes:
    """Plot how the test leads spread over each scorer's scale: the model's probability (log count) and the points."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.hist(model_proba, bins=50, range=(0, 1), color=COLORS["model"])
    left.set_yscale("log")
    left.set_xlabel("predicted win probability")
    left.set_ylabel("lead-snapshots (log scale)")
    left.set_title(LABELS["model"], fontsize=9)
    right.hist(rule_points, bins=50, color=COLORS["rule"])
    right.set_yscale("log")
    right.set_xlabel("points")
    right.set_title(LABELS["rule"], fontsize=9)
    return _png(fig)
