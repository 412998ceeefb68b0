"""Assemble the evaluation of both scorers and write it as HTML, Markdown and JSON.

The HTML is self-contained (plots embedded as PNG), so a RevOps reader can open the file
from an email or a shared drive. No lead-level personal data is written: aggregates, and a
few example leads (`evaluation.explained`) named by letter, shown only with their scores,
outcome and reasons, never a lead id or a lead column.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from leadscore.pipeline.config import Config
from leadscore.pipeline.evaluation import plots
from leadscore.pipeline.evaluation.decision import headline, months_between, same_volume
from leadscore.pipeline.evaluation.explained import Explainer, explain
from leadscore.pipeline.evaluation.figures import calibration_by_range, conversion_by, gains_by_decile, reliability, side_by_side_metrics, slice_quality
from leadscore.pipeline.evaluation.population import population_groups, population_line
from leadscore.pipeline.evaluation.thresholds import ThresholdAudit, audit_threshold
from leadscore.pipeline.evaluation.verdict import verdict
from leadscore.pipeline.io import write_text
from leadscore.pipeline.scoring import PIPELINE_FLAG, SLICE_COLUMNS

REQUIRED = ("lead_id", "as_of", "label", "model_proba", "rule_proba", "rule_points", "rule_segment", "rule_stage")


@dataclass
class Evaluation:
    """Every figure of the report."""

    metrics: dict
    audits: list[ThresholdAudit]
    gains: dict[str, pd.DataFrame]
    reliability: dict[str, pd.DataFrame]
    segments: dict[str, pd.DataFrame]
    grades: pd.DataFrame
    stages: pd.DataFrame
    slices: pd.DataFrame
    verdict: list[str]
    window: dict
    targets: dict
    population: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: pd.DataFrame | None = None  # one row per forward fold (pipeline.core)
    training: dict = field(default_factory=dict)  # the family chosen, the periods each model saw, base-rate shifts
    images: dict[str, bytes] = field(default_factory=dict, repr=False)
    fitted_table: dict | None = None  # the fitted points table's section (`fitted_table.fitted_table_section`), when one was fitted
    handoff: object | None = None  # the handoff audit (`evaluation.handoff`) when the CRM has a lifecycle table
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # both scorers at each points threshold's volume (`decision.same_volume`)
    headline: str = ""
    calibration_by_range: str = ""  # the model's calibration in words, range by range of the score
    about: dict = field(default_factory=dict)  # model version, champion status, generation time (`describe_model` fills the first two)
    explained: dict | None = None  # the top factors and anonymised example leads (`explained.explain`), when an explainer was given

    def describe_model(self, version: str | None, champion: bool | None, reason: str = "") -> None:
        """Record which registered version this report judges and whether it is champion (known once it is registered)."""
        self.about.update({"version": version, "champion": champion, "promotion_reason": reason})

    def to_dict(self) -> dict:
        """Return every figure as JSON-serialisable values (the images are left out)."""
        def frame(f: pd.DataFrame) -> list[dict]:
            return json.loads(f.to_json(orient="records"))
        return {
            "verdict": self.verdict, "window": self.window, "targets": self.targets, "metrics": _clean(self.metrics),
            "threshold_audit": [_clean(a.to_dict()) for a in self.audits],
            "gains": {k: frame(v) for k, v in self.gains.items()},
            "reliability": {k: frame(v) for k, v in self.reliability.items()},
            "segments": {k: frame(v) for k, v in self.segments.items()},
            "grades": frame(self.grades), "stages": frame(self.stages), "slices": frame(self.slices),
            "population": frame(self.population),
            **({"fitted_table": _clean(self.fitted_table)} if self.fitted_table else {}),
            **({"handoff": _clean(self.handoff.to_dict())} if self.handoff is not None else {}),
            "backtest": [] if self.backtest is None else _clean(frame(self.backtest)), "training": _clean(self.training),
            "headline": self.headline, "same_volume": _clean(frame(self.comparison)), "about": _clean(self.about),
            **({"explained": _clean(self.explained)} if self.explained else {}),
        }


def evaluate_scorers(frame: pd.DataFrame, config: Config, rule_thresholds: dict[str, float],
                     left_out: pd.DataFrame | None = None, backtest: pd.DataFrame | None = None,
                     training: dict | None = None, flat: dict | None = None, explainer: Explainer | None = None,
                     recommend_on: pd.DataFrame | None = None) -> Evaluation:
    """Evaluate model and points table on the same held-out snapshots (one row per snapshot).

    `flat` words a flat export's held-out rows instead (`split`: how and why the rows were
    split, `first` and `last`: the first and last period tested): rows, not snapshots, with
    no population of open opportunities and no dates where the periods are blocks of rows.

    `rule_thresholds` holds the points table's cut-offs: {"MQL": ..., "hot": ...}; `left_out`
    the labelled snapshots of the same period the population rule left out (reported as a group);
    `backtest` the per-fold figures and `training` what the training core decided
    (`training_summary`), both shown beside the held-out figures when given; `explainer` the
    held-out rows with the model and points scorer behind them, for the top factors and the
    example leads (`evaluation.explained`). `recommend_on` holds the calibration slice scored
    like `frame` (the period just before the test one): each threshold's recommended cut is
    chosen there and reported on `frame`, so it is not tuned on the leads it is judged on.
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"evaluation frame lacks columns {missing}")
    from leadscore.pipeline.grading import GRADES, SEGMENTS, grade, segment

    frame = frame.assign(model_segment=np.asarray(segment(frame["model_proba"], config.grades)),
                         model_grade=np.asarray(grade(frame["model_proba"], config.grades)))
    metrics = side_by_side_metrics(frame)
    gains = {name: gains_by_decile(frame["label"], frame[col]) for name, col in (("model", "model_proba"), ("rule", "rule_points"))}
    curves = {name: reliability(frame["label"], frame[col]) for name, col in (("model", "model_proba"), ("rule", "rule_proba"))}
    segments = {"model": conversion_by(frame, "model_segment", list(SEGMENTS)), "rule": conversion_by(frame, "rule_segment", list(SEGMENTS))}
    leads = "leads" if flat else "open leads"
    chosen_on = {"recommend_on": recommend_on, "recommend_on_name": "calibration rows" if flat else "calibration slice"}
    audits = [
        audit_threshold(frame, "rule", "MQL", "rule_points", rule_thresholds["MQL"], "points", config, leads, **chosen_on),
        audit_threshold(frame, "rule", "hot", "rule_points", rule_thresholds["hot"], "points", config, leads, **chosen_on),
        audit_threshold(frame, "model", "hot", "model_proba", config.grades.hot, "probability", config, leads, **chosen_on),
    ]
    by = [c for c in (*SLICE_COLUMNS, PIPELINE_FLAG) if c in frame.columns]
    slices = pd.concat([slice_quality(frame, c) for c in by] or [slice_quality(frame.assign(all="all"), "all")], ignore_index=True)
    top_share = {name: float(g["cumulative_share_of_wins"].iloc[0]) for name, g in gains.items()}
    population = population_groups(frame, left_out, config.population.open_opportunities)
    evaluation = Evaluation(
        metrics=metrics, audits=audits, gains=gains, reliability=curves, segments=segments,
        grades=conversion_by(frame, "model_grade", list(GRADES)), stages=conversion_by(frame, "rule_stage", ["lead", "MQL", "SQL"]),
        slices=slices, verdict=[*verdict(metrics, audits, top_share, (training or {}).get("base_rate_shifts", []),
                                                config.targets.min_conversion_rate),
                                *([] if flat else [population_line(population)])], population=population,
        window=({"flat": True, "rows": int(len(frame)), "wins": int(frame["label"].sum()), **flat} if flat else
                {"first_as_of": str(pd.Timestamp(frame["as_of"].min()).date()), "last_as_of": str(pd.Timestamp(frame["as_of"].max()).date()),
                 "snapshots": int(len(frame)), "leads": int(frame["lead_id"].nunique()), "dates": int(frame["as_of"].nunique()),
                 "wins": int(frame["label"].sum()),
                 "horizon_days": config.windows.horizon_days}),
        targets=config.targets.model_dump(), backtest=backtest, training=training or {},
    )
    evaluation.comparison = same_volume(frame, rule_thresholds)
    months = None if flat else months_between(frame["as_of"].min(), frame["as_of"].max())
    evaluation.headline = headline(evaluation.comparison, months)
    evaluation.calibration_by_range = calibration_by_range(curves["model"])
    evaluation.explained = explain(explainer, config.grades.hot, config.model.seed) if explainer is not None else None
    evaluation.about = {"generated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"), "version": None, "champion": None}
    evaluation.images = {
        "reliability": plots.reliability_plot(curves), "gains": plots.gains_plot(gains),
        "lift": plots.lift_plot(gains), "segments": plots.segment_plot(segments, "model_segment"),
        "distribution": plots.distribution_plot(frame["model_proba"], frame["rule_points"]),
    }
    if backtest is not None and len(backtest):
        evaluation.images["backtest"] = plots.backtest_plot(backtest)
    return evaluation


