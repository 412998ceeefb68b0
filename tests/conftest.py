"""Shared fixtures: one synthetic CRM for the whole session, built once (STYLE.md rule 8)."""

from __future__ import annotations

import pytest

from features.synthetic import generate_crm, write_crm


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
