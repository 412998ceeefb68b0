"""Upsert scores into a database table through SQLAlchemy (the CRM re-import path).

Upsert = in one transaction, delete the rows of this as_of for these leads, then insert the
new ones: portable across databases, and a failure rolls back to the previous rows. Values
are always bound parameters; the table name is checked to be a plain identifier.

A scheduled run opens the sink before it scores (a bad URL, a missing driver or an
unreachable database fails in a second, not after the run) and keeps the transaction open
while it writes its files, so either everything is replaced or nothing is.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pandas as pd

from leadscore.pipeline.errors import BadInputError, LeadscoreError


def check_table_name(name: str) -> str:
    """Accept plain SQL identifiers only (schema.table allowed), so a table name cannot inject SQL."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name):
        raise BadInputError(f"--db-table {name!r}: use letters, digits and underscores only")
    return name


class ScoreSink:
    """A database table that scores are upserted into, reachable since it was opened."""

    def __init__(self, url: str, table: str):
        check_table_name(table)
        self.url, self.table = url, table
        self.engine = _engine(url)
        with _database_errors(self, "cannot be reached"):
            self.engine.connect().close()

    @contextlib.contextmanager
    def upserting(self, frame: pd.DataFrame, batch: int = 5000) -> Iterator[int]:
        """Upsert `frame`, yield the rows written, and commit only if the block then succeeds.

        The caller writes its files inside the block: if that fails, the rows roll back.
        """
        import sqlalchemy as sa

        rows = frame.assign(as_of=pd.to_datetime(frame["as_of"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        schema, _, name = self.table.rpartition(".")
        metadata = sa.MetaData(schema=schema or None)
        target = sa.Table(name, metadata, *_columns(sa, rows))
        records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
        with _database_errors(self, "upsert failed and was rolled back"), self.engine.begin() as connection:
            metadata.create_all(connection, checkfirst=True)
            for start in range(0, len(records), batch):
                part = records[start:start + batch]
                connection.execute(target.delete().where(
                    sa.and_(target.c.as_of == part[0]["as_of"], target.c.lead_id.in_([r["lead_id"] for r in part]))))
                connection.execute(target.insert(), part)
            yield len(records)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def upsert_scores(frame: pd.DataFrame, url: str, table: str, batch: int = 5000) -> int:
    """Replace the rows for (lead_id, as_of) of `frame` in `table`; return rows written."""
    sink = ScoreSink(url, table)
    try:
        with sink.upserting(frame, batch) as written:
            return written
    finally:
        sink.close()


def _engine(url: str):
    """Create the engine for `url`; a malformed URL, an unknown dialect or a missing driver is bad input."""
    try:
        import sqlalchemy as sa
    except ImportError:
        raise BadInputError("--db-url needs SQLAlchemy: pip install 'leadscore[sql]'") from None
    try:
        return sa.create_engine(url)
    except ImportError as exc:
        raise BadInputError(f"--db-url {_redacted(url)}: its database driver is not installed ({exc})") from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise BadInputError(f"--db-url {_redacted(url)}: not a usable SQLAlchemy URL ({_first_line(exc)}); "
                            "expected e.g. sqlite:///scores.db or postgresql://host/db") from None


@contextlib.contextmanager
def _database_errors(sink: ScoreSink, what: str) -> Iterator[None]:
    """Turn SQLAlchemy's errors into one line naming the database and table (exit code 1: retry later)."""
    import sqlalchemy as sa

    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise LeadscoreError(f"--db-url {_redacted(sink.url)} table {sink.table}: {what}: {_first_line(exc)}") from None


def _columns(sa, rows: pd.DataFrame) -> list:
    """Return the table's columns: (lead_id, as_of) as the key, the rest typed from the frame."""
    columns = [sa.Column("lead_id", sa.String, primary_key=True), sa.Column("as_of", sa.String, primary_key=True)]
    for column in rows.columns:
        if column in {"lead_id", "as_of"}:
            continue
        kind = rows[column].dtype
        sql_type = sa.Float if pd.api.types.is_float_dtype(kind) else sa.Integer if pd.api.types.is_integer_dtype(kind) \
            else sa.Boolean if pd.api.types.is_bool_dtype(kind) else sa.Text
        columns.append(sa.Column(column, sql_type))
    return columns


def _redacted(url: str) -> str:
    """Return `url` without its password, so an error message can go to a shared log."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: nothing in it was recognised as a password either
        return url


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]
