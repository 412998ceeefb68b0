"""Check the raw tables against the data contract and expose them with the contract's types.

The checks are generated from the one declaration in `features.contract` and run as SQL in
DuckDB, one aggregate pass per check over each table. pandera was considered, but its pandas
backend needs the whole table in memory, and an activity table can hold 100M rows.

Every failure is a BadInputError that names the file, the column, how many rows are bad and
the first few of them (data rows numbered from 1, as in a spreadsheet without its header). In a
table split in parts each row is named with its part and its row within that part.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from leadscore.features.contract import ACTIVITIES, ACTIVITY_TYPES, LEADS, TABLES, Column, Table
from leadscore.features.declarations import quoted
from leadscore.features.errors import BadInputError
from leadscore.features.layout import create_keyed_copy
from leadscore.features.validated_parts import PartsOutcome, PartsStore, checks_digest, sql_literal

_SQL_TYPE = {"string": "VARCHAR", "category": "VARCHAR", "timestamp": "TIMESTAMPTZ", "integer": "BIGINT", "float": "DOUBLE"}
_NOUN = {"timestamp": ("a timestamp", "timestamps"), "integer": ("a whole number", "whole numbers"),
         "float": ("a number", "numbers")}
_FUTURE_TOLERANCE = pd.Timedelta(days=1)
_EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
"""The oldest timestamp accepted. No CRM holds a lead, a web visit or an email older than this, so
an earlier one is a typo (0024 for 2024) or a placeholder for "unknown" (0001-01-01, 1899-12-30,
1900-01-01, or 1970-01-01, the Unix epoch, which a bound at 1970 would let through). Accepted, one
such date moves the first training snapshot back by decades and training fails far from the row."""
_EXAMPLES = 5
_SHOWN_VALUES = 20


def validate_and_type(con: duckdb.DuckDBPyConnection, origins: dict[str, str], now: pd.Timestamp,
                      copy_activities_up_to: int = 0, activity_parts: ActivityParts | None = None) -> dict:
    """Validate raw_<table> relations and expose typed relations named after the tables; return a summary.

    The summary counts rows per table, names the leads and activities files (`leads_file`,
    `activities_file`, for messages about their columns) and the columns outside the contract that are not read (`ignored_columns`; the
    leads table keeps its extra columns as attributes), and counts the rows of every distinct
    activity type (`activity_types`) and of each of its channels (`activity_channels`, 'none'
    where the data gives no channel), counted in the value pass, before exact duplicates are
    dropped. A lead column the contract declares but the file lacks is left out of `leads`, not
    filled with NULLs (`contract.OPTIONAL_LEAD_COLUMNS`).

    `activities` is copied into DuckDB when it has at most `copy_activities_up_to` rows (after
    dropping duplicates), and otherwise stays a view over the source. With `activity_parts`, the
    activities are checked part by part and only the parts its store has not validated are read
    (`features.validated_parts`); `validated_parts` in the summary says what was reused.
    """
    summary: dict = {"leads_file": origins["leads"], "activities_file": origins["activities"]}
    out_of_range: dict[str, list[str]] = {}
    activity_kinds: list[tuple] = []
    for table in TABLES:
        if table is ACTIVITIES and activity_parts is not None:
            rows, kinds, summary["validated_parts"], ignored = _validate_activity_parts(con, activity_parts, now)
            activity_kinds += kinds
            summary["activities_rows"], out_of_range["activities"] = rows, []
            summary.setdefault("ignored_columns", {})["activities"] = ignored
            continue
        raw_types = _raw_types(con, table, origins[table.name])
        rows, failures, out_of_range[table.name], kinds = _scan_values(con, table, raw_types, now)
        activity_kinds += kinds
        if failures:
            _raise_with_rows(con, table, origins[table.name], *failures[0])
        _create_typed_view(con, table, raw_types)
        summary[f"{table.name}_rows"] = rows
        if not table.extra_columns_allowed:
            declared = set(table.column_names)
            summary.setdefault("ignored_columns", {})[table.name] = [c for c in raw_types if c not in declared]
    if summary["leads_rows"] == 0:
        raise BadInputError(f"{origins['leads']}: the leads table is empty; there is nothing to score")
    _check_keys(con, origins)
    _check_times(con, origins, now, out_of_range)
    summary["duplicate_activities_dropped"] = _create_final_views(con, summary["activities_rows"], copy_activities_up_to,
                                                                  [(t, c) for t, c, _ in activity_kinds])
    summary["activity_types"] = {}
    summary["activity_channels"] = {}
    for activity_type, channel, n in activity_kinds:
        summary["activity_types"][activity_type] = summary["activity_types"].get(activity_type, 0) + n
        summary["activity_channels"].setdefault(activity_type, {})[channel or "none"] = n
    return summary


@dataclass(frozen=True)
class ActivityParts:
    """The activity table's Parquet parts, how to expose one as raw_activities, and the store of those validated."""

    parts: list[Path]
    register: Callable[[Path], None]
    store: PartsStore


