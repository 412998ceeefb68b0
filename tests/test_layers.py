"""Layers point one way: `features` imports nothing of `models` or `pipeline`, `models` nothing of `pipeline`."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import leadscore.features
import leadscore.models

OPTIONAL = {"leadscore.features.spark"}  # imports pyspark only when a session is asked for; checked like the rest


def _modules(package) -> list[str]:
    return [package.__name__] + [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _imported_after(code: str) -> list[str]:
    """Return the leadscore, mlflow and typer modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('leadscore', 'mlflow', 'typer'))))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(("package", "forbidden"), [
    (leadscore.features, ("leadscore.models", "leadscore.pipeline", "mlflow", "typer")),
    (leadscore.models, ("leadscore.pipeline", "typer")),
])
def test_a_layer_and_every_module_under_it_import_nothing_of_the_layers_above(package, forbidden):
    imports = "\n".join(f"import {name}" for name in _modules(package))
    above = [m for m in _imported_after(imports) if m.startswith(forbidden)]
    assert above == [], f"importing {package.__name__} pulled in {above}"


def test_a_feature_frame_is_built_from_leadscore_features_alone():
    code = """
import pandas as pd
from leadscore.features.builder import build_features
from leadscore.features.crm import crm_from_frames
from leadscore.features.synthetic import generate_crm
from leadscore.features.snapshots import scoring_snapshots
crm_data = generate_crm(200, seed=3, months=6)
crm = crm_from_frames(crm_data.leads, crm_data.activities, crm_data.opportunities)
frame = build_features(crm, scoring_snapshots(crm, crm.data_end))
assert len(frame) > 0 and "unopened_email_streak" in frame.columns, frame.shape
"""
    imported = _imported_after(code)
    assert "leadscore.features.builder" in imported
    assert [m for m in imported if m != "leadscore" and not m.startswith("leadscore.features")] == []  # no mlflow, CLI or config
