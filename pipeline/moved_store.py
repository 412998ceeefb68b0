"""Keep a copied or moved working folder's MLflow store pointing at its own artefacts.

MLflow records artefact locations as absolute URIs, so a working folder copied elsewhere
would keep writing artefacts into the original, and a moved one would point at a folder that
is gone. Before the local store is opened, locations under another folder's `mlartifacts`
are rewritten to this folder's, in one SQLite transaction, and the caller says so.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

LOCATION_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
                    ("logged_models", "artifact_location"), ("model_versions", "storage_location"),
                    ("model_versions", "source"))
"""The columns of MLflow's SQLite schema that hold artefact URIs."""


def follow_moved_store(db: Path, artifacts: Path) -> str | None:
    """Rewrite artefact URIs in the store `db` that point at another folder's `mlartifacts`; return that old root.

    Returns None when the store is new, already points here, or holds no leadscore experiment.
    """
    if not db.exists():
        return None
    here = artifacts.resolve().as_uri()
    con = sqlite3.connect(db)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "experiments" not in tables:
            return None
        found = [row[0] for row in con.execute(
            "SELECT artifact_location FROM experiments WHERE artifact_location LIKE 'file://%/mlartifacts'")]
        old = next((location for location in found if location != here), None)
        if old is None:
            return None
        with con:
            for table, column in LOCATION_COLUMNS:
                columns = {row[1] for row in con.execute(f"PRAGMA table_info({table})")} if table in tables else set()
                if column in columns:
                    con.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) WHERE substr({column}, 1, ?) = ?",
                                (here, len(old) + 1, len(old), old))
        return old
    finally:
        con.close()
