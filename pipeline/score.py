"""The score stage: every open lead as of a date, scored by the champion and by the points table.

Built for a scheduler: the same builders as training, leads in chunks so memory stays bounded,
one lock per output so two runs take turns, results written to a temporary file and renamed
(a crash leaves the previous file), and a rerun for the same as_of and model writes the same
bytes. Reasons (LightGBM contributions, ~100x the cost of a prediction) are computed only for
the leads that need them: the top share by probability and every lead either scorer calls hot.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadscore.features.builder import build_features
from leadscore.features.crm import Crm
from leadscore.features.registry import all_features
from leadscore.features.snapshots import midnight, scoring_snapshots
from leadscore.models.bundle import ModelBundle, load_bundle
from leadscore.models.explain import reasons_from_contributions
from leadscore.pipeline.config import Config, with_feature_settings
from leadscore.pipeline.console import err
from leadscore.pipeline.drift import DriftReference, psi
from leadscore.pipeline.drift import shares as bin_shares
from leadscore.pipeline.errors import BadInputError, DriftError, SchemaMismatchError
from leadscore.pipeline.grading import grade, score_0_100, segment
from leadscore.pipeline.io import check_frame_target, write_frame, write_text
from leadscore.pipeline.locking import exclusive

OUTPUT_COLUMNS = (
    "lead_id", "as_of", "model_name", "model_version", "probability", "score", "grade", "segment",
    "rule_points", "rule_segment", "segments_disagree", "reasons_model_up", "reasons_model_down", "reasons_rule",
)


@dataclass
class ScoreResult:
    """What a scoring run wrote and saw."""

    out_path: Path | None
    frame: pd.DataFrame
    counts: dict
    drift: pd.DataFrame
    drift_exceeded: list[str]
    seconds: float
    model_name: str
    model_version: str
    run_id: str | None = None
    extra: dict = field(default_factory=dict)


def resolve_model(config: Config, model: str | None) -> tuple[ModelBundle, str, str, Config]:
    """Load the bundle to score with (the registry's champion by default, or a bundle in the model
    store) and return it with its name, its version and `config` set to build its features.

    Only two places are trusted, because a joblib file is code: the configured MLflow registry
    and the working folder's own `models/` store. Either way the file's sha256 is checked
    against its manifest before it is unpickled.
    """
    from leadscore.pipeline import tracking

    if model is None or model.startswith("models:/"):
        uri = model or f"models:/{config.tracking.model_name}@{tracking.CHAMPION}"
        version = tracking.resolve(config, uri)
        bundle = load_bundle(tracking.download_bundle(config, uri))
        return bundle, version.name, str(version.version), _with_model_settings(bundle, config)
    path = Path(model).resolve()
    store = (config.workdir_path / "models").resolve()
    if store not in path.parents:
        raise SchemaMismatchError(f"{model}: refusing to load a model from outside the configured store {store} "
                                  "(model files are code); use a models:/ URI or a bundle under that folder")
    bundle = load_bundle(path)
    return bundle, bundle.manifest.get("name", "local"), f"local:{path.name}", _with_model_settings(bundle, config)


def _with_model_settings(bundle: ModelBundle, config: Config) -> Config:
    """Return `config` with the feature settings `bundle` was trained with, warning where they differ.

    A model's features must mean at scoring what they meant in training: a competitor list or
    recent-send count changed in the config since would silently feed it other values. To use
    new settings, retrain.
    """
    config, changed = with_feature_settings(config, bundle.manifest.get("feature_settings"))
    if changed:
        err.print(f"[yellow]warning:[/] building features with the settings model {bundle.manifest.get('name')} was trained "
                  f"with; the config differs in {', '.join(changed)} (retrain to use them)")
    return config


def score(data, as_of, config: Config, model: str | None = None, out: str | Path | None = None,
          db_url: str | None = None, db_table: str = "lead_scores", fail_on_drift: bool = False,
          crm: Crm | None = None, show_progress: bool = True, log_to_mlflow: bool = True) -> ScoreResult:
    """Score every lead open at `as_of`; write `out` (Parquet or CSV) and optionally upsert into a database.

    `out` and the database are checked before the model or the data is loaded, so a typo
    fails in a second; a run that fails replaces neither the scores nor the database rows.
    """
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.train import _engine

    started = time.perf_counter()
    if out is not None:
        check_frame_target(out)
    sink = _open_sink(db_url, db_table)
    try:
        bundle, model_name, model_version, config = resolve_model(config, model)
        crm = crm or load_crm(data, _engine(config))
        as_of = midnight(as_of) if as_of is not None else midnight(crm.data_end) + pd.Timedelta(days=1)
        if as_of > midnight(crm.data_end) + pd.Timedelta(days=1):
            raise BadInputError(f"{crm.source}: --as-of {as_of.date()} is after the data ends ({crm.data_end.date()}); "
                                "scores would ignore activity that has not been loaded yet")
        out = Path(out) if out else config.workdir_path / "scores" / f"scores_{as_of.date()}.parquet"
        with exclusive(out):
            snapshots = scoring_snapshots(crm, as_of)
            if snapshots.empty:
                raise BadInputError(f"{crm.source}: no open lead at {as_of.date()}: nothing to score")
            frame, drift_counts, candidates = _score_in_chunks(crm, snapshots, bundle, config, show_progress)
            frame = _add_reasons(frame, candidates, bundle, config)
            frame.insert(2, "model_name", model_name)
            frame.insert(3, "model_version", model_version)
            frame = frame.sort_values("lead_id", ignore_index=True)[list(OUTPUT_COLUMNS)]
            drift, exceeded = _drift_report(bundle, drift_counts, len(frame), frame, config)
            _publish(frame, drift, out, sink, config, stop_for=exceeded if fail_on_drift else [])
    finally:
        if sink is not None:
            sink.close()
    counts = {
        "leads": int(len(frame)),
        **{f"grade_{k}": int(v) for k, v in frame["grade"].value_counts().sort_index().items()},
        **{f"segment_{k}": int(v) for k, v in frame["segment"].value_counts().sort_index().items()},
        "segments_disagree": int(frame["segments_disagree"].sum()),
    }
    result = ScoreResult(out, frame, counts, drift, exceeded, time.perf_counter() - started, model_name, model_version)
    if exceeded:
        err.print(f"[yellow]warning:[/] population drift beyond psi {config.scoring.drift.psi_fail:g} in {', '.join(exceeded[:8])}")
    if log_to_mlflow:
        from leadscore.pipeline import tracking

        metrics = {**counts, "seconds": result.seconds, "max_feature_psi": float(drift.loc[drift["name"] != "score", "psi"].max()),
                   "score_psi": float(drift.loc[drift["name"] == "score", "psi"].iloc[0]),
                   "share_hot": float(drift.attrs.get("share_hot", np.nan))}
        result.run_id = tracking.log_scoring_run(
            config, {"as_of": str(as_of.date()), "model": f"{model_name} v{model_version}", "output": str(out)}, metrics,
            [out.with_name(out.stem + ".drift.json")])
    return result


def _open_sink(db_url: str | None, db_table: str):
    """Open the --db-url table before any work, so a bad URL or table name costs no scoring run."""
    if not db_url:
        return None
    from leadscore.pipeline.sink import ScoreSink

    return ScoreSink(db_url, db_table)


def _publish(frame: pd.DataFrame, drift: pd.DataFrame, out: Path, sink, config: Config, stop_for: list[str]) -> None:
    """Write the drift report, then (unless drift stops the run) the scores and the database rows.

    The rows are upserted in a transaction that commits only after both files are renamed
    into place: a failing database leaves the files as they were, and a failing write rolls
    the rows back. Drift in `stop_for` stops the run after writing only the drift report,
    the evidence for the stop.
    """
    drift_path = out.with_name(out.stem + ".drift.json")
    drift_json = drift.to_json(orient="records", indent=2)
    if stop_for:
        write_text(drift_json, drift_path)
        raise DriftError(
            f"population drift beyond psi {config.scoring.drift.psi_fail:g} in {', '.join(stop_for[:8])}"
            f"{' …' if len(stop_for) > 8 else ''}; scores were not written ({out} is unchanged). See {drift_path}")
    with sink.upserting(frame) if sink is not None else contextlib.nullcontext():
        write_text(drift_json, drift_path)
        write_frame(frame, out)


def _score_in_chunks(crm: Crm, snapshots: pd.DataFrame, bundle: ModelBundle, config: Config, show_progress: bool):
    """Score the snapshots chunk by chunk; return the scores, drift bin counts and the reason candidates.

    The candidates are the feature rows of every lead that may need reasons (see
    `ReasonCandidates`), kept as the chunks go so that no feature is built twice.
    """
    reference = DriftReference.from_dict(bundle.manifest["drift_reference"])
    counts = {ref.name: np.zeros(len(ref.expected)) for ref in reference.features}
    counts["score"] = np.zeros(len(reference.score.expected))
    candidates = ReasonCandidates(int(np.ceil(len(snapshots) * config.scoring.reasons_top_share)))
    parts = []
    size = config.scoring.chunk_size
    columns = [TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("leads"), TimeElapsedColumn()]
    with Progress(*columns, console=err, disable=not show_progress, transient=True) as progress:
        task = progress.add_task("score", total=len(snapshots))
        for start in range(0, len(snapshots), size):
            chunk = snapshots.iloc[start:start + size]
            features = build_features(crm, chunk, config.for_features)
            bundle.check_schema(features, f"features built from {crm.source}")
            X = features[bundle.feature_names]
            proba = bundle.calibrated.predict_proba(X)[:, 1]
            points = bundle.points
            part = pd.DataFrame({
                "lead_id": features["lead_id"].to_numpy(),
                "as_of": features["as_of"].to_numpy(),
                "probability": proba,
                "score": score_0_100(proba),
                "grade": np.asarray(grade(proba, config.grades)),
                "segment": np.asarray(segment(proba, config.grades)),
                "rule_points": np.round(points.decision_function(features), 4),
                "rule_segment": np.asarray(points.segment(features)),
            })
            parts.append(part)
            candidates.add(features, proba, _called_hot(part).to_numpy())
            for ref in reference.features:
                counts[ref.name] += bin_shares(ref, X[ref.name]) * len(X)
            counts["score"] += bin_shares(reference.score, pd.Series(proba)) * len(X)
            progress.advance(task, len(chunk))
    frame = pd.concat(parts, ignore_index=True)
    frame["segments_disagree"] = frame["segment"] != frame["rule_segment"]
    return frame, counts, candidates.frame


class ReasonCandidates:
    """Keep, across chunks, the feature rows of every lead that may need reasons.

    A lead needs reasons if it is among the `top_n` highest probabilities overall or hot for
    either scorer. Hot rows are kept as they come; for the top, the pool keeps every row at or
    above the `top_n`-th highest probability seen so far (ties included), which is always a
    superset of the final top. Memory stays ~`top_n` rows plus the hot ones.
    """

    def __init__(self, top_n: int):
        self.top_n = top_n
        self.frame: pd.DataFrame | None = None

    def add(self, features: pd.DataFrame, proba: np.ndarray, hot: np.ndarray) -> None:
        """Offer one chunk's feature rows with their probabilities and hot flags."""
        rows = features.assign(_probability=proba, _hot=hot)
        pool = rows if self.frame is None else pd.concat([self.frame, rows], ignore_index=True)
        if self.top_n and len(pool) > self.top_n:
            cutoff = np.partition(pool["_probability"].to_numpy(), len(pool) - self.top_n)[len(pool) - self.top_n]
            keep = pool["_hot"].to_numpy() | (pool["_probability"].to_numpy() >= cutoff)
        else:
            keep = pool["_hot"].to_numpy() | (self.top_n > 0)
        self.frame = pool.loc[keep].reset_index(drop=True)