_STORED_COLUMNS = "lead_id, occurred_at, activity_type, channel, value, asset_id"
"""The activity columns a typed copy holds, in the order the exact-duplicate hash reads them."""


def _validate_activity_parts(con, parts: ActivityParts, now: pd.Timestamp) -> tuple[int, list[tuple], PartsOutcome, list[str]]:
    """Check the parts the store cannot vouch for, one at a time, and expose all parts' typed copies.

    Return the row count, the vocabulary counts (type, channel, rows), what was reused and
    validated, and the columns outside the contract. `raw_activities` and `typed_activities`
    end as views over the copies (with `_file`, the part, when there are several, and `_row`,
    the row in its part), so a later check names rows as a full load does.
    """
    limit = now + _FUTURE_TOLERANCE
    outcome, kinds, rows, ignored = PartsOutcome(), Counter(), 0, []
    try:
        for part in parts.parts:
            parts.register(part)
            raw_types = _raw_types(con, ACTIVITIES, str(part))
            select = _typed_select(con, ACTIVITIES, raw_types)
            digest = checks_digest(select, repr([c for _, c, _ in _value_checks(ACTIVITIES, raw_types)]), _EARLIEST.isoformat(),
                                   _STORED_COLUMNS)
            entry, changed = parts.store.reusable(part, digest, now, limit)
            if entry is None:
                entry = _validate_part(con, part, raw_types, now, parts.store, digest)
                outcome.validated.append(str(part))
                if changed:
                    outcome.changed.append(str(part))
            else:
                outcome.reused.append(str(part))
            rows += entry["rows"]
            kinds.update({(t, c): n for t, c, n in entry["kinds"]})
            ignored += [c for c in raw_types if c not in set(ACTIVITIES.column_names) and c not in ignored]
    finally:
        outcome.forgotten = parts.store.save(parts.parts)
    copies = ", ".join(sql_literal(p) for p in parts.store.copy_paths(parts.parts))
    one_part = " REPLACE (CAST(NULL AS VARCHAR) AS _file)" if len(parts.parts) == 1 else ""  # named as a single file is
    con.execute(f"CREATE OR REPLACE VIEW raw_activities AS SELECT *{one_part} FROM read_parquet([{copies}])")
    con.execute("CREATE OR REPLACE VIEW typed_activities AS SELECT * FROM raw_activities")
    return rows, [(t, c, n) for (t, c), n in sorted(kinds.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))], outcome, ignored


def _validate_part(con, part: Path, raw_types: dict[str, str], now: pd.Timestamp, store: PartsStore, digest: str) -> dict:
    """Run a full load's activity checks on one part (raw_activities over it alone); record its typed copy."""
    rows, failures, out_of_range, kinds = _scan_values(con, ACTIVITIES, raw_types, now)
    if failures:
        _raise_with_rows(con, ACTIVITIES, str(part), *failures[0])
    _create_typed_view(con, ACTIVITIES, raw_types)
    _check_range(con, {"activities": str(part)}, ACTIVITIES, out_of_range, now)
    latest = _scalar(con, "SELECT max(occurred_at) FROM typed_activities")
    select = f"SELECT {_STORED_COLUMNS}, {sql_literal(part)} AS _file, _row, hash({_STORED_COLUMNS}) AS _h FROM typed_activities"
    return store.record(con, part, select, digest, rows, kinds, latest)


def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


_POSITION_COLUMNS = {"_row", "_file", "file_row_number"}
"""Columns the loader adds to place a row: `_row` numbers it, `_file` names its part in a table split in parts."""


def _raw_types(con, table: Table, origin: str) -> dict[str, str]:
    """Return the raw relation's columns and DuckDB types; raise if a required column is missing."""
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE raw_{table.name}").fetchall()
             if row[0] not in _POSITION_COLUMNS}
    check_required_columns(table, list(types), origin)
    return types


