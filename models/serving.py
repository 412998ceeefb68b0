"""Stage what a registered MLflow model holds: the bundle's model files, the code that reads them, pinned requirements.

A registered model is what a serving tool installs and loads, so it carries only that: the
bundle's `model.joblib` and `manifest.json` (never the test slice with its lead ids and labels),
the `leadscore.features` and `leadscore.models` code the pickled scorers import, and the
published libraries that code imports, pinned to the versions that trained it.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import pandas as pd

import leadscore.features
import leadscore.models
from leadscore.models.bundle import MANIFEST_FILE, MODEL_FILE

SERVING_FILE = Path(__file__).with_name("serving_model.py")
"""The models-from-code file MLflow runs to build the pyfunc model."""

SERVING_DISTRIBUTIONS = ("lightgbm", "scikit-learn", "scipy", "pandas", "numpy", "joblib", "pyarrow", "pyyaml", "pydantic",
                         "duckdb", "pytz", "mlflow")
"""The published distributions the served code imports (leadscore.features and .models, and the scorers they
unpickle); a test checks a fresh interpreter loading and predicting imports nothing else of leadscore's dependencies."""


def stage_bundle(bundle_dir: Path, target: Path) -> Path:
    """Copy only the files scoring reads from `bundle_dir` into `target` and return it."""
    target.mkdir(parents=True)
    for name in (MODEL_FILE, MANIFEST_FILE):
        shutil.copy2(bundle_dir / name, target / name)
    return target


def stage_code(target: Path) -> Path:
    """Copy the `leadscore.features` and `leadscore.models` packages into `target/leadscore` and return that folder.

    MLflow puts a code path's parent on `sys.path` before loading, so the copy imports as
    `leadscore.models` wherever the model is served, with or without leadscore installed.
    """
    root = target / "leadscore"
    for package in (leadscore.features, leadscore.models):
        source = Path(next(iter(package.__path__)))
        shutil.copytree(source, root / package.__name__.rsplit(".", 1)[1], ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def pip_requirements() -> list[str]:
    """Return the served code's requirements, each pinned to the installed version.

    >>> any(line.startswith("lightgbm==") for line in pip_requirements())
    True
    """
    return [f"{name}=={metadata.version(name)}" for name in SERVING_DISTRIBUTIONS]


def example_rows(frame: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Return about `n` rows of `frame` for the input example, every float column showing a fraction or a missing value.

    `pd.read_json` with its default type guessing turns a float column holding only whole
    numbers into integers, which MLflow refuses where the signature says double. Rows with a
    fraction or a missing value keep such columns float; for a column whose values are all
    whole (seconds on the website) one more row, a copy of the first with those columns
    missing, does the same, since both model families take missing values.

    >>> frame = pd.DataFrame({"days": [1.0, 2.0, 2.5, 4.0], "count": [1, 2, 3, 4], "seconds": [60.0, 120.0, 30.0, 0.0]})
    >>> example = example_rows(frame, n=2)
    >>> example["days"].tolist(), example["seconds"].isna().tolist()
    ([2.5, 1.0, 2.5], [False, False, True])
    """
    chosen: list = []
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    for column in floats:
        values = frame[column]
        if chosen and _keeps_float(values.loc[chosen]):
            continue
        readable = frame.index[values.isna() | (values % 1 != 0)]
        if len(readable):
            chosen.append(readable[0])
    rest = [i for i in frame.index[: n + len(chosen)] if i not in chosen]
    rows = frame.loc[chosen + rest[: max(n - len(chosen), 0)]].reset_index(drop=True)
    whole = [c for c in floats if len(rows) and not _keeps_float(rows[c])]
    if whole:
        rows = pd.concat([rows, rows.iloc[[0]].assign(**{c: float("nan") for c in whole})], ignore_index=True)
    return rows


def _keeps_float(values: pd.Series) -> bool:
    """Say whether JSON of `values` reads back as floats: a fraction or a missing value among them."""
    return bool((values.isna() | (values % 1 != 0)).any())