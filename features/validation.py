"""Check the raw tables against the data contract and expose them with the contract's types.

The checks are generated from the one declaration in `features.contract` and run as SQL in
DuckDB, one aggregate pass per check over each table. pandera was considered, but its pandas
backend needs the whole table in memory, and an activity table can hold 100M rows.

Every failure is a BadInputError that names the file, the column, how many rows are bad and
the first few of them (data rows numbered from 1, as in a spreadsheet without its header).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from features.contract import LEADS, TABLES, Column, Table
from pipeline.errors import BadInputError

_SQL_TYPE = {"string": "VARCHAR", "category": "VARCHAR", "timestamp": "TIMESTAMPTZ", "integer": "BIGINT", "float": "DOUBLE"}
_NOUN = {"timestamp": "timestamps", "integer": "whole numbers", "float": "numbers"}
_FUTURE_TOLERANCE = pd.Timedelta(days=1)
_EXAMPLES = 5


def validate_and_type(con: duckdb.DuckDBPyConnection, origins: dict[str, str], now: pd.Timestamp,
                      copy_activities_up_to: int = 0) -> dict:
    """Validate raw_<table> relations and expose typed relations named after the tables; return a summary.

    `activities` is copied into DuckDB when it has at most `copy_activities_up_to` rows (after
    dropping duplicates), and otherwise stays a view over the source.
    """
    summary: dict = {}
    future: dict[str, list[str]] = {}
    for table in TABLES:
        raw_types = _raw_types(con, table, origins[table.name])
        rows, failures, future[table.name] = _scan_values(con, table, raw_types, now)
        if failures:
            _raise_with_rows(con, table, origins[table.name], *failures[0])
        _create_typed_view(con, table, raw_types)
        summary[f"{table.name}_rows"] = rows
    if summary["leads_rows"] == 0:
        raise BadInputError(f"{origins['leads']}: the leads table is empty; there is nothing to score")
    _check_keys(con, origins)
    _check_times(con, origins, now, future)
    summary["duplicate_activities_dropped"] = _create_final_views(con, summary["activities_rows"], copy_activities_up_to)
    return summary


def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def _raw_types(con, table: Table, origin: str) -> dict[str, str]:
    """Return the raw relation's columns and DuckDB types; raise if a required column is missing."""
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE raw_{table.name}").fetchall()
             if row[0] not in {"_row", "file_row_number"}}
    present = list(types)
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        hint = ""
        if len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|")):
            sep = next(s for s in (";", "\t", "|") if s in present[0])
            hint = f" The header looks {'tab' if sep == chr(9) else repr(sep)}-separated; leadscore reads comma-separated CSV (or .tsv)."
        raise BadInputError(f"{origin}: missing required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; found columns: {', '.join(present) or 'none'}.{hint}")
    return types