def _called_hot(frame: pd.DataFrame) -> pd.Series:
    """Return which leads the model or the points table calls hot (each needs the reasons of its call)."""
    return (frame["segment"] == "hot") | (frame["rule_segment"] == "hot")


def _add_reasons(frame: pd.DataFrame, candidates: pd.DataFrame | None, bundle: ModelBundle, config: Config) -> pd.DataFrame:
    """Attach reasons to the leads that need them; the rest get empty text.

    Model reasons (LightGBM contributions, the costly part) go to the model's top share and
    every lead the model calls hot; rule reasons (cheap) to those and every lead the points
    table calls hot, so each hot call comes with the reasons of the scorer that made it.
    """
    frame = frame.assign(reasons_model_up="", reasons_model_down="", reasons_rule="")
    n_top = int(np.ceil(len(frame) * config.scoring.reasons_top_share))
    top = set(frame.nlargest(n_top, "probability")["lead_id"]) if n_top else set()
    model_needs = frame["lead_id"].isin(top) | (frame["segment"] == "hot")
    needs = model_needs | _called_hot(frame)
    if not needs.any():
        return frame
    features = candidates.set_index("lead_id").loc[frame.loc[needs, "lead_id"]].reset_index()
    frame.loc[needs, "reasons_rule"] = bundle.points.reasons(features, top=config.scoring.reasons_per_lead)
    if model_needs.any():
        X = features.loc[model_needs[needs].to_numpy(), bundle.feature_names]
        registry = {f.name: f for f in all_features(config.for_features)}
        model_reasons = reasons_from_contributions(bundle.model.contributions(X), X, registry, top=config.scoring.reasons_per_lead)
        frame.loc[model_needs, "reasons_model_up"] = model_reasons["reasons_up"].to_numpy()
        frame.loc[model_needs, "reasons_model_down"] = model_reasons["reasons_down"].to_numpy()
    return frame


