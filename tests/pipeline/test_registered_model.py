"""The registered MLflow model: only what scoring needs, pinned requirements that install, an example that round-trips."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.models import serving
from leadscore.pipeline import tracking

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registered(trained, tmp_path_factory) -> tuple:
    config, _, result = trained
    mlflow = tracking._mlflow(config)
    folder = tmp_path_factory.mktemp("registered")
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{config.tracking.model_name}/{result.model_version}",
                                        dst_path=str(folder))
    return config, result, folder


def test_the_registered_model_holds_the_bundle_and_code_but_no_test_slice_or_lead_ids(registered):
    _, result, folder = registered
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"artifacts/bundle/model.joblib", "artifacts/bundle/manifest.json"} <= files
    assert not [f for f in files if f.endswith(".parquet")]
    assert "code/leadscore/models/bundle.py" in files and "code/leadscore/features/io.py" in files
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    bundle_size = sum((result.bundle_dir / name).stat().st_size for name in ("model.joblib", "manifest.json"))
    assert size < bundle_size + 1_000_000  # the model files, the code and MLflow's metadata: nothing else


def test_the_requirements_pin_lightgbm_and_nothing_unpublished_or_stray(registered):
    *_, folder = registered
    lines = [line for line in (folder / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    names = {line.split("==")[0] for line in lines}
    assert "lightgbm" in names and "scikit-learn" in names
    assert "leadscore" not in names and "psutil" not in names
    assert names <= set(serving.SERVING_DISTRIBUTIONS)


def test_the_served_code_imports_only_the_pinned_distributions(registered):
    """Every leadscore dependency the logged code imports is pinned (what the libraries themselves import is theirs to declare)."""
    import ast
    from importlib import metadata

    *_, folder = registered
    imported = set()
    for path in (folder / "code" / "leadscore").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    by_module = metadata.packages_distributions()
    used = {dist.lower() for module in imported for dist in by_module.get(module, [])}
    declared = {r.split(">")[0].split("=")[0].split("<")[0].split(";")[0].strip().lower()
                for r in metadata.requires("leadscore") if "extra ==" not in r}
    assert "lightgbm" in used
    assert (used & declared) <= {d.lower() for d in serving.SERVING_DISTRIBUTIONS}


def test_the_registered_model_loads_and_predicts_in_a_fresh_interpreter(registered):
    *_, folder = registered
    script = ("import mlflow, pandas as pd\n"
              f"m = mlflow.pyfunc.load_model({str(folder)!r})\n"
              f"x = pd.read_json({str(folder / 'input_example.json')!r}, orient='split')\n"
              "print(len(m.predict(x)))\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=300, cwd=folder)
    assert int(out.stdout.splitlines()[-1]) > 0


def test_the_input_example_round_trips_through_read_json_and_predict(registered):
    config, result, folder = registered
    example = pd.read_json(folder / "input_example.json", orient="split")  # with read_json's own type guessing
    model = tracking._mlflow(config).pyfunc.load_model(str(folder))
    served = model.predict(example)["probability"].to_numpy()
    assert len(served) == len(example) > 0 and np.all((served >= 0) & (served <= 1))
    # the bundle itself on the rows as read back: a value or type the JSON changed would move a prediction
    np.testing.assert_allclose(served, result.bundle.calibrated.predict_proba(example[result.bundle.feature_names])[:, 1], rtol=1e-6)


def test_the_training_run_logs_its_datasets_windows_feature_settings_split_and_targets(registered):
    config, result, _ = registered
    run = tracking.client(config).get_run(result.run_id)
    contexts = {tag.value for d in run.inputs.dataset_inputs for tag in d.tags if tag.key == "mlflow.data.context"}
    assert {"training", "test"} <= contexts
    params = run.data.params
    for key in ("data_first_as_of", "data_test_start", "split_test_first", "target_min_conversion_rate", "gap_days"):
        assert params.get(key) not in (None, "None", ""), key
    assert any(k.startswith("features_") for k in params)
    slice_files = [a.path for a in tracking.client(config).list_artifacts(result.run_id, tracking.TEST_SLICE_FOLDER)]
    assert slice_files and "lead_id" not in pd.read_parquet(tracking.download_test_slice(config, result.model_version)).columns


def test_logging_a_model_gives_no_cloudpickle_warning(trained, tmp_path, caplog):
    """The registered model is a models-from-code file naming the pyfunc class: nothing is cloudpickled."""
    import logging

    from leadscore.pipeline.config import load_config

    config, _, result = trained
    own = load_config(workdir=str(tmp_path))
    sample = pd.read_parquet(Path(result.bundle_dir) / "test_slice.parquet", columns=result.bundle.feature_names).head(5)
    with caplog.at_level(logging.WARNING, logger="mlflow"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tracking.log_training_run(own, result.bundle_dir, {}, {}, [], sample, tags={}, bundle=result.bundle)
    said = caplog.text + " ".join(str(w.message) for w in caught)
    assert "CloudPickle" not in said and "cloudpickle" not in said