_NATIVE = {
    "timestamp": ("TIMESTAMP", "DATE"),
    "integer": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"),
    "float": ("FLOAT", "DOUBLE", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"),
}
"""Raw types that already hold a contract type (Parquet, DuckDB files): cast directly, not through text."""


def _is_native(column: Column, raw_type: str) -> bool:
    return any(raw_type.upper().startswith(prefix) for prefix in _NATIVE.get(column.dtype, ()))


def _column_expr(column: Column, raw_types: dict[str, str]) -> str:
    if column.name not in raw_types:
        return f"CAST(NULL AS {_SQL_TYPE[column.dtype]})"
    raw = f'"{column.name}"'
    if column.dtype in {"string", "category"}:
        return f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
    if _is_native(column, raw_types[column.name]):
        return f"CAST({raw} AS {_SQL_TYPE[column.dtype]})"
    return f"TRY_CAST(nullif(trim(CAST({raw} AS VARCHAR)), '') AS {_SQL_TYPE[column.dtype]})"


def _raw_text(column: Column) -> str:
    return f"""nullif(trim(CAST("{column.name}" AS VARCHAR)), '')"""


def _is_empty(column: Column, raw_types: dict[str, str]) -> str:
    if _is_native(column, raw_types[column.name]):
        return f'"{column.name}" IS NULL'
    return f"{_raw_text(column)} IS NULL"


def _value_checks(table: Table, raw_types: dict[str, str]) -> list[tuple[Column, str, str]]:
    """Return (column, SQL condition of a bad row, message) for every value check of `table`, in report order."""
    checks = []
    for column in table.columns:
        if column.name not in raw_types:
            continue
        typed = _column_expr(column, raw_types)
        empty = _is_empty(column, raw_types)
        if not column.nullable:
            checks.append((column, empty, "is empty in {n} row{s}, {where}; it is required"))
        if column.dtype in _NOUN and not _is_native(column, raw_types[column.name]):
            checks.append((column, f"NOT ({empty}) AND {typed} IS NULL",
                           f"has {{n}} value{{s}} that {{are}} not {_NOUN[column.dtype]}, {{where}}"))
        if column.dtype == "float":
            checks.append((column, f"isinf({typed}) OR isnan({typed})", "has {n} infinite or NaN values, {where}"))
        if column.allowed:
            allowed = "(" + ", ".join(f"'{v}'" for v in column.allowed) + ")"
            checks.append((column, f"{_raw_text(column)} IS NOT NULL AND lower({_raw_text(column)}) NOT IN {allowed}",
                           f"has {{n}} unknown value{{s}}, {{where}}; allowed: {', '.join(column.allowed)}"))
    return checks


def _scan_values(con, table: Table, raw_types: dict[str, str], now: pd.Timestamp):
    """Count rows, bad values of every check and future timestamps in one pass over the raw table.

    Return the row count, the failed checks (column, condition, count, message) in report
    order, and the time columns holding future timestamps.

    A 100M-row activity table is read once here, not once per check; only a check that found
    bad rows is queried again, for the first few rows to name.
    """
    checks = _value_checks(table, raw_types)
    limit = (now + _FUTURE_TOLERANCE).isoformat()
    times = [c for c in table.time_columns if c in raw_types]
    counts = [f"count_if({condition})" for _, condition, _ in checks]
    counts += [f"count_if({_column_expr(table.column(c), raw_types)} > CAST('{limit}' AS TIMESTAMPTZ))" for c in times]
    row = con.execute(f"SELECT count(*){''.join(', ' + c for c in counts)} FROM raw_{table.name}").fetchall()[0]
    failures = [(column, condition, n, message) for (column, condition, message), n in zip(checks, row[1:]) if n]
    future = [c for c, n in zip(times, row[1 + len(checks):]) if n]
    return int(row[0]), failures, future


def _raise_with_rows(con, table: Table, origin: str, column: Column, condition: str, count: int, message: str) -> None:
    rows = con.execute(f"SELECT _row, {_raw_text(column)} FROM raw_{table.name} WHERE {condition} "
                       f"ORDER BY _row LIMIT {_EXAMPLES}").fetchall()
    where = f"first at row{'s' if len(rows) > 1 else ''} {', '.join(str(r[0]) for r in rows)} (" + \
        ", ".join(repr(r[1]) if r[1] is not None else "empty" for r in rows) + ")"
    text = message.format(n=count, s="s" if count > 1 else "", are="are" if count > 1 else "is", where=where)
    raise BadInputError(f"{origin}: column '{column.name}' {text}")


def _create_typed_view(con, table: Table, raw_types: dict[str, str]) -> None:
    present = list(raw_types)
    select = []
    for column in table.columns:
        expr = _column_expr(column, raw_types)
        if column.allowed:
            expr = f"lower({expr})"
        select.append(f"{expr} AS {column.name}")
    if table is LEADS:
        declared = set(table.column_names)
        select += [f'"{c}"' for c in present if c not in declared]
    select.append("_row")
    con.execute(f"CREATE OR REPLACE VIEW typed_{table.name} AS SELECT {', '.join(select)} FROM raw_{table.name}")


def _report(con, origin: str, sql: str, what: str) -> None:
    rows = con.execute(sql + f" ORDER BY _row LIMIT {_EXAMPLES}").fetchall()
    if rows:
        total = _scalar(con, f"SELECT count(*) FROM ({sql})")
        shown = ", ".join(f"row {r[0]} ({r[1]})" for r in rows)
        raise BadInputError(f"{origin}: {total} row{'s' if total > 1 else ''} {what}: {shown}")


def _check_keys(con, origins: dict[str, str]) -> None:
    _report(con, origins["leads"], """
        SELECT _row, 'lead_id ' || lead_id FROM (
            SELECT _row, lead_id, count(*) OVER (PARTITION BY lead_id) AS n FROM typed_leads) WHERE n > 1""",
            "repeat a lead_id (column 'lead_id' must be unique)")
    _report(con, origins["opportunities"], """
        SELECT _row, 'opportunity_id ' || opportunity_id FROM (
            SELECT _row, opportunity_id, count(*) OVER (PARTITION BY opportunity_id) AS n FROM typed_opportunities) WHERE n > 1""",
            "repeat an opportunity_id (column 'opportunity_id' must be unique)")
    for name in ("activities", "opportunities"):
        _report(con, origins[name], f"""
            SELECT t._row, 'lead_id ' || t.lead_id FROM typed_{name} t
            WHERE NOT EXISTS (SELECT 1 FROM typed_leads l WHERE l.lead_id = t.lead_id)""",
                "name a lead that is not in the leads table (column 'lead_id')")


def _check_times(con, origins: dict[str, str], now: pd.Timestamp, future: dict[str, list[str]]) -> None:
    """Report future timestamps (counted in the value pass) and opportunities that close before they open."""
    limit = (now + _FUTURE_TOLERANCE).isoformat()
    for table in TABLES:
        for column in future[table.name]:
            _report(con, origins[table.name], f"""
                SELECT _row, '{column} ' || CAST({column} AS VARCHAR) FROM typed_{table.name}
                WHERE {column} > CAST('{limit}' AS TIMESTAMPTZ)""",
                    f"have a future timestamp in column '{column}' (later than {now:%Y-%m-%d %H:%M} UTC)")
    _report(con, origins["opportunities"], """
        SELECT _row, 'created ' || CAST(created_at AS VARCHAR) || ', closed ' || CAST(closed_at AS VARCHAR)
        FROM typed_opportunities WHERE closed_at < created_at""", "close before they were created (column 'closed_at')")
    _report(con, origins["opportunities"], """
        SELECT _row, 'outcome ' || outcome FROM typed_opportunities
        WHERE outcome IN ('won', 'lost') AND closed_at IS NULL""", "are won or lost but have no closed_at")


def _create_final_views(con, activity_rows: int, copy_activities_up_to: int) -> int:
    """Expose leads/activities/opportunities; drop exact duplicate activities and return how many.

    One pass groups the activity rows by a hash of the whole row: equal rows have equal
    hashes, so only rows whose hash repeats can be duplicates. Those few rows are made
    distinct exactly (a hash collision between different rows keeps both). `activities` is
    then copied into DuckDB, sorted by lead, if it has at most `copy_activities_up_to` rows
    (training scans it at every build); a larger one stays a view over the source files and is
    never copied. Leads and opportunities, small next to activities, are always copied.
    """
    lead_columns = [r[0] for r in con.execute("DESCRIBE typed_leads").fetchall() if r[0] != "_row"]
    # leads and opportunities are small next to activities and every build joins them: copy them once
    con.execute(f"CREATE OR REPLACE TABLE leads_copy AS SELECT {', '.join(chr(34) + c + chr(34) for c in lead_columns)} FROM typed_leads")
    con.execute("CREATE OR REPLACE VIEW leads AS SELECT * FROM leads_copy")
    con.execute("CREATE OR REPLACE TABLE opportunities_copy AS SELECT * EXCLUDE (_row) FROM typed_opportunities")
    con.execute("CREATE OR REPLACE VIEW opportunities AS SELECT * FROM opportunities_copy")
    columns = "lead_id, occurred_at, activity_type, channel, value, asset_id"
    con.execute(f"CREATE OR REPLACE TEMP TABLE repeated_activity_hashes AS SELECT hash({columns}) AS h, count(*) AS n "
                f"FROM typed_activities GROUP BY h HAVING count(*) > 1")
    repeated = int(_scalar(con, "SELECT coalesce(sum(n), 0) FROM repeated_activity_hashes"))
    dropped = 0
    if repeated == 0:
        con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT {columns} FROM typed_activities")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE repeated_activities_once AS SELECT DISTINCT {columns} FROM typed_activities "
                    f"WHERE hash({columns}) IN (SELECT h FROM repeated_activity_hashes)")
        con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT {columns} FROM typed_activities "
                    f"WHERE hash({columns}) NOT IN (SELECT h FROM repeated_activity_hashes) "
                    f"UNION ALL SELECT {columns} FROM repeated_activities_once")
        dropped = repeated - int(_scalar(con, "SELECT count(*) FROM repeated_activities_once"))
    if activity_rows - dropped <= copy_activities_up_to:
        # clustered by lead: every build joins activities to snapshots by lead and aggregates per
        # snapshot, which runs 1.6x faster on a lead-ordered table than on a time-ordered export
        con.execute("CREATE OR REPLACE TABLE activities_copy AS SELECT * FROM activities ORDER BY lead_id, occurred_at")
        con.execute("CREATE OR REPLACE VIEW activities AS SELECT * FROM activities_copy")
    return dropped