def check_required_columns(table: Table, present: list[str], origin: str) -> None:
    """Raise BadInputError naming the required columns of `table` missing from `present` (the Spark loader uses it too)."""
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        hint = ""
        if len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|")):
            sep = next(s for s in (";", "\t", "|") if s in present[0])
            hint = f" The header looks {'tab' if sep == chr(9) else repr(sep)}-separated; leadscore reads comma-separated CSV (or .tsv)."
        raise BadInputError(f"{origin}: missing required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; found columns: {', '.join(present) or 'none'}.{hint}")


_NATIVE = {
    "timestamp": ("TIMESTAMP", "DATE"),
    # not UBIGINT or HUGEINT: their values can exceed BIGINT, and the text path names such a row instead of crashing
    "integer": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"),
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
    text = f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
    if column.dtype == "integer":
        # DuckDB rounds '12.5' to 13 on a cast to BIGINT: a fraction must be an error, not a silent guess
        return f"CASE WHEN TRY_CAST({text} AS DOUBLE) = round(TRY_CAST({text} AS DOUBLE)) THEN TRY_CAST({text} AS BIGINT) END"
    return f"TRY_CAST({text} AS {_SQL_TYPE[column.dtype]})"


def _raw_text(column: Column) -> str:
    return f"""nullif(trim(CAST("{column.name}" AS VARCHAR)), '')"""


def _is_empty(column: Column, raw_types: dict[str, str]) -> str:
    if _is_native(column, raw_types[column.name]):
        return f'"{column.name}" IS NULL'
    return f"{_raw_text(column)} IS NULL"


MAX_ABS_VALUE = 1e15
"""The largest magnitude a number in the contract may have. Feature sums over millions of rows of
it stay far inside float64 (about 1.8e308), so every feature is finite by construction; no real
duration, amount or count comes near it."""


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
                           "has {n} value{s} that {are} not {noun}, {where}"))
        if column.dtype == "float":
            checks.append((column, f"isinf({typed}) OR isnan({typed})", "has {n} infinite or NaN values, {where}"))
            checks.append((column, f"abs({typed}) > {MAX_ABS_VALUE:g}",
                           f"has {{n}} value{{s}} beyond ±{MAX_ABS_VALUE:g}, {{where}}: sums and means over a lead's history "
                           "would overflow; check the export's units"))
        if column.allowed:
            allowed = "(" + ", ".join(f"'{v}'" for v in column.allowed) + ")"
            checks.append((column, f"{_raw_text(column)} IS NOT NULL AND lower({_raw_text(column)}) NOT IN {allowed}",
                           f"has {{n}} unknown value{{s}}: {{values}}; allowed: {', '.join(column.allowed)}"))
    return checks


def _scan_values(con, table: Table, raw_types: dict[str, str], now: pd.Timestamp):
    """Count rows, bad values of every check and out-of-range timestamps in one pass over the raw table.

    Return the row count, the failed checks (column, condition, count, message) in report
    order, and the time columns holding timestamps in the future or before `_EARLIEST`.

    A 100M-row activity table is read once here, not once per check; only a check that found
    bad rows is queried again, for the first few rows to name.
    """
    checks = _value_checks(table, raw_types)
    limit = (now + _FUTURE_TOLERANCE).isoformat()
    times = [c for c in table.time_columns if c in raw_types]
    counts = [f"count_if({condition})" for _, condition, _ in checks]
    counts += [f"count_if(NOT ({_column_expr(table.column(c), raw_types)} BETWEEN CAST('{_EARLIEST.isoformat()}' AS TIMESTAMPTZ) "
               f"AND CAST('{limit}' AS TIMESTAMPTZ)))" for c in times]
    if table.name == "activities":  # the vocabulary, in the same pass: rows per (type, channel) as the typed view shows them
        typed = {name: _typed_expr(table.column(name), raw_types) for name in ("activity_type", "channel")}
        counts.append(f"histogram({typed['activity_type']} || chr(31) || coalesce({typed['channel']}, ''))")
    row = con.execute(f"SELECT count(*){''.join(', ' + c for c in counts)} FROM raw_{table.name}").fetchall()[0]
    failures = [(column, condition, n, message) for (column, condition, message), n in zip(checks, row[1:]) if n]
    out_of_range = [c for c, n in zip(times, row[1 + len(checks):]) if n]
    kinds = []
    if table.name == "activities":
        for key, n in sorted((row[-1] or {}).items()):
            if key is not None:
                activity_type, _, channel = key.partition(chr(31))
                kinds.append((activity_type, channel or None, int(n)))
    return int(row[0]), failures, out_of_range, kinds


