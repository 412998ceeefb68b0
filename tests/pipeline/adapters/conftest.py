"""Share the vendor export fixtures (written from the vendors' documented export columns) and contract checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from leadscore.features.contract import TABLES

HERE = Path(__file__).parent
_DTYPES = {"string": ("string", "object"), "timestamp": ("datetime64[ns, UTC]",), "integer": ("Int64", "int64"),
           "float": ("float64",), "category": ("string", "object")}


@pytest.fixture
def export_copy(tmp_path):
    """Return a function copying a fixture export folder to a temporary folder a test may change."""
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(HERE / name, target)
        return target
    return copy


def assert_meets_contract_columns(frames: dict[str, pd.DataFrame]) -> None:
    """Assert every written column is a contract column of the declared type, and every required one is there.

    Lead columns other than lead_id and created_at are optional in the open contract, so they
    are checked only when written.
    """
    for table in TABLES:
        frame = frames[table.name]
        for column in frame.columns:
            declared = table.column(column)
            assert str(frame[column].dtype) in _DTYPES[declared.dtype], (table.name, column, frame[column].dtype)
            if not declared.nullable:
                assert frame[column].notna().all(), (table.name, column)
            if declared.allowed and column != "activity_type":  # any activity type is valid in the open vocabulary
                assert set(frame[column].dropna()) <= set(declared.allowed), (table.name, column)
        required = {"lead_id", "created_at"} if table.name == "leads" else {c.name for c in table.columns if c.required}
        assert required <= set(frame.columns), (table.name, required - set(frame.columns))