def write_report(evaluation: Evaluation, out_dir: str | Path) -> dict[str, Path]:
    """Write report.html, summary.md and metrics.json to `out_dir` (each atomically); return the paths."""
    out = Path(out_dir)
    env = Environment(loader=PackageLoader("leadscore.pipeline", "templates"), autoescape=select_autoescape(["html", "j2"]))
    images = {k: base64.b64encode(v).decode("ascii") for k, v in evaluation.images.items()}
    html = env.get_template("report.html.j2").render(e=evaluation, images=images)
    paths = {
        "html": write_text(html, out / "report.html"),
        "markdown": write_text(markdown_summary(evaluation), out / "summary.md"),
        "json": write_text(json.dumps(evaluation.to_dict(), indent=2, sort_keys=True), out / "metrics.json"),
    }
    return paths


def _window_line(window: dict) -> str:
    """Say which rows were held out: snapshots with their dates, or a flat export's rows with the periods they span."""
    if window.get("flat"):
        return (f"Held-out rows of a flat export, {window['first']} to {window['last']}: {window['rows']:,} rows, "
                f"{window['wins']:,} wins. Split {window['split']}.")
    return (f"Held-out snapshots {window['first_as_of']} to {window['last_as_of']}: {window['snapshots']:,} snapshots, "
            f"{window['wins']:,} wins within {window['horizon_days']} days.")


