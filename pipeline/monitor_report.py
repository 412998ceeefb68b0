"""Write a monitoring run: monitor.html (plots, tables, the alerts and the advice) and monitor.json, each atomically."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from leadscore.pipeline.evaluation import plots
from leadscore.pipeline.io import write_text
from leadscore.pipeline.monitor import Monitoring


def conversion_plot(runs: pd.DataFrame) -> bytes:
    """Plot, per scoring date, the predicted conversion beside the realized one (matured) and the estimate (not yet)."""
    fig, ax = plots.plt.subplots(figsize=(6.5, 4))
    for version, part in runs.groupby("model_version"):
        ax.plot(part["as_of"], part["predicted"], marker=".", linestyle="--", label=f"v{version} predicted (mean probability)")
        done = part[part["matured"] & ~part["in_sample"]]
        ax.plot(done["as_of"], done["realized"], marker="o", label=f"v{version} realized")
        seen = part[part["matured"] & part["in_sample"]]
        if len(seen):
            ax.plot(seen["as_of"], seen["realized"], marker="x", linestyle="none", color="grey",
                    label=f"v{version} realized, in-sample (not judged)")
        pending = part[~part["matured"]]
        if len(pending):
            ax.plot(pending["as_of"], pending["predicted"], marker="s", linestyle="none", fillstyle="none",
                    label=f"v{version} estimate (not matured)")
    ax.set_xlabel("scoring date")
    ax.set_ylabel("conversion within the horizon")
    ax.set_title("Predicted vs realized conversion")
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    return plots._png(fig)


def reliability_by_version(curves: dict[str, pd.DataFrame]) -> bytes:
    """Plot the realized reliability curve of each model version over its matured dates."""
    fig, ax = plots.plt.subplots(figsize=(5, 4))
    top = max([max(c["predicted"].max(), c["observed"].max()) for c in curves.values()] + [0.01])
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for version, curve in curves.items():
        ax.plot(curve["predicted"], curve["observed"], marker="o", label=f"v{version}")
    ax.set_xlabel("predicted win probability")
    ax.set_ylabel("realized win rate")
    ax.set_title("Realized reliability (matured dates)")
    ax.legend(fontsize=8)
    return plots._png(fig)


def write_monitoring(result: Monitoring, out_dir: str | Path) -> dict[str, Path]:
    """Write monitor.html and monitor.json to `out_dir`; return their paths."""
    out = Path(out_dir)
    images = {"conversion": conversion_plot(result.runs)}
    if result.reliability:
        images["reliability"] = reliability_by_version(result.reliability)
    env = Environment(loader=PackageLoader("leadscore.pipeline", "templates"), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("monitor.html.j2").render(
        m=result, runs=_records(result.runs), groups=_records(result.groups), audits=_records(result.audits),
        images={k: base64.b64encode(v).decode("ascii") for k, v in images.items()})
    return {"html": write_text(html, out / "monitor.html"),
            "json": write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str), out / "monitor.json")}


def _records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]
