"""Talk to MLflow: runs, the registered model, the challenger and champion aliases.

This is the only module that imports mlflow's tracking API. The embedded default is a
SQLite store and an artifact folder inside the working folder, so a demo writes nothing
anywhere else; a server URI (config `tracking.uri` or MLFLOW_TRACKING_URI) works the same.
Aliases, not the deprecated stages, mark which version is `challenger` and `champion`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import warnings
from pathlib import Path
from urllib.parse import unquote

from leadscore.features.io import ensure_folder
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.config import Config
from leadscore.pipeline.errors import BadInputError, LeadscoreError, TrackingError

CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_VERSION_TAG = "leadscore.model_version"
"""The scoring-run tag naming the registered model version (or bundle) that scored: a run links the model it used."""
PROMOTION_TAG = "leadscore.promotion"
"""The model-version tag holding the promotion decision ("promoted", "not promoted"); its reason is in `leadscore.promotion_reason`."""
SHA_TAG = "leadscore.model_sha256"
"""The run and model-version tag holding the sha256 of the bundle's model file: the anchor a load
checks the file against, kept in the tracking store rather than beside the file."""


def _mlflow(config: Config):
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    uri = config.tracking_uri()
    if uri.startswith("sqlite:///"):
        ensure_folder(Path(unquote(uri.removeprefix("sqlite:///"))).parent)
    if uri == Catalog.of(config).local_tracking_uri():
        _follow_moved_workdir(config)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow


def client(config: Config):
    """Return an MlflowClient on the configured store, or a TrackingError if it cannot be reached."""
    try:
        _mlflow(config)
        from mlflow.tracking import MlflowClient

        c = MlflowClient(tracking_uri=config.tracking_uri(), registry_uri=config.tracking_uri())
        c.search_experiments(max_results=1)
    except LeadscoreError:
        raise
    except Exception as exc:  # an unknown scheme, a retired backend, any transport or store error: the same to the user
        raise TrackingError(f"MLflow tracking store {config.tracking_uri()} cannot be reached or used: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:240]}. Check tracking.uri / MLFLOW_TRACKING_URI "
                            "(e.g. sqlite:///path/mlflow.db or http://host:5000).") from None
    _remove_quoted_twin(config.tracking_uri())
    return c


def _follow_moved_workdir(config: Config) -> None:
    from leadscore.pipeline.console import err
    from leadscore.pipeline.moved_store import follow_moved_store

    catalog = Catalog.of(config)
    old = follow_moved_store(catalog.mlflow_db, catalog.mlflow_artifacts)
    if old:
        err.print(f"note: this working folder's MLflow store pointed at {unquote(old)}; it was moved or copied, "
                  f"so its artefact locations now point at {catalog.mlflow_artifacts.resolve()}")


def _remove_quoted_twin(uri: str) -> None:
    """Remove the empty folder MLflow makes from a SQLite URI's path still percent-quoted.

    MLflow (`store.db.utils._make_parent_dirs_if_sqlite`) creates the parent of the URI's path
    without unquoting it, so a working folder `a?b` also gets an empty `a%3Fb` beside it; the
    store itself is in `a?b`, where SQLAlchemy opens it. Only an empty folder is removed.
    """
    if not uri.startswith("sqlite:///"):
        return
    quoted = Path(uri.removeprefix("sqlite:///")).parent
    if quoted != Path(unquote(str(quoted))) and quoted.is_dir() and not any(quoted.iterdir()):
        quoted.rmdir()


def experiment_id(config: Config, name: str | None = None) -> str:
    """Return the id of experiment `name` (default: the training experiment), creating it with its artifacts inside the working folder."""
    c = client(config)
    name = name or config.tracking.experiment
    found = c.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if config.tracking_uri().startswith("sqlite:///"):
        location = Catalog.of(config).mlflow_artifacts.resolve().as_uri()
    return c.create_experiment(name, artifact_location=location)


def log_training_run(config: Config, bundle_dir: Path, params: dict, metrics: dict[str, float], artifacts: list[Path],
                     input_example, tags: dict[str, str], bundle, steps: dict[str, list[float]] | None = None,
                     run_name: str | None = None, description: str = "", datasets: dict | None = None,
                     test_slice: Path | None = None) -> tuple[str, str]:
    """Log a training run named `run_name` and register its model; return (run_id, model version).

    The registered version gets `description` and a tag per headline metric (`test_roc_auc`,
    `backtest_roc_auc`, ...), so the registry's list of versions reads without opening runs.

    `bundle` is the one just saved to `bundle_dir`, still in memory: its sha256 is recorded as a
    tag of the run and of the registered version, the anchor every later load checks the file
    against (`model_sha256`). `steps` holds per-fold figures: each value list is logged with
    step = fold number (1, 2, ...). `datasets` maps a context ("training", "test") to (frame, source)
    for `mlflow.log_input`; `test_slice` (a Parquet file without lead ids) is logged as a run
    artifact under `test_slice/`. The registered model holds only what scoring needs
    (`leadscore.models.serving`).
    """
    mlflow = _mlflow(config)
    import mlflow.data
    from mlflow.models import infer_signature

    from leadscore.models import serving

    exp = experiment_id(config)
    sha = bundle.manifest["sha256"]
    tags = {**tags, SHA_TAG: sha}
    proba = bundle.calibrated.predict_proba(input_example)[:, 1]
    import pandas as pd

    with warnings.catch_warnings():  # its hint about missing integers: the feature builder never leaves a count missing
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        signature = infer_signature(input_example, pd.DataFrame({"probability": proba}))
    with mlflow.start_run(experiment_id=exp, tags=tags, run_name=run_name) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        for key, values in (steps or {}).items():
            for step, value in enumerate(values, start=1):
                if value == value:
                    mlflow.log_metric(key, float(value), step=step)
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="evaluation")
        with warnings.catch_warnings():  # its guesses about the source's kind and integer columns: the frames are the builder's own
            warnings.filterwarnings("ignore", message=".*(dataset source can be interpreted|integer column)", category=UserWarning)
            for context, (frame, source) in (datasets or {}).items():
                mlflow.log_input(_dataset(mlflow, frame, source, context), context=context)
        if test_slice is not None:  # promotion re-scores a champion on it; a run artifact, kept out of the registered model
            mlflow.log_artifact(str(test_slice), artifact_path=TEST_SLICE_FOLDER)
        with tempfile.TemporaryDirectory() as staging:
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(serving.SERVING_FILE),
                artifacts={"bundle": str(serving.stage_bundle(bundle_dir, Path(staging) / "bundle"))},
                code_paths=[str(serving.stage_code(Path(staging) / "code"))], pip_requirements=serving.pip_requirements(),
                signature=signature, input_example=input_example, registered_model_name=config.tracking.model_name,
            )
        version = str(info.registered_model_version)
    c = client(config)
    name = config.tracking.model_name
    c.set_model_version_tag(name, version, SHA_TAG, sha)
    for key in VERSION_METRICS:
        if key in metrics and metrics[key] == metrics[key]:  # NaN (a metric one class cannot give) is left out
            c.set_model_version_tag(name, version, f"leadscore.{key}", f"{float(metrics[key]):.4f}")
    if description:
        c.update_model_version(name, version, description=description)
    c.set_registered_model_alias(name, CHALLENGER, version)
    return run.info.run_id, version


TEST_SLICE_FOLDER = "test_slice"
"""The training run's artifact folder holding its test slice (features and labels, no lead ids)."""