def markdown_summary(e: Evaluation) -> str:
    """Return the verdict, side-by-side metrics and threshold audit as Markdown."""
    lines = ["# leadscore evaluation", "", _window_line(e.window), "", f"**{e.headline}**", "", "## Verdict", ""]
    lines += [f"- {line}" for line in e.verdict]
    lines += ["", "## Metrics", "", "| metric | model | points table |", "|---|---:|---:|"]
    for key in ("roc_auc", "pr_auc", "brier", "log_loss", "ece"):
        lines.append(f"| {key} | {e.metrics['model'][key]:.4f} | {e.metrics['rule'][key]:.4f} |")
    if not e.window.get("flat"):
        lines += ["", "## Population", "", "| group | treatment | snapshots | wins | conversion |", "|---|---|---:|---:|---:|"]
        lines += [f"| {g.group} | {g.treatment} | {g.snapshots:,} | {g.wins:,} | {format(g.conversion, '.1%') if g.snapshots else '—'} |"
                  for g in e.population.itertuples()]
    if e.backtest is not None and len(e.backtest):
        title = ("Cross-validation (each fold scored by a model fitted on the other folds)" if e.window.get("cross_validated")
                 else "Backtest (each fold scored by a model fitted on everything labelled before it)")
        lines += ["", f"## {title}", "",
                  "| fold | dates | rows | wins | model AUC | points AUC | model PR AUC | model Brier | model ECE | points ECE |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for f in e.backtest.itertuples():
            lines.append(f"| {f.fold} | {f.first_as_of} to {f.last_as_of} | {f.rows:,} | {f.wins:,} | {f.model_roc_auc:.4f} | "
                         f"{f.rule_roc_auc:.4f} | {f.model_pr_auc:.4f} | {f.model_brier:.4f} | {f.model_ece:.4f} | {f.rule_ece:.4f} |")
    lines += ["", "## Threshold audit", "", "| scorer | threshold | passed | conversion | wins captured | not ready | over-generous | recommended |",
              "|---|---|---:|---:|---:|---:|---|---|"]
    for a in e.audits:
        rec = "—" if a.recommended_threshold is None else f"≥ {a.recommended_threshold:.12g} (chosen on the {a.recommended_on})"
        rec += f" {a.ties}" if a.ties and a.recommended_threshold is not None else ""
        lines.append(f"| {a.scorer} | {a.name} ≥ {a.threshold:.4g} {a.unit} | {a.share_passed:.1%} | {a.conversion:.1%} | "
                     f"{a.recall:.1%} | {a.not_ready:,} | {'**yes**: ' + '; '.join(a.problems) if a.over_generous else 'no'} | {rec} |")
    if e.explained:
        lines += _explained_lines(e.explained, e.window)
    if e.fitted_table:
        from leadscore.pipeline.evaluation.fitted_table import markdown_lines

        lines += markdown_lines(e.fitted_table)
    return "\n".join(lines) + "\n"


def _explained_lines(explained: dict, window: dict) -> list[str]:
    """Return the top factors and the example leads as Markdown: what moves the model's scores, on leads a reader can picture."""
    rows = "rows" if window.get("flat") else "lead-snapshots"
    lines = ["", "## What moves the model's scores", "",
             f"Mean absolute contribution to the log-odds of a win over {explained['explained_rows']:,} of the "
             f"{explained['rows']:,} test {rows} (0.69 doubles or halves the odds), the share of them each factor raises and lowers, "
             "and which of its values push up (pushes are measured from the average lead the model learned from).",
             *(["", explained["scope"]] if explained["scope"] else []), "",
             "| factor | mean absolute contribution | raises | lowers | direction |", "|---|---:|---:|---:|---|"]
    lines += [f"| {f['label']} | {f['mean_abs']:.3f} | {f['raises']:.0%} | {f['lowers']:.0%} | {f['direction']} |"
              for f in explained["factors"]]
    outcome = "" if window.get("flat") else f" within {window['horizon_days']} days"
    lines += ["", "## Example leads", "", "| lead | shown as | model | grade | segment | points | points segment | outcome |",
              "|---|---|---:|---|---|---:|---|---|"]
    lines += [f"| {x['name']} | {x['why_shown']} | {x['probability']:.1%} | {x['grade']} | {x['segment']} | {x['points']:.0f} | "
              f"{x['points_segment']} | {'won' if x['won'] else 'not won'}{outcome} |" for x in explained["examples"]]
    for x in explained["examples"]:
        lines += ["", f"**{x['name']}**: model up: {'; '.join(x['reasons_model_up']) or '—'}. "
                      f"Model down: {'; '.join(x['reasons_model_down']) or '—'}. Points: {'; '.join(x['reasons_rule']) or '—'}."]
    return lines


def training_summary(core, frame: pd.DataFrame) -> dict:
    """Return what the report says about training: the family chosen and why, and the periods each model saw."""
    return {"family": core.candidate.family, "candidate": core.candidate.name,
            "selection": core.selection.to_dict(orient="records"),
            "deployed": core.deployed.window.describe(frame) | {"calibration_method": core.deployed.method},
            "held_out": core.holdout.window.describe(frame) | {"calibration_method": core.holdout.method},
            "base_rate_shifts": core.shifts}


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and (np.isnan(value) or np.isinf(value)):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _clean(value.item())
    return value
