"""Shared fixtures: one synthetic CRM for the whole session, built once (STYLE.md rule 8)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The repository root holds the folders `features/`, `models/` and `pipeline/`. On sys.path (where
# `python -m pytest` puts the current folder) they would import as top-level packages that no
# installed leadscore has; the tests see only the installed `leadscore` namespace.
_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _ROOT]

from leadscore.features.synthetic import generate_crm, write_crm


def pytest_collection_modifyitems(items):
    """Mark every test that needs the trained model `slow`: the fast lane (`make test-fast`) trains nothing."""
    for item in items:
        if "trained" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def synthetic():
    """A small synthetic CRM (3,000 leads over 24 months), in memory."""
    return generate_crm(3000, seed=7, months=24)


@pytest.fixture(scope="session")
def synthetic_dir(synthetic, tmp_path_factory):
    """The same CRM written as Parquet files to a folder."""
    folder = tmp_path_factory.mktemp("crm")
    write_crm(synthetic, folder)
    return folder


@pytest.fixture(scope="session")
def trained_crm():
    """A synthetic CRM with 30 months of history: enough wins in every time slice to train."""
    return generate_crm(5000, seed=21, months=30)


@pytest.fixture(scope="session")
def trained(trained_crm, tmp_path_factory):
    """One trained, registered and promoted model in its own working folder: (config, crm, result).

    Tests read it and never write into its working folder or registry (no training, promotion,
    alias change or scoring run there): a test that needs to write makes a working folder of its
    own, so every test passes alone and in any order.
    """
    from leadscore.features.crm import crm_from_frames
    from leadscore.features.synthetic import SETTINGS
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import train

    workdir = tmp_path_factory.mktemp("work")
    config = with_settings(load_config(workdir=str(workdir)), SETTINGS)  # as the demo: the CRM's competitors named
    crm = crm_from_frames(trained_crm.leads, trained_crm.activities, trained_crm.opportunities)
    result = train(None, config, promote=True, crm=crm)
    return config, crm, result