def _target_of(frame) -> str | None:
    return "label" if "label" in frame.columns else None


SCHEMA_SAMPLE_ROWS = 1000
"""Rows MLflow reads a logged dataset's column types from; whether a column has blanks is read from all of them."""


def _dataset(mlflow, frame, source: str, name: str):
    """Return `frame` as an MLflow dataset whose schema is read from column types, not value by value.

    MLflow infers a dataset's schema by testing every value of every column for blanks in
    Python, minutes on a training set of millions of rows; the types of a sample and a
    vectorised blank check give the same schema.
    """
    from mlflow.types import ColSpec, Schema

    dataset = mlflow.data.from_pandas(frame, source=source, name=name, targets=_target_of(frame))
    sample = mlflow.models.infer_signature(frame.head(SCHEMA_SAMPLE_ROWS)).inputs
    blanks = frame.isna().any()
    specs = [ColSpec(type=spec.type, name=spec.name, required=not bool(blanks[spec.name])) for spec in sample.inputs]
    dataset.__dict__["schema"] = Schema(specs)  # `schema` is a cached property: this is its cached value
    return dataset


def download_test_slice(config: Config, version: str) -> Path:
    """Download the test slice the training run of registered `version` logged, and return the Parquet file."""
    mlflow = _mlflow(config)
    run_id = model_version(config, version).run_id
    target = Catalog.of(config).registry_cache / f"test-slice-{run_id}"
    if not target.exists():
        ensure_folder(Catalog.of(config).registry_cache)
        staging = Catalog.of(config).registry_cache / f".download-{secrets.token_hex(8)}"
        staging.mkdir()
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=TEST_SLICE_FOLDER, dst_path=str(staging))
        try:
            os.rename(staging, target)
        except OSError:  # another run put it in place first
            shutil.rmtree(staging, ignore_errors=True)
    found = sorted(target.rglob("*.parquet"))
    if not found:
        raise TrackingError(f"version {version}: its training run {run_id} logged no test slice")
    return found[0]