def _file_column(con, name: str) -> str:
    """Return SQL for the part a raw_<name> row came from: `_file` if the table is split in parts, else NULL."""
    columns = {row[0] for row in con.execute(f"DESCRIBE raw_{name}").fetchall()}
    return "_file" if "_file" in columns else "CAST(NULL AS VARCHAR)"


def _places(con, name: str, positions: list[tuple[str | None, int]]) -> list[str]:
    """Name where each (_file, _row) of raw_<name> is: 'row 3', or 'row 3 of <part>' in a table split in parts.

    `_row` orders a part's rows but need not restart at 1 in each part (CSV parts are numbered
    across the files), so a row's number in its part counts from the part's first `_row`. That
    costs a query only here, when rows are named, never on a table that passes.
    """
    parts = sorted({part for part, _ in positions if part is not None})
    first = dict(con.execute(f"SELECT _file, min(_row) FROM raw_{name} WHERE list_contains(?, _file) GROUP BY _file",
                             [parts]).fetchall()) if parts else {}
    return [f"row {row}" if part is None else f"row {row - first[part] + 1} of {part}" for part, row in positions]


def name_rows(con, name: str, positions: list[tuple[str | None, int]]) -> list[str]:
    """Name where each (_file, _row) of table `name` is, as validation's messages do (for warnings about rows)."""
    return _places(con, name, positions)


def _first_at(con, name: str, positions: list[tuple[str | None, int]]) -> str:
    """Return 'first at rows 3, 4', or 'first at row 3 of <part>, row 1 of <part>' in a table split in parts."""
    if all(part is None for part, _ in positions):
        return f"first at row{'s' if len(positions) > 1 else ''} {', '.join(str(row) for _, row in positions)}"
    return "first at " + ", ".join(_places(con, name, positions))


def _raise_with_rows(con, table: Table, origin: str, column: Column, condition: str, count: int, message: str) -> None:
    if "{values}" in message:  # unknown categories: the distinct values with their counts say more than rows
        found = con.execute(f"SELECT {_raw_text(column)} AS v, count(*) AS n FROM raw_{table.name} WHERE {condition} "
                            f"GROUP BY v ORDER BY n DESC, v LIMIT {_SHOWN_VALUES + 1}").fetchall()
        shown = ", ".join(f"{v!r} ({n:,} row{'s' if n > 1 else ''})" for v, n in found[:_SHOWN_VALUES])
        more = " and more" if len(found) > _SHOWN_VALUES else ""
        raise BadInputError(f"{origin}: column '{column.name}' {message.format(n=f'{count:,}', s='s' if count > 1 else '', values=shown + more)}")
    rows = con.execute(f"SELECT {_file_column(con, table.name)} AS _file, _row, {_raw_text(column)} FROM raw_{table.name} "
                       f"WHERE {condition} ORDER BY _file, _row LIMIT {_EXAMPLES}").fetchall()
    where = _first_at(con, table.name, [r[:2] for r in rows]) + " (" + \
        ", ".join(repr(r[2]) if r[2] is not None else "empty" for r in rows) + ")"
    noun = _NOUN.get(column.dtype, ("", ""))[count > 1]
    text = message.format(n=count, s="s" if count > 1 else "", are="are" if count > 1 else "is", noun=noun, where=where)
    raise BadInputError(f"{origin}: column '{column.name}' {text}")


def _typed_expr(column: Column, raw_types: dict[str, str]) -> str:
    """Return the SQL of a column as the typed view shows it (categories lower case, built-in type names too)."""
    expr = _column_expr(column, raw_types)
    if column.allowed:
        return f"lower({expr})"
    if column.name == "activity_type":
        return activity_type_sql(expr)
    return expr


def activity_type_sql(expr: str) -> str:
    """Return the SQL (DuckDB and Spark alike) reading a raw type: built-in names in any case mean their role, the CRM's own stay as written.

    >>> activity_type_sql("t").startswith("CASE WHEN lower(t) IN ('email_sent', ")
    True
    """
    return f"CASE WHEN lower({expr}) IN {quoted(ACTIVITY_TYPES)} THEN lower({expr}) ELSE {expr} END"


def _create_typed_view(con, table: Table, raw_types: dict[str, str]) -> None:
    con.execute(f"CREATE OR REPLACE VIEW typed_{table.name} AS {_typed_select(con, table, raw_types)}")


