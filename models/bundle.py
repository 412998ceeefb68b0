"""Save and load a model bundle: the calibrated model, the rule baseline and everything scoring needs.

A bundle is a folder with `model.joblib` and `manifest.json`. The manifest records the
feature schema (names, dtypes, categories), the points table, the training window, metrics,
library versions, the drift reference and the sha256 of `model.joblib`. joblib files are
code, and whoever can replace `model.joblib` can also rewrite the manifest beside it: so
`load_bundle` unpickles only a file whose hash matches one the caller read from somewhere the
bundle's writer cannot rewrite (the MLflow run and registry version that produced it).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import joblib
import pandas as pd

from leadscore.features.io import atomic_path, ensure_folder, write_text
from leadscore.models.errors import SchemaMismatchError

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
BUNDLE_FORMAT = 2
"""The layout of a bundle's model file: 2 pickles classes under the `leadscore.` namespace.
A bundle of another format names modules this version does not have, so it is refused
before anything is unpickled."""


@dataclass
class ModelBundle:
    """What a scoring run needs: calibrated model, raw model (for reasons), points scorer, manifest.

    `holdout` and `holdout_points` are the calibrated model and points scorer fitted before the
    test slice: the deployed ones are refitted on that slice too, so re-scoring the test slice
    with them would grade the model on its own lessons.
    """

    calibrated: object
    model: object
    points: object
    manifest: dict = field(default_factory=dict)
    holdout: object = None
    holdout_points: object = None

    def held_out(self) -> ModelBundle:
        """Return this bundle scoring with the models fitted before the test slice.

        Scoring past dates (a backfill for monitoring) with the deployed model grades it on
        outcomes it learned from; the held-out model had not seen them.
        """
        if self.holdout is None:
            raise SchemaMismatchError(f"model {self.manifest.get('name')} keeps no held-out model; retrain to score with one")
        raw = self.holdout.calibrated_classifiers_[0].estimator.estimator  # CalibratedClassifierCV(FrozenEstimator(model))
        return replace(self, calibrated=self.holdout, model=raw, points=self.holdout_points,
                       manifest={**self.manifest, "scorer": "held-out"})

    @property
    def scorer(self) -> str:
        """Return which of the bundle's models scores: 'deployed' or 'held-out'."""
        return self.manifest.get("scorer", "deployed")

    @property
    def label(self) -> str:
        """Return what the model's probability is of: 'won' (within the horizon) or the lifecycle stage it was trained to reach."""
        return (self.manifest.get("label") or {}).get("stage") or "won"

    def outcomes_seen_until(self) -> pd.Timestamp | None:
        """Return the end of the last outcome window the scoring model learned from (fit or calibration).

        A lead scored before this date has its outcome among the model's training labels, so
        judging those scores against what happened next measures memory, not skill.
        """
        periods = self.manifest.get("held_out" if self.scorer == "held-out" else "deployed") or {}
        window = self.manifest.get("window") or {}
        last = [p["last_as_of"] for p in (periods.get("fitted_on"), periods.get("calibrated_on")) if p and p.get("last_as_of")]
        if not last:
            return None
        reach = pd.Timedelta(days=int(window.get("gap_days", 0)) + int(window.get("horizon_days", 0)))
        return pd.Timestamp(max(last), tz="UTC") + reach

    @property
    def feature_names(self) -> list[str]:
        """Return the feature columns the model was trained on, in order."""
        return list(self.manifest["features"]["names"])

    def check_schema(self, frame: pd.DataFrame, source: str = "the feature frame",
                     feature_names: list[str] | None = None) -> None:
        """Raise SchemaMismatchError naming missing, extra and retyped feature columns.

        A frame also carries ids and labels, so extra columns are only judged against
        `feature_names` (the features the data was built with, e.g. the current registry's)
        when it is given: a feature the model never saw means it was trained on another schema.
        """
        expected = self.manifest["features"]["dtypes"]
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in (feature_names or []) if c not in expected]
        retyped = [f"{c} ({expected[c]} in training, {_kind(frame[c])} now)" for c in expected
                   if c in frame.columns and _kind(frame[c]) != expected[c]]
        if missing or extra or retyped:
            parts = []
            if missing:
                parts.append(f"missing columns {', '.join(missing)}")
            if extra:
                parts.append(f"extra columns {', '.join(extra)}")
            if retyped:
                parts.append(f"columns with another type: {', '.join(retyped)}")
            raise SchemaMismatchError(
                f"{source} does not match the model's feature schema (model {self.manifest.get('name')} "
                f"v{self.manifest.get('version', '?')}): {'; '.join(parts)}. Retrain, or score with the leadscore "
                "version and config the model was trained with.")