VERSION_METRICS = ("test_roc_auc", "test_pr_auc", "test_ece", "rule_test_roc_auc", "backtest_roc_auc", "rule_backtest_roc_auc")
"""The metrics a registered model version carries as tags (the run that produced it has them all)."""


def log_run_files(config: Config, run_id: str, paths: list[Path], artifact_path: str) -> None:
    """Log files to the finished run `run_id` (a report rewritten once its model version is known replaces the first one)."""
    c = client(config)
    for path in paths:
        c.log_artifact(run_id, str(path), artifact_path)


def record_promotion(config: Config, version: str, promoted: bool, reason: str) -> None:
    """Tag model `version` with the promotion decision and its reason (the registry then says why it is or is not champion)."""
    c = client(config)
    name = config.tracking.model_name
    c.set_model_version_tag(name, str(version), PROMOTION_TAG, "promoted" if promoted else "not promoted")
    c.set_model_version_tag(name, str(version), f"{PROMOTION_TAG}_reason", reason[:5000])


def log_scoring_run(config: Config, params: dict, metrics: dict[str, float], artifacts: list[Path], run_name: str | None = None,
                    model_name: str = "", model_version: str = "") -> str:
    """Log a batch-scoring run (counts, runtime, drift) named `run_name` in the scoring experiment; return its run id.

    Scoring runs have an experiment of their own (`tracking.scoring_experiment`), so they do
    not bury the training runs a data scientist compares; each is tagged with the model
    version that scored (and, for a registered version, the run that trained it).
    """
    mlflow = _mlflow(config)
    tags = {"leadscore.stage": "score", "leadscore.model_name": model_name, MODEL_VERSION_TAG: str(model_version)}
    training_run = _training_run_of(config, model_name, model_version) if model_version else None
    if training_run:
        tags["leadscore.model_run_id"] = training_run
    with mlflow.start_run(experiment_id=experiment_id(config, config.tracking.scoring_experiment_name()), tags=tags,
                          run_name=run_name) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        for path in artifacts:
            mlflow.log_artifact(str(path))
    return run.info.run_id


def _training_run_of(config: Config, model_name: str, model_version: str) -> str | None:
    """Return the run id that trained registered `model_name` version `model_version` (None for a bundle not registered)."""
    try:
        return client(config).get_model_version(model_name, str(model_version)).run_id
    except Exception:  # a bundle folder scored outside the registry has no version there
        return None


def alias_version(config: Config, alias: str) -> str | None:
    """Return the model version an alias points at, or None if the alias is not set."""
    c = client(config)
    try:
        return str(c.get_model_version_by_alias(config.tracking.model_name, alias).version)
    except Exception:
        return None


def set_alias(config: Config, alias: str, version: str) -> None:
    """Point `alias` at `version` of the registered model."""
    client(config).set_registered_model_alias(config.tracking.model_name, alias, str(version))


def version_metrics(config: Config, version: str) -> dict[str, float]:
    """Return the metrics logged by the run that produced a model version."""
    c = client(config)
    mv = model_version(config, version, c)
    return dict(c.get_run(mv.run_id).data.metrics)


def model_version(config: Config, version: str, c=None):
    """Return the registry's ModelVersion `version`, or a BadInputError listing the versions there are.

    A version comes from the user (`promote --version`); the store was reachable, so a miss
    is a wrong argument (exit 2), not a tracking fault.
    """
    from mlflow.exceptions import MlflowException

    c = c or client(config)
    name = config.tracking.model_name
    try:
        return c.get_model_version(name, str(version))
    except MlflowException:
        raise BadInputError(f"--version {version}: {name} has no such version in {config.tracking_uri()}; "
                            f"{_known_versions(c, name)}") from None


