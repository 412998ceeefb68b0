"""The catalog names every artefact path of the working folder; no other module builds one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pandas as pd

import leadscore.pipeline
from leadscore.pipeline.catalog import Catalog, engine_settings
from leadscore.pipeline.config import load_config


def test_every_artefact_lies_inside_the_working_folder(tmp_path):
    catalog = Catalog.of(load_config(workdir=str(tmp_path)))
    now = pd.Timestamp("2026-07-01 12:34:56.789", tz="UTC")
    paths = [catalog.model_store, catalog.new_bundle_dir(now), catalog.report_dir("flat"), catalog.scores_file(now),
             catalog.spark_scores_dir, catalog.registry_cache, catalog.tmp, catalog.mlflow_db, catalog.mlflow_artifacts,
             catalog.demo_data]
    assert all(tmp_path in p.parents for p in paths)
    assert len(set(paths)) == len(paths)
    assert catalog.new_bundle_dir(now).parent == catalog.model_store
    assert catalog.new_bundle_dir(now).name == "20260701T123456789000"
    assert catalog.report_dir("evaluate-leadscore-vlocal:x").name == "evaluate-leadscore-vlocal-x"


def test_the_local_tracking_store_and_the_spill_folder_come_from_the_catalog(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = load_config(workdir=str(tmp_path))
    catalog = Catalog.of(config)
    assert catalog.local_tracking_uri() == f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}"
    assert engine_settings(config).temp_directory == str(catalog.tmp)
    assert engine_settings(load_config(workdir=str(tmp_path), engine={"temp_directory": "/spill"})).temp_directory == "/spill"


def test_no_other_pipeline_module_builds_a_working_folder_path():
    offenders = []
    for info in pkgutil.walk_packages(leadscore.pipeline.__path__, "leadscore.pipeline."):
        if info.name in {"leadscore.pipeline.catalog", "leadscore.pipeline.config"}:
            continue
        source = inspect.getsource(importlib.import_module(info.name))
        if "workdir_path /" in source or "Path(config.workdir)" in source or "Path(cfg.workdir)" in source:
            offenders.append(info.name)
    assert offenders == []
    assert Path(inspect.getfile(Catalog)).name == "catalog.py"
