"""Find and read a CRM's three tables from a folder (CSV or Parquet) or a DuckDB file.

Files are read by DuckDB, not pandas: Parquet is scanned lazily through views (a 100M-row
activity table is streamed, never copied into Python), CSV is read as text first so that
validation can name the row of every value that fails to parse. A table split in parts also
records each row's file, so that an error names the part and the row within it. `load_crm`
returns a `Crm` only after `features.validation` has passed every table.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import duckdb
import pandas as pd

from leadscore.features.contract import OPTIONAL_TABLES, TABLES, Table
from leadscore.features.crm import Crm, latest_timestamp
from leadscore.features.engine import connect
from leadscore.features.errors import BadInputError
from leadscore.features.settings import EngineSettings
from leadscore.features.validated_parts import PartsStore
from leadscore.features.validation import ActivityParts, validate_and_type, validate_optional_table

_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_FILE_OPTION = ", filename = '_file'"
"""Read option of a table in several parts: each row's file in a column `_file` (named, so that a data
column called `filename`, which `filename = true` would collide with, is read as any other)."""
_FORMATS = {".parquet": "Parquet", ".tsv": "TSV"}
"""Format of a part by suffix; every other suffix is CSV (read with the first part's delimiter)."""


def find_table_files(folder: Path, name: str) -> list[Path]:
    """Return the files holding table `name` in `folder` (one file, or a folder/prefix of parts).

    Two candidates (`leads.csv` beside `leads.parquet`, or a file beside a folder of parts) are
    an error, not a choice: an old export left next to a new one would be read without a word.
    """
    singles = [folder / f"{name}{suffix}" for suffix in _SUFFIXES if (folder / f"{name}{suffix}").exists()]
    # parts may sit in partition folders (activities/date=2026-07-01/part.parquet): any depth, in path order
    in_folder = sorted(p for p in (folder / name).rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES)
                       and not any(q.startswith(".") for q in p.relative_to(folder / name).parts)) if (folder / name).is_dir() else []
    prefixed = sorted(p for p in folder.glob(f"{name}-*") if p.name.endswith(_SUFFIXES))
    candidates = [([p], str(p)) for p in singles]
    candidates += [(group, where) for group, where in ((in_folder, f"{folder / name}/"), (prefixed, f"{folder / name}-*")) if group]
    if len(candidates) > 1:
        shown = ", ".join(str(g[0]) if len(g) == 1 else f"{where} ({len(g)} parts)" for g, where in candidates)
        raise BadInputError(f"{folder}: table '{name}' is in more than one place: {shown}; keep one")
    parts = candidates[0][0] if candidates else []
    kinds = [k for k in ("Parquet", "CSV", "TSV") if k in {_format(p) for p in parts}]
    if len(kinds) > 1:
        raise BadInputError(f"{folder}: the parts of table '{name}' mix {', '.join(kinds[:-1])} and {kinds[-1]} files "
                            f"({parts[0]}, ...); write them in one format")
    return parts


def _format(path: Path) -> str:
    return next((kind for suffix, kind in _FORMATS.items() if path.name.endswith(suffix)), "CSV")


def load_crm(source: str | Path, engine: EngineSettings | None = None, now: pd.Timestamp | None = None) -> Crm:
    """Read, validate and type a CRM; raise BadInputError naming file, column and rows on bad input."""
    source = Path(source)
    if not source.exists():
        raise BadInputError(f"{source}: no such folder or DuckDB file")
    engine = engine or EngineSettings()
    con = connect(engine)
    with unreadable_files_named(source, engine):
        parts = None
        if source.is_file():
            origins = _attach_duckdb(con, source)
        else:
            parts = _activity_parts(con, source, engine)
            origins = {table.name: _register_folder_table(con, source, table, registered=parts is not None and table.name == "activities")
                       for table in TABLES}
            origins |= {table.name: _register_folder_table(con, source, table) for table in OPTIONAL_TABLES
                        if find_table_files(source, table.name)}
        now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
        now = now.tz_localize("UTC") if now.tzinfo is None else now
        summary = validate_and_type(con, origins, now, engine.copy_activities_up_to, parts)
        for table in OPTIONAL_TABLES:
            if table.name in origins:
                summary[f"{table.name}_rows"] = validate_optional_table(con, table, origins[table.name], now)
                summary[f"{table.name}_file"] = origins[table.name]
        return Crm(con=con, source=str(source), data_end=latest_timestamp(con), summary=summary)


@contextlib.contextmanager
def unreadable_files_named(source: Path, engine: EngineSettings):
    """Turn DuckDB's read and memory failures while loading `source` into bad input naming the file or the setting.

    A corrupt Parquet page or a truncated file surfaces only when DuckDB first reads it, deep
    inside validation; the user needs the file's name and what to do, not DuckDB's stack.
    """
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise BadInputError(f"{source}: loading needs more memory than engine.memory_limit ({engine.memory_limit}) allows "
                            f"({str(exc).splitlines()[0][:160]}); raise engine.memory_limit, or set engine.temp_directory "
                            "to a disk with room to spill") from None
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        first = str(exc).splitlines()[0]
        named = re.search(r'file "([^"]+)"', first)
        raise BadInputError(f"{named.group(1) if named else source}: cannot be read ({first[:240]}); "
                            "the file is damaged or not what its name says: export it again") from None


