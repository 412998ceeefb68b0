"""Upsert scores into a database table through SQLAlchemy (the CRM re-import path).

Upsert = in one transaction, delete the rows of this as_of for these leads, then insert the
new ones: portable across databases, and a failure rolls back to the previous rows. Values
are always bound parameters; the table name is checked to be a plain identifier.
"""

from __future__ import annotations

import pandas as pd

from pipeline.errors import BadInputError


def upsert_scores(frame: pd.DataFrame, url: str, table: str, batch: int = 5000) -> int:
    """Replace the rows for (lead_id, as_of) of `frame` in `table`; return rows written."""
    try:
        import sqlalchemy as sa
    except ImportError:
        raise BadInputError("--db-url needs SQLAlchemy: pip install 'leadscore[sql]'") from None
    from pipeline.score import check_table_name

    check_table_name(table)
    schema, _, name = table.rpartition(".")
    engine = sa.create_engine(url)
    rows = frame.assign(as_of=pd.to_datetime(frame["as_of"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    metadata = sa.MetaData(schema=schema or None)
    columns = [sa.Column("lead_id", sa.String, primary_key=True), sa.Column("as_of", sa.String, primary_key=True)]
    for column in rows.columns:
        if column in {"lead_id", "as_of"}:
            continue
        kind = rows[column].dtype
        sql_type = sa.Float if pd.api.types.is_float_dtype(kind) else sa.Integer if pd.api.types.is_integer_dtype(kind) \
            else sa.Boolean if pd.api.types.is_bool_dtype(kind) else sa.Text
        columns.append(sa.Column(column, sql_type))
    target = sa.Table(name, metadata, *columns)
    metadata.create_all(engine, checkfirst=True)
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    with engine.begin() as connection:
        for start in range(0, len(records), batch):
            part = records[start:start + batch]
            connection.execute(target.delete().where(
                sa.and_(target.c.as_of == part[0]["as_of"], target.c.lead_id.in_([r["lead_id"] for r in part]))))
            connection.execute(target.insert(), part)
    engine.dispose()
    return len(records)