def _typed_select(con, table: Table, raw_types: dict[str, str]) -> str:
    """Return the SELECT over raw_<table> that gives the contract's types (with `_file` and `_row`)."""
    present = list(raw_types)
    select = []
    for column in table.columns:
        if table is LEADS and column.name not in raw_types:
            continue  # a lead column the CRM lacks stays absent, so no feature reads a column of NULLs
        select.append(f"{_typed_expr(column, raw_types)} AS {column.name}")
    if table is LEADS:
        declared = set(table.column_names)
        select += [f'"{c}"' for c in present if c not in declared]
    select += [f"{_file_column(con, table.name)} AS _file", "_row"]
    return f"SELECT {', '.join(select)} FROM raw_{table.name}"


def _report(con, origins: dict[str, str], name: str, sql: str, what: str) -> None:
    """Raise naming the rows `sql` (selecting _file, _row and a detail from typed_<name>) finds, if any."""
    rows = con.execute(sql + f" ORDER BY _file, _row LIMIT {_EXAMPLES}").fetchall()
    if rows:
        total = _scalar(con, f"SELECT count(*) FROM ({sql})")
        places = _places(con, name, [r[:2] for r in rows])
        shown = ", ".join(f"{place} ({r[2]})" for place, r in zip(places, rows))
        raise BadInputError(f"{origins[name]}: {what} in {total} row{'s' if total > 1 else ''}: {shown}")


def _check_keys(con, origins: dict[str, str]) -> None:
    _report(con, origins, "leads", """
        SELECT _file, _row, 'lead_id ' || lead_id FROM (
            SELECT _file, _row, lead_id, count(*) OVER (PARTITION BY lead_id) AS n FROM typed_leads) WHERE n > 1""",
            "a repeated lead_id (column 'lead_id' must be unique)")
    _report(con, origins, "opportunities", """
        SELECT _file, _row, 'opportunity_id ' || opportunity_id FROM (
            SELECT _file, _row, opportunity_id, count(*) OVER (PARTITION BY opportunity_id) AS n FROM typed_opportunities) WHERE n > 1""",
            "a repeated opportunity_id (column 'opportunity_id' must be unique)")
    for name in ("activities", "opportunities"):
        _report(con, origins, name, f"""
            SELECT t._file, t._row, 'lead_id ' || t.lead_id FROM typed_{name} t
            WHERE NOT EXISTS (SELECT 1 FROM typed_leads l WHERE l.lead_id = t.lead_id)""",
                "a lead that is not in the leads table (column 'lead_id')")


def _check_times(con, origins: dict[str, str], now: pd.Timestamp, out_of_range: dict[str, list[str]]) -> None:
    """Report timestamps out of range (found in the value pass) and opportunities that close before they open.

    The value pass counts future and too-old timestamps together, so a column it flags is
    queried for each kind here: only a table that fails pays for the second look.
    """
    for table in TABLES:
        _check_range(con, origins, table, out_of_range[table.name], now)
    _report(con, origins, "opportunities", """
        SELECT _file, _row, 'created ' || CAST(created_at AS VARCHAR) || ', closed ' || CAST(closed_at AS VARCHAR)
        FROM typed_opportunities WHERE closed_at < created_at""", "a close before the opportunity was created (column 'closed_at')")
    _report(con, origins, "opportunities", """
        SELECT _file, _row, 'outcome ' || outcome FROM typed_opportunities
        WHERE outcome IN ('won', 'lost') AND closed_at IS NULL""", "won or lost but no closed_at")


def _check_range(con, origins: dict[str, str], table: Table, columns: list[str], now: pd.Timestamp) -> None:
    """Report the future and too-old timestamps of the time `columns` the value pass flagged in `table`."""
    limit = (now + _FUTURE_TOLERANCE).isoformat()
    for column in columns:
        _report(con, origins, table.name, f"""
            SELECT _file, _row, '{column} ' || CAST({column} AS VARCHAR) FROM typed_{table.name}
            WHERE {column} > CAST('{limit}' AS TIMESTAMPTZ)""",
                f"a future timestamp in column '{column}' (later than {now:%Y-%m-%d %H:%M} UTC)")
        _report(con, origins, table.name, f"""
            SELECT _file, _row, '{column} ' || CAST({column} AS VARCHAR) FROM typed_{table.name}
            WHERE {column} < CAST('{_EARLIEST.isoformat()}' AS TIMESTAMPTZ)""",
                f"a timestamp before {_EARLIEST:%Y-%m-%d} in column '{column}' "
                "(no CRM record is that old: a typo in the year, or a placeholder for an unknown date)")