def _activity_parts(con: duckdb.DuckDBPyConnection, folder: Path, engine: EngineSettings) -> ActivityParts | None:
    """Return the activity parts to validate one by one against the store, if there is a store and they are Parquet."""
    if engine.validated_store is None or not engine.reuse_validated_parts:
        return None
    files = find_table_files(folder, "activities")
    if not files or not files[0].name.endswith(".parquet"):
        return None  # CSV is read whole as text so validation can name rows; its parts are not kept
    return ActivityParts(files, lambda part: _register_parquet(con, "activities", [part]), PartsStore(engine.validated_store))


def _register_folder_table(con: duckdb.DuckDBPyConnection, folder: Path, table: Table, registered: bool = False) -> str:
    """Expose the table's files as raw_<table> with a `_row` number, and `_file` when it has several parts.

    With `registered`, the parts are exposed one at a time by validation (`ActivityParts`): only the label is returned.
    """
    files = find_table_files(folder, table.name)
    if not files:
        raise BadInputError(f"{folder}: no {table.name} file (expected {table.name}.parquet, {table.name}.csv or a "
                            f"{table.name}/ folder of parts)")
    label = str(files[0]) if len(files) == 1 else f"{folder / table.name} ({len(files)} parts)"
    if registered:
        return label
    try:
        if files[0].name.endswith(".parquet"):
            _register_parquet(con, table.name, files)
        else:
            _register_csv(con, table.name, files)
    except duckdb.Error as exc:
        raise BadInputError(f"{label}: cannot be read as a {table.name} table: {str(exc).splitlines()[0]}") from None
    return label


def _listing(files: list[Path]) -> str:
    return "[" + ", ".join(_sql_text(f) for f in files) + "]"


def _sql_text(path: Path) -> str:
    """Return `path` as a SQL string literal (quotes doubled), so a file name with `'` reads that file.

    >>> _sql_text(Path("/crm/o'brien.duckdb"))
    "'/crm/o''brien.duckdb'"
    """
    return "'" + str(path).replace("'", "''") + "'"


def _register_parquet(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    """Create the view raw_<name> over Parquet files; `_row` restarts at 1 in every file.

    A table in several parts also gets `_file`, the part each row came from, because a row
    number alone cannot say which part it is in. A single file keeps the plain view.
    """
    split = len(files) > 1
    con.execute(f"CREATE OR REPLACE VIEW raw_{name} AS SELECT *, file_row_number + 1 AS _row "
                f"FROM read_parquet({_listing(files)}, file_row_number = true{_FILE_OPTION if split else ''})")


def _register_csv(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    """Read CSV files as text into raw_<name>_text and expose it as raw_<name>, data rows numbered from 1.

    The rows keep the files' order, so `_row` counts across all parts (DuckDB's CSV reader has
    no per-file row number); a table in several parts also gets `_file`, and validation counts
    a row's place within its part from that part's first `_row`, only when it names a row.
    """
    delim = "\t" if files[0].name.endswith(".tsv") else ","
    for f in files:
        _check_text(f)
        _check_header(f, delim)
    split = len(files) > 1
    # the table stays in memory for the whole run: each row keeps its part as a 1-2 byte ENUM code, not the path
    columns = f"* EXCLUDE (_file), CAST(_file AS ENUM({_listing(files)[1:-1]})) AS _file" if split else "*"
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"CREATE OR REPLACE TABLE raw_{name}_text AS SELECT {columns} FROM read_csv({_listing(files)}, all_varchar = true, "
                f"header = true, delim = '{delim}', quote = '\"', escape = '\"', null_padding = true, strict_mode = false"
                f"{_FILE_OPTION if split else ''})")
    con.execute("SET preserve_insertion_order = false")
    columns = "* EXCLUDE (_file), CAST(_file AS VARCHAR) AS _file" if split else "*"
    con.execute(f"CREATE OR REPLACE VIEW raw_{name} AS SELECT {columns}, rowid + 1 AS _row FROM raw_{name}_text")


def _check_header(path: Path, delim: str) -> None:
    """Reject a CSV whose header names a column twice: a reader would rename one and the data would go to the wrong name."""
    import csv
    import gzip
    from collections import Counter

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle, delimiter=delim), [])
    repeated = sorted(name for name, count in Counter(c.strip() for c in header).items() if count > 1)
    if repeated:
        raise BadInputError(f"{path}: the header names {', '.join(repr(c) for c in repeated)} more than once; "
                            "each column must have one name (rename or drop the copies)")


def _check_text(path: Path) -> None:
    """Reject files that are not UTF-8 text, naming the first bad line (a BOM is fine)."""
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadInputError(
                    f"{path}: line {number} is not UTF-8 text (byte {line[exc.start:exc.start + 1]!r} at position {exc.start}); "
                    "save the export as UTF-8 (for example with iconv -f latin1 -t utf-8)") from None


def _attach_duckdb(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    try:
        con.execute(f"ATTACH {_sql_text(path)} AS crm_source (READ_ONLY)")
    except duckdb.Error as exc:
        raise BadInputError(f"{path}: not a readable DuckDB database: {str(exc).splitlines()[0]}") from None
    present = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'crm_source'").fetchall()}
    origins = {}
    for table in TABLES:
        if table.name not in present:
            raise BadInputError(f"{path}: no table {table.name} in the database (found: {', '.join(sorted(present)) or 'none'})")
        con.execute(f"CREATE OR REPLACE VIEW raw_{table.name} AS SELECT *, row_number() OVER () AS _row FROM crm_source.{table.name}")
        origins[table.name] = f"{path}:{table.name}"
    for table in OPTIONAL_TABLES:
        if table.name in present:
            con.execute(f"CREATE OR REPLACE VIEW raw_{table.name} AS SELECT *, row_number() OVER () AS _row FROM crm_source.{table.name}")
            origins[table.name] = f"{path}:{table.name}"
    return origins
