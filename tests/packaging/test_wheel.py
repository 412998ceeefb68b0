"""What ships: the wheel installs one import package, `leadscore`, that a user's own packages cannot shadow."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.quick_training import QUICK_TRAINING

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("leadscore-*.whl"))


def test_the_wheel_installs_exactly_one_top_level_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith((".dist-info", ".data"))}
        names = archive.namelist()
    assert tops == {"leadscore"}
    assert "leadscore/pipeline/conf/default.yaml" in names and "leadscore/models/conf/points.yaml" in names
    assert "leadscore/pipeline/templates/report.html.j2" in names


@pytest.mark.slow
def test_the_demo_runs_from_the_wheel_beside_a_users_own_models_features_and_pipeline(wheel, tmp_path):
    """A fresh venv (the test's own libraries, no editable leadscore) in a folder holding packages named
    like leadscore's layers: the demo and the registered MLflow model must still import leadscore's own."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the libraries come from this interpreter's site-packages; a .pth line adds the folder without
    # running its .pth files, so the editable leadscore installed there stays out of the fresh venv
    libraries = [entry for entry in sys.path if entry.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    (site / "libraries.pth").write_text("\n".join(libraries) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI: the demo must use its own store, not the one
    # another test's training left in this process's environment
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    project = tmp_path / "user_project"
    for package in ("models", "features", "pipeline"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text("raise ImportError('the user package, not leadscore')\n")
    where = subprocess.run([python, "-c", "import leadscore.pipeline.cli as m; print(m.__file__)"], cwd=project,
                           check=True, capture_output=True, text=True, env=env).stdout
    assert str(site) in where
    (project / "quick.yaml").write_text(yaml.safe_dump(QUICK_TRAINING), encoding="utf-8")  # the test is of imports, not of the model
    run = subprocess.run([env_dir / "bin" / "python", "-m", "leadscore.pipeline.cli", "demo", "--leads", "2000", "--seed", "3",
                          "--workdir", "work", "--config", "quick.yaml"], cwd=project, capture_output=True, text=True, timeout=600,
                         env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "5/6 scored" in run.stdout and "6/6 monitored" in run.stdout
    served = subprocess.run(
        [python, "-c", "import mlflow, pandas as pd; mlflow.set_tracking_uri('sqlite:///work/mlflow.db'); "
         "m = mlflow.pyfunc.load_model('models:/leadscore@champion'); print(type(m.unwrap_python_model()).__module__)"],
        cwd=project, capture_output=True, text=True, timeout=300, env=env)
    assert served.returncode == 0, served.stderr[-2000:]
    assert served.stdout.strip().endswith("leadscore.models.pyfunc")
