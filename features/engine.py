"""Open DuckDB connections with explicit resource limits.

DuckDB's default takes 80% of RAM and every core; a scheduled job sharing a machine must
not. With a `memory_limit` and a `temp_directory`, large joins spill to disk instead of
failing. Without a configured `temp_directory` spills go under the system's temporary folder:
DuckDB's own default (`.tmp` in the current directory) litters the folder a job is started
from, and a killed job leaves its spill files there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from leadscore.features.io import ensure_folder

from leadscore.features.settings import EngineSettings


def connect(config: EngineSettings | None = None, database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Return a DuckDB connection limited by `config` and set to UTC."""
    config = config or EngineSettings()
    con = duckdb.connect(database, read_only=read_only)
    con.execute(f"SET memory_limit = '{_checked_size(config.memory_limit)}'")
    con.execute(f"SET threads = {int(config.threads)}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    try:
        # tracked, never printed: `Crm.query_progress` reads it so the caller's own bar moves during a long query
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET enable_progress_bar = true")
    except duckdb.Error:  # inside Jupyter without ipywidgets DuckDB refuses to touch the setting at all
        pass
    spill = Path(config.temp_directory) if config.temp_directory else Path(tempfile.gettempdir()) / "leadscore-duckdb"
    ensure_folder(spill)
    con.execute("SET temp_directory = ?", [str(spill)])
    return con


def _checked_size(size: str) -> str:
    """Accept sizes like '4GB' or '512MB' only, so a config value cannot inject SQL."""
    import re

    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", size.strip()):
        raise ValueError(f"engine.memory_limit must look like '4GB', got {size!r}")
    return size.strip()
