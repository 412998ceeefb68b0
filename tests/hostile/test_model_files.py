"""A model file someone swapped is never run, and the registry cache never serves another store's model.

Each case crafts a bundle whose pickle would write a marker file when unpickled, rewrites the
manifest beside it so its sha256 agrees (an attacker who can replace one file can replace the
other), puts it in one of the places leadscore loads from, and scores: the marker must never
appear, and the run either refuses (exit 3) or scores with the genuine model.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from types import SimpleNamespace

import joblib
import pytest

from leadscore.models.bundle import MODEL_FILE, MANIFEST_FILE, sha256_of
from leadscore.pipeline import tracking
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.cli import main
from tests.quick_training import QUICK_TRAINING

pytestmark = pytest.mark.slow


class _Payload:
    """Unpickling this calls Path.write_text on the marker: proof that the file's code ran."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.write_text, (self.marker, "code from a swapped model file ran"))


def _poison(folder: pathlib.Path, marker: pathlib.Path) -> None:
    """Replace the bundle's model file with the payload and make its manifest agree with it."""
    joblib.dump({"calibrated": _Payload(marker), "model": None, "points": None}, folder / MODEL_FILE)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["sha256"] = sha256_of(folder / MODEL_FILE)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def registered(trained_crm, tmp_path_factory):
    """A working folder of its own with one trained, registered champion, and the CRM folder it scores."""
    from leadscore.features.synthetic import SETTINGS, write_crm
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import train
    from leadscore.features.crm import crm_from_frames

    root = tmp_path_factory.mktemp("hostile")
    data = root / "crm"
    write_crm(trained_crm, data)
    config = with_settings(load_config(workdir=str(root / "work")), {**SETTINGS, **QUICK_TRAINING})
    crm = crm_from_frames(trained_crm.leads, trained_crm.activities, trained_crm.opportunities)
    result = train(None, config, promote=True, crm=crm)
    return SimpleNamespace(root=root, data=data, config=config, result=result, settings=data / "leadscore.yaml")


def _score(registered, tmp_path, *extra) -> int:
    argv = ["score", "--data", str(registered.data), "--workdir", registered.config.workdir,
            "--out", str(tmp_path / "scores.parquet"), *extra]
    if registered.settings.exists():
        argv += ["--config", str(registered.settings)]
    return main(argv)


def test_a_bundle_in_the_model_store_that_no_run_vouches_for_is_never_unpickled(registered, tmp_path, capsys):
    marker = tmp_path / "pwned"
    planted = Catalog.of(registered.config).model_store / "20990101T000000000000"
    shutil.copytree(registered.result.bundle_dir, planted)
    _poison(planted, marker)
    assert _score(registered, tmp_path, "--model", str(planted)) == 3
    assert not marker.exists()
    assert "no training run records this model's sha256" in capsys.readouterr().err


def test_a_swapped_model_store_bundle_with_a_matching_manifest_is_refused(registered, tmp_path, capsys):
    marker = tmp_path / "pwned"
    genuine = registered.result.bundle_dir
    saved = tmp_path / "genuine"
    shutil.copytree(genuine, saved)
    try:
        _poison(genuine, marker)
        assert _score(registered, tmp_path, "--model", str(genuine)) == 3
        assert not marker.exists()
        assert "does not match" in capsys.readouterr().err
    finally:
        shutil.rmtree(genuine)
        shutil.copytree(saved, genuine)


def test_a_poisoned_registry_cache_is_replaced_by_the_registered_file(registered, tmp_path):
    marker = tmp_path / "pwned"
    uri = f"models:/{registered.config.tracking.model_name}@champion"
    cached = tracking.download_bundle(registered.config, uri)
    _poison(cached, marker)
    assert _score(registered, tmp_path) == 0
    assert not marker.exists()
    assert sha256_of(cached / MODEL_FILE) == sha256_of(registered.result.bundle_dir / MODEL_FILE)


def test_a_model_swapped_in_the_mlflow_artifact_store_is_refused(registered, tmp_path, capsys):
    marker = tmp_path / "pwned"
    catalog = Catalog.of(registered.config)
    stored = [p.parent for p in catalog.mlflow_artifacts.rglob(MODEL_FILE)]
    assert stored, "the registered model's files are in the working folder's artifact store"
    saved = {p: p.read_bytes() for folder in stored for p in (folder / MODEL_FILE, folder / MANIFEST_FILE)}
    try:
        for folder in stored:
            _poison(folder, marker)
        shutil.rmtree(catalog.registry_cache, ignore_errors=True)
        assert _score(registered, tmp_path) == 3
        assert not marker.exists()
        assert "its training run recorded" in capsys.readouterr().err
    finally:
        for path, content in saved.items():
            path.write_bytes(content)
        shutil.rmtree(catalog.registry_cache, ignore_errors=True)


def test_the_registered_version_carries_the_hash_of_its_model_file(registered):
    version = tracking.resolve(registered.config, f"models:/{registered.config.tracking.model_name}@champion")
    assert tracking.model_sha256(version) == sha256_of(registered.result.bundle_dir / MODEL_FILE)


def test_the_registry_cache_tells_registries_and_runs_apart(tmp_path):
    """Two stores that both have a v1 (a replaced store, another tracking URI) never share a cached copy."""
    from leadscore.pipeline.config import load_config

    config = load_config(workdir=str(tmp_path / "work"))
    other_store = load_config(workdir=str(tmp_path / "work"), tracking={"uri": f"sqlite:///{tmp_path / 'other.db'}"})
    v1 = SimpleNamespace(name="leadscore", version="1", run_id="a" * 32)
    v1_retrained = SimpleNamespace(name="leadscore", version="1", run_id="b" * 32)
    folders = {tracking._cache_folder(config, v1), tracking._cache_folder(other_store, v1),
               tracking._cache_folder(config, v1_retrained)}
    assert len(folders) == 3
    assert all(f.parent == Catalog.of(config).registry_cache for f in folders)