def validate_optional_table(con: duckdb.DuckDBPyConnection, table: Table, origin: str, now: pd.Timestamp) -> int:
    """Validate raw_<table> of an optional table (`contract.OPTIONAL_TABLES`) and expose it typed; return its rows.

    The checks are the contract tables' (required columns, types, empty required values, time
    range), and a failure is the same BadInputError naming file, column and rows. The typed
    rows are copied into `<table>_copy`, which keeps `_file` and `_row` so that a later
    warning can name rows (`name_rows`), and exposed as the view `<table>` without them.
    """
    raw_types = _raw_types(con, table, origin)
    rows, failures, out_of_range, _ = _scan_values(con, table, raw_types, now)
    if failures:
        _raise_with_rows(con, table, origin, *failures[0])
    _create_typed_view(con, table, raw_types)
    _check_range(con, {table.name: origin}, table, out_of_range, now)
    con.execute(f"CREATE OR REPLACE TABLE {table.name}_copy AS SELECT * FROM typed_{table.name}")
    con.execute(f"CREATE OR REPLACE VIEW {table.name} AS SELECT {', '.join(table.column_names)} FROM {table.name}_copy")
    return rows


def _create_final_views(con, activity_rows: int, copy_activities_up_to: int, kinds: list[tuple]) -> int:
    """Expose leads/activities/opportunities; drop exact duplicate activities and return how many.

    One pass groups the activity rows by a hash of the whole row: equal rows have equal
    hashes, so only rows whose hash repeats can be duplicates. Those few rows are made
    distinct exactly (a hash collision between different rows keeps both). `activities` is
    then copied into DuckDB, sorted by lead, if it has at most `copy_activities_up_to` rows
    (training scans it at every build) in the keyed layout of `features.layout`; a larger one
    stays a view over the source files and is never copied. Leads and opportunities, small
    next to activities, are always copied.
    """
    lead_columns = [r[0] for r in con.execute("DESCRIBE typed_leads").fetchall() if r[0] not in {"_file", "_row"}]
    # leads and opportunities are small next to activities and every build joins them: copy them once
    con.execute(f"CREATE OR REPLACE TABLE leads_copy AS SELECT {', '.join(chr(34) + c + chr(34) for c in lead_columns)} FROM typed_leads")
    con.execute("CREATE OR REPLACE VIEW leads AS SELECT * FROM leads_copy")
    con.execute("CREATE OR REPLACE TABLE opportunities_copy AS SELECT * EXCLUDE (_file, _row) FROM typed_opportunities")
    con.execute("CREATE OR REPLACE VIEW opportunities AS SELECT * FROM opportunities_copy")
    columns = _STORED_COLUMNS
    stored = "_h" in {row[0] for row in con.execute("DESCRIBE typed_activities").fetchall()}
    row_hash = "_h" if stored else f"hash({columns})"  # typed copies of validated parts carry their rows' hashes
    con.execute(f"CREATE OR REPLACE TEMP TABLE repeated_activity_hashes AS SELECT {row_hash} AS h, count(*) AS n "
                f"FROM typed_activities GROUP BY h HAVING count(*) > 1")
    repeated = int(_scalar(con, "SELECT coalesce(sum(n), 0) FROM repeated_activity_hashes"))
    dropped = 0
    if repeated == 0:
        con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT {columns} FROM typed_activities")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE repeated_activities_once AS SELECT DISTINCT {columns} FROM typed_activities "
                    f"WHERE {row_hash} IN (SELECT h FROM repeated_activity_hashes)")
        con.execute(f"CREATE OR REPLACE VIEW activities AS SELECT {columns} FROM typed_activities "
                    f"WHERE {row_hash} NOT IN (SELECT h FROM repeated_activity_hashes) "
                    f"UNION ALL SELECT {columns} FROM repeated_activities_once")
        dropped = repeated - int(_scalar(con, "SELECT count(*) FROM repeated_activities_once"))
    if activity_rows - dropped <= copy_activities_up_to:
        # clustered by lead: every build joins activities to snapshots by lead and aggregates per
        # snapshot, which runs 1.6x faster on a lead-ordered table than on a time-ordered export;
        # integer lead keys and activity-kind codes make a 1-date build 1.2-1.4x faster (BENCHMARKS.md)
        create_keyed_copy(con, kinds=kinds)  # the (type, channel) pairs the value pass found
    return dropped
