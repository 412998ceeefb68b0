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


def validate_and_type(con: duckdb.DuckDBPyConnection, origins: dict[str, str], now: pd.Timestamp) -> dict:
    """Validate raw_<table> relations and create typed views named after the tables; return a summary."""
    summary: dict = {}
    for table in TABLES:
        columns = _check_columns(con, table, origins[table.name])
        _check_values(con, table, origins[table.name], columns)
        _create_typed_view(con, table, columns)
        summary[f"{table.name}_rows"] = _scalar(con, f"SELECT count(*) FROM typed_{table.name}")
    if summary["leads_rows"] == 0:
        raise BadInputError(f"{origins['leads']}: the leads table is empty; there is nothing to score")
    _check_keys(con, origins)
    _check_times(con, origins, now)
    summary["duplicate_activities_dropped"] = _create_final_views(con)
    return summary


def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def _columns_of(con, table: Table) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE raw_{table.name}").fetchall() if row[0] not in {"_row", "file_row_number"}]


def _check_columns(con, table: Table, origin: str) -> list[str]:
    present = _columns_of(con, table)
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        hint = ""
        if len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|")):
            sep = next(s for s in (";", "\t", "|") if s in present[0])
            hint = f" The header looks {'tab' if sep == chr(9) else repr(sep)}-separated; leadscore reads comma-separated CSV (or .tsv)."
        raise BadInputError(f"{origin}: missing required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; found columns: {', '.join(present) or 'none'}.{hint}")
    return present


def _column_expr(column: Column, present: list[str]) -> str:
    if column.name not in present:
        return f"CAST(NULL AS {_SQL_TYPE[column.dtype]})"
    raw = f'"{column.name}"'
    if column.dtype in {"string", "category"}:
        return f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
    if column.dtype == "timestamp":
        return f"TRY_CAST(nullif(trim(CAST({raw} AS VARCHAR)), '') AS TIMESTAMPTZ)"
    return f"TRY_CAST(nullif(trim(CAST({raw} AS VARCHAR)), '') AS {_SQL_TYPE[column.dtype]})"


def _raw_text(column: Column) -> str:
    return f"""nullif(trim(CAST("{column.name}" AS VARCHAR)), '')"""


def _first_rows(con, table: Table, condition: str, column: Column) -> tuple[int, str]:
    count = _scalar(con, f"SELECT count(*) FROM raw_{table.name} WHERE {condition}")
    if not count:
        return 0, ""
    rows = con.execute(f"SELECT _row, {_raw_text(column)} FROM raw_{table.name} WHERE {condition} ORDER BY _row LIMIT {_EXAMPLES}").fetchall()
    where = ", ".join(str(r[0]) for r in rows)
    values = ", ".join(repr(r[1]) if r[1] is not None else "empty" for r in rows)
    return count, f"first at row{'s' if len(rows) > 1 else ''} {where} ({values})"


def _check_values(con, table: Table, origin: str, present: list[str]) -> None:
    for column in table.columns:
        if column.name not in present:
            continue
        typed = _column_expr(column, present)
        text = _raw_text(column)
        if not column.nullable:
            n, where = _first_rows(con, table, f"{text} IS NULL", column)
            if n:
                raise BadInputError(f"{origin}: column '{column.name}' is empty in {n} row{'s' if n > 1 else ''}, {where}; it is required")
        if column.dtype in _NOUN:
            n, where = _first_rows(con, table, f"{text} IS NOT NULL AND {typed} IS NULL", column)
            if n:
                raise BadInputError(f"{origin}: column '{column.name}' has {n} value{'s' if n > 1 else ''} that "
                                    f"{'are' if n > 1 else 'is'} not {_NOUN[column.dtype]}, {where}")
            if column.dtype == "float":
                n, where = _first_rows(con, table, f"isinf({typed}) OR isnan({typed})", column)
                if n:
                    raise BadInputError(f"{origin}: column '{column.name}' has {n} infinite or NaN values, {where}")
        if column.allowed:
            allowed = "(" + ", ".join(f"'{v}'" for v in column.allowed) + ")"
            n, where = _first_rows(con, table, f"{text} IS NOT NULL AND lower({text}) NOT IN {allowed}", column)
            if n:
                raise BadInputError(f"{origin}: column '{column.name}' has {n} unknown value{'s' if n > 1 else ''}, {where}; "
                                    f"allowed: {', '.join(column.allowed)}")


def _create_typed_view(con, table: Table, present: list[str]) -> None:
    select = []
    for column in table.columns:
        expr = _column_expr(column, present)
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


def _check_times(con, origins: dict[str, str], now: pd.Timestamp) -> None:
    limit = (now + _FUTURE_TOLERANCE).isoformat()
    for table in TABLES:
        for column in table.time_columns:
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


def _create_final_views(con) -> int:
    """Expose leads/activities/opportunities; drop exact duplicate activities and return how many."""
    lead_columns = [r[0] for r in con.execute("DESCRIBE typed_leads").fetchall() if r[0] != "_row"]
    con.execute(f"CREATE OR REPLACE VIEW leads AS SELECT {', '.join(chr(34) + c + chr(34) for c in lead_columns)} FROM typed_leads")
    con.execute("CREATE OR REPLACE VIEW opportunities AS SELECT * EXCLUDE (_row) FROM typed_opportunities")
    columns = "lead_id, occurred_at, activity_type, channel, value, asset_id"
    total = _scalar(con, "SELECT count(*) FROM typed_activities")
    distinct = _scalar(con, f"SELECT count(*) FROM (SELECT DISTINCT {columns} FROM typed_activities)")
    if distinct == total:
        con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT {columns} FROM typed_activities")
    else:
        con.execute(f"CREATE OR REPLACE TABLE activities AS SELECT DISTINCT {columns} FROM typed_activities")
    return int(total - distinct)