def _drift_report(bundle: ModelBundle, counts: dict, n: int, frame: pd.DataFrame, config: Config):
    reference = DriftReference.from_dict(bundle.manifest["drift_reference"])
    rows = [{"name": ref.name, "psi": psi(np.asarray(ref.expected), counts[ref.name] / max(n, 1))} for ref in reference.features]
    rows.append({"name": "score", "psi": psi(np.asarray(reference.score.expected), counts["score"] / max(n, 1))})
    drift = pd.DataFrame(rows).sort_values("psi", ascending=False, ignore_index=True)
    drift["status"] = np.select([drift["psi"] > config.scoring.drift.psi_fail, drift["psi"] > config.scoring.drift.psi_warn],
                                ["drift", "watch"], default="stable")
    drift.attrs["share_hot"] = float((frame["probability"] >= config.grades.hot).mean())
    drift.attrs["share_hot_training"] = reference.share_hot
    exceeded = drift.loc[drift["status"] == "drift", "name"].tolist()
    return drift, exceeded


def summary_json(result: ScoreResult) -> str:
    """Return the run summary as JSON (counts, runtime, drift status)."""
    return json.dumps({"output": str(result.out_path), "model": f"{result.model_name} v{result.model_version}",
                       "seconds": round(result.seconds, 2), **result.counts, "drift_exceeded": result.drift_exceeded}, indent=2)