def schema_of(frame: pd.DataFrame, categories: dict[str, list[str]]) -> dict:
    """Return the feature schema recorded in a manifest."""
    return {"names": list(frame.columns), "dtypes": {c: _kind(frame[c]) for c in frame.columns}, "categories": categories}


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Write the bundle to `folder` (model first, manifest with its sha256 last, both atomically)."""
    folder = Path(folder)
    ensure_folder(folder)
    with atomic_path(folder / MODEL_FILE) as tmp:
        joblib.dump({"calibrated": bundle.calibrated, "model": bundle.model, "points": bundle.points, "holdout": bundle.holdout,
                     "holdout_points": bundle.holdout_points},
                    tmp, compress=3)
    manifest = {**bundle.manifest, "bundle_format": BUNDLE_FORMAT, "sha256": sha256_of(folder / MODEL_FILE),
                "versions": library_versions()}
    bundle.manifest = manifest
    write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str), folder / MANIFEST_FILE)
    return folder


def load_bundle(folder: str | Path, expected_sha256: str | None) -> ModelBundle:
    """Load a bundle after checking model.joblib against `expected_sha256` and the manifest's sha256.

    `expected_sha256` is the anchor: the hash recorded by the training run that wrote the bundle
    (a registry version tag or run tag). Without one the file is refused, never unpickled.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_format(manifest, folder)
    if not expected_sha256:
        raise SchemaMismatchError(
            f"{folder / MODEL_FILE}: no training run records this model's sha256, so nothing vouches for the file; "
            "refusing to unpickle it (retrain with `leadscore train` to register a model whose hash is recorded)")
    actual = sha256_of(folder / MODEL_FILE)
    if actual != expected_sha256:
        raise SchemaMismatchError(
            f"{folder / MODEL_FILE}: sha256 {actual[:12]}… does not match the {expected_sha256[:12]}… its training run "
            "recorded; refusing to unpickle a model file that changed after training")
    if actual != manifest.get("sha256"):
        raise SchemaMismatchError(
            f"{folder / MODEL_FILE}: sha256 {actual[:12]}… does not match the manifest's {str(manifest.get('sha256'))[:12]}…; "
            "refusing to unpickle a model file that changed after training")
    try:
        parts = joblib.load(folder / MODEL_FILE)
    except (ModuleNotFoundError, AttributeError) as exc:  # a class that moved or went: a class the file names is not in this version
        raise SchemaMismatchError(f"{folder / MODEL_FILE}: cannot be read by this leadscore ({exc}); retrain the model") from None
    return ModelBundle(parts["calibrated"], parts["model"], parts["points"], manifest, parts.get("holdout"),
                       parts.get("holdout_points"))


def read_manifest(folder: str | Path) -> dict:
    """Return a bundle's manifest without loading its model (nothing is unpickled)."""
    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        raise SchemaMismatchError(f"{folder}: not a leadscore model bundle (no {MANIFEST_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


def check_format(manifest: dict, folder: str | Path) -> None:
    """Refuse a bundle written in another format, telling the user to retrain.

    >>> check_format({"bundle_format": BUNDLE_FORMAT}, "m")
    >>> check_format({}, "m")
    Traceback (most recent call last):
    ...
    leadscore.models.errors.SchemaMismatchError: m: model bundle format 1, this leadscore reads format 2; retrain the model with this version
    """
    found = manifest.get("bundle_format", 1)
    if found != BUNDLE_FORMAT:
        raise SchemaMismatchError(f"{folder}: model bundle format {found}, this leadscore reads format {BUNDLE_FORMAT}; "
                                  "retrain the model with this version")


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Return the versions of the libraries a bundle depends on."""
    out = {"python": platform.python_version()}
    for name in ("leadscore", "scikit-learn", "lightgbm", "pandas", "numpy", "duckdb", "mlflow", "joblib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    return "category"