def _known_versions(c, name: str) -> str:
    """Describe the registered versions of `name`, for an error message (best effort: it is only a hint)."""
    try:
        found = sorted(int(v.version) for v in c.search_model_versions(f"name = '{name}'"))
    except Exception:  # the hint must not hide the error it decorates
        return "list them with the MLflow UI"
    return f"registered versions: {', '.join(map(str, found))}" if found else "no version is registered yet"


def resolve(config: Config, model_uri: str):
    """Return the registry's ModelVersion for models:/NAME@ALIAS or models:/NAME/VERSION."""
    if not model_uri.startswith("models:/"):
        raise TrackingError(f"{model_uri}: expected models:/NAME@ALIAS or models:/NAME/VERSION")
    rest = model_uri.removeprefix("models:/")
    c = client(config)
    try:
        if "@" in rest:
            name, alias = rest.split("@", 1)
            return c.get_model_version_by_alias(name, alias)
        name, version = rest.rsplit("/", 1)
        return c.get_model_version(name, version)
    except Exception:
        command = "leadscore flat train" if config.flat is not None else "leadscore train"
        raise TrackingError(f"{model_uri}: no such registered model version in {config.tracking_uri()} "
                            f"(train and promote one with `{command} --promote`)") from None


def registered_bundle(config: Config, model_uri: str):
    """Return (bundle, ModelVersion) for a registered model, its file checked against the version's sha256 tag.

    A cached copy whose file no longer matches the tag is downloaded again once; a fresh download
    that still does not match (the artifact store holds another file than the one trained) stops.
    """
    from leadscore.models.bundle import load_bundle, sha256_of

    version = resolve(config, model_uri)
    expected = model_sha256(version)
    folder = download_bundle(config, model_uri, version)
    if expected and sha256_of(folder / "model.joblib") != expected:
        shutil.rmtree(_cache_folder(config, version), ignore_errors=True)
        folder = download_bundle(config, model_uri, version)
    return load_bundle(folder, expected), version


def model_sha256(version) -> str | None:
    """Return the sha256 a model version's training run recorded for its file (None for a version without one)."""
    return (getattr(version, "tags", None) or {}).get(SHA_TAG)


def local_bundle_sha256(config: Config, bundle_name: str) -> str | None:
    """Return the sha256 the training run that saved model-store bundle `bundle_name` recorded, if any."""
    c = client(config)
    found = c.get_experiment_by_name(config.tracking.experiment)
    if found is None:
        return None
    runs = c.search_runs([found.experiment_id], filter_string=f"tags.`leadscore.bundle` = '{bundle_name}'", max_results=2)
    hashes = {r.data.tags.get(SHA_TAG) for r in runs}
    return hashes.pop() if len(hashes) == 1 else None


def download_bundle(config: Config, model_uri: str, version=None) -> Path:
    """Download a registered model's bundle (e.g. models:/leadscore@champion) and return its folder.

    The cache is keyed by the registry's identity (its URI) and the version's immutable run id, so
    a new store or another registry with its own "v1" never reuses this one's files. A download
    goes to a private temporary folder renamed into place, so concurrent runs never see each
    other's half-downloaded files. The file is checked against the version's sha256 when loaded.
    """
    mlflow = _mlflow(config)
    version = version or resolve(config, model_uri)
    cache = Catalog.of(config).registry_cache
    target = _cache_folder(config, version)
    if _bundle_in(target) is None:
        ensure_folder(cache)
        staging = cache / f".download-{secrets.token_hex(8)}"
        staging.mkdir()  # not mkdtemp: its 0700 would stay on the renamed folder; mkdir honours the umask
        mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{version.name}/{version.version}", dst_path=str(staging))
        try:
            os.rename(staging, target)
        except OSError:  # another run put the same version in place first
            shutil.rmtree(staging, ignore_errors=True)
    found = _bundle_in(target)
    if found is None:
        raise TrackingError(f"{model_uri}: the registered model holds no leadscore bundle")
    return found


def _cache_folder(config: Config, version) -> Path:
    registry = hashlib.sha256(config.tracking_uri().encode()).hexdigest()[:12]
    return Catalog.of(config).registry_cache / f"{version.name}-v{version.version}-{registry}-{version.run_id or 'norun'}"


def _bundle_in(folder: Path) -> Path | None:
    found = sorted(p.parent for p in (folder / "artifacts").glob("*/manifest.json"))
    return found[0] if len(found) == 1 else None
