"""Run the same feature query on Apache Spark, for CRMs that outgrow one machine (the Spark engine).

There is no second implementation: the SQL that `features.builder.feature_sql` writes for
DuckDB is transpiled to Spark SQL by sqlglot (chosen over Ibis because the declarations are
already SQL: one text, two dialects, and the DuckDB build stays the reference). Two
constructs need care: DuckDB's `epoch(ts)` keeps microseconds, Spark's `unix_timestamp`
does not, so it becomes `unix_micros(ts) / 1e6`; DuckDB's `max(x, n)` (the n largest values)
has no Spark form, so it becomes `slice(sort_array(collect_list(x), false), 1, n)`; and
`AS MATERIALIZED`, a DuckDB planning hint, is dropped.

Parity needs the same rows and the same instants, not only the same text: `register_parquet`
types and cleans the tables as the DuckDB loader does, and timestamps cross between Spark and
pandas as unix microseconds, never as Python datetimes (which pyspark reads and writes in
the driver's local time zone, whatever the session's).

`SparkCrm` implements `features.engines.FeatureEngine`: the snapshot schedule, open leads,
censoring, labels and the data end are the DuckDB engine's own SQL, transpiled.

pyspark is an optional extra: `pip install 'leadscore[spark]'`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pyarrow.parquet as pq

from leadscore.features.builder import _snapshot_frame, _typed, feature_sql
from leadscore.features.contract import ACTIVITIES, LEADS, TABLES, Column, Table
from leadscore.features.crm import DATA_END_SQL
from leadscore.features.errors import BadInputError
from leadscore.features.registry import all_features
from leadscore.features.settings import EngineSettings, FeatureSettings
from leadscore.features.validation import activity_type_sql, check_required_columns


LOG4J2_CONFIG = Path(__file__).parent / "conf" / "spark-log4j2.properties"
"""The Spark JVM's logging: errors only, on stderr (see the file)."""

_PANDAS_SUPPORT_NOTE = "PySpark does not yet fully support"
"""The start of pyspark's FutureWarning about pandas 3, which its Python workers repeat on each task."""


def spark_session(engine: EngineSettings):
    """Return a Spark session on `engine.spark_master`, in UTC, that keeps a scheduler's log clean (a clear error if pyspark is missing).

    A session this call starts runs its JVM with `LOG4J2_CONFIG` (errors only, from the first
    line: the hostname and native-hadoop warnings come before any context exists, so only a
    configuration read at JVM start stops them), draws no stage progress bars, and its Python
    workers leave out pyspark's pandas-support FutureWarning. The log level is set to ERROR on
    a session that already existed too.
    """
    import os
    import sys

    # executors must run the same interpreter, where leadscore and its libraries are installed
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BadInputError("engine 'spark' needs pyspark: pip install 'leadscore[spark]' (and Java 17)") from None
    session = (SparkSession.builder.master(engine.spark_master).appName("leadscore")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J2_CONFIG.as_uri()}")
               .config("spark.executorEnv.PYTHONWARNINGS", f"ignore:{_PANDAS_SUPPORT_NOTE}:FutureWarning")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_sql(settings: FeatureSettings) -> str:
    """Return the feature query in Spark SQL."""
    import sqlglot
    from sqlglot import exp

    def spark_forms(node):
        if isinstance(node, exp.TimeToUnix):
            return exp.Div(this=exp.Anonymous(this="UNIX_MICROS", expressions=[node.this]), expression=exp.Literal.number(1000000.0))
        if isinstance(node, exp.CTE) and node.args.get("materialized"):
            node.set("materialized", None)  # a DuckDB planning hint; Spark plans CTEs itself
            return node
        if isinstance(node, exp.Max) and node.args.get("count") is not None:
            collected = exp.Anonymous(this="COLLECT_LIST", expressions=[node.this])
            ordered = exp.Anonymous(this="SORT_ARRAY", expressions=[collected, exp.false()])
            return exp.Anonymous(this="SLICE", expressions=[ordered, exp.Literal.number(1), node.args["count"]])
        return node

    tree = sqlglot.parse_one(feature_sql(settings), read="duckdb").transform(spark_forms)
    return tree.sql(dialect="spark")


def register_parquet(spark, folder: str | Path) -> None:
    """Expose leads/activities/opportunities Parquet as views typed and cleaned as `load_crm` cleans them.

    The queries are the DuckDB ones, so they must see the same rows: read from files or folders
    of parts (any path Spark reads), each table passes through `_contract_sql`, which mirrors
    `features.validation`'s typing, trimming, lower-casing and duplicate dropping. Only the
    checks that need no pass over the data are mirrored (a missing required column); see
    `_contract_sql` for those that are not.
    """
    from pyspark.errors import AnalysisException

    for table in TABLES:
        path = _table_path(folder, table.name)
        try:
            raw = spark.read.parquet(path)
        except AnalysisException as e:  # a path Spark cannot read is the user's to fix, not a traceback
            raise BadInputError(f"{path}: Spark cannot read table '{table.name}' there ({str(e).splitlines()[0]}); "
                                f"the Spark engine reads a folder holding {table.name}.parquet or a folder {table.name}/ of "
                                "Parquet parts") from None
        raw.createOrReplaceTempView(f"raw_{table.name}")
        spark.sql(_contract_sql(table, dict(raw.dtypes), path)).createOrReplaceTempView(table.name)


def _table_path(folder: str | Path, name: str) -> str:
    """Return `<name>.parquet` in `folder` if it exists, else the folder of parts `<name>`."""
    base = Path(str(folder))
    return str(base / f"{name}.parquet" if (base / f"{name}.parquet").exists() else base / name)


_SPARK_TYPE = {"string": "STRING", "category": "STRING", "timestamp": "TIMESTAMP", "integer": "BIGINT", "float": "DOUBLE"}

_SPARK_NATIVE = {
    "timestamp": ("timestamp", "timestamp_ntz", "date"),
    "integer": ("tinyint", "smallint", "int", "bigint"),
    "float": ("float", "double", "decimal", "tinyint", "smallint", "int", "bigint"),
}
"""Spark types (as `DataFrame.dtypes` names them) that already hold a contract type, cast
directly as `features.validation._NATIVE` are in DuckDB. Spark reads an unsigned Parquet integer
as a wider signed one, and a UINT64 as decimal(20,0), which takes the text path (the same
value below 2**53)."""


def _contract_sql(table: Table, raw_types: dict[str, str], origin: str) -> str:
    """Return the Spark SQL exposing `raw_<table>` as the DuckDB loader's final `<table>` view.

    Mirrored from `features.validation`: contract types; strings and categories trimmed, with
    '' as NULL; allowed-value categories (channel, outcome) and built-in activity type names lower-cased; a
    missing optional column (activities.value, asset_id, opportunities.amount) as a NULL column,
    except in leads, where it is left out (no feature reads it);
    leads keep their undeclared columns as they are, the other tables only the declared ones;
    exact duplicate activities (after cleaning) dropped.

    Not mirrored: the checks that reject rows, each an extra pass over tables that can be far
    larger than the feature query's share of them, so Spark trusts the extract. They are: an
    empty required value, an unparsable value (NULL here), NaN or infinite floats, unknown
    channels or outcomes, repeated lead or opportunity ids, references to
    unknown leads, timestamps in the future or before 1990, and opportunities that close before
    they open or are won or lost without closed_at. Validate a new extract (or a sample of it)
    with the DuckDB engine first.
    """
    check_required_columns(table, list(raw_types), origin)
    columns = [f"{_column_sql(column, raw_types.get(column.name))} AS {column.name}" for column in table.columns
               if not (table is LEADS and column.name not in raw_types)]  # a lead column the CRM lacks stays absent
    if table is LEADS:
        columns += [f"`{name}`" for name in raw_types if name not in table.column_names]
    distinct = "DISTINCT " if table is ACTIVITIES else ""  # the contract drops exact duplicate activities (uncounted here)
    return f"SELECT {distinct}{', '.join(columns)} FROM raw_{table.name}"


def _column_sql(column: Column, raw_type: str | None) -> str:
    """Return the Spark expression typing one raw column as `features.validation._column_expr` does in DuckDB.

    Integer text such as '550.0' or '1e3' is read as a DOUBLE and kept only when whole (Spark's
    ANSI cast to BIGINT returns NULL on it): that is the path of a pandas integer column with
    gaps, which Parquet holds as DOUBLE. A fraction ('12.5') is NULL here; the DuckDB loader
    stops on it, naming the row, and Spark skips the row-rejecting checks.
    """
    if raw_type is None:
        return f"CAST(NULL AS {_SPARK_TYPE[column.dtype]})"
    raw = f"`{column.name}`"
    text = f"nullif(trim(CAST({raw} AS STRING)), '')"
    if column.dtype in {"string", "category"}:
        if column.name == "activity_type":
            return activity_type_sql(text)
        return f"lower({text})" if column.allowed else text
    if raw_type.split("(")[0] in _SPARK_NATIVE[column.dtype]:
        return f"CAST({raw} AS {_SPARK_TYPE[column.dtype]})"
    if column.dtype == "integer":
        number = f"try_cast({text} AS DOUBLE)"
        return f"CASE WHEN {number} = round({number}) THEN try_cast({number} AS BIGINT) END"
    return f"try_cast({text} AS {_SPARK_TYPE[column.dtype]})"


def build_features_spark(spark, snapshots: pd.DataFrame, settings: FeatureSettings, out: str | Path | None = None) -> pd.DataFrame:
    """Return the feature frame computed by Spark for `snapshots` (views leads/activities/opportunities must exist).

    The executors write the frame as Parquet and this process reads it back whole: a training
    set crosses as columns, not as millions of collected rows. Without `out` the Parquet goes
    to a temporary folder that is removed once read.
    """
    _register_snapshots(spark, snapshots)
    result = spark.sql(spark_sql(settings))

    def written_and_read(target: Path) -> pd.DataFrame:
        result.write.mode("overwrite").parquet(str(target))
        return _typed(pq.read_table(str(target)), all_features(settings))

    if out is not None:
        return written_and_read(Path(out))
    with tempfile.TemporaryDirectory(prefix="leadscore-spark-") as folder:
        return written_and_read(Path(folder) / "features")


def features_dataframe(spark, snapshots: pd.DataFrame, settings: FeatureSettings):
    """Return the feature query as a Spark DataFrame (not collected), for distributed scoring."""
    _register_snapshots(spark, snapshots)
    return spark.sql(spark_sql(settings))


def _register_snapshots(spark, snapshots: pd.DataFrame) -> None:
    """Expose the numbered snapshots (lead_id, as_of, sid) as the view the feature query reads."""
    _register_frame(spark, _snapshot_frame(snapshots), "snapshots")


def _register_frame(spark, frame: pd.DataFrame, name: str) -> None:
    """Expose a small frame of string, integer and timestamp columns as view `name`; naive timestamps are UTC.

    Timestamps cross into Spark as unix microseconds, not datetimes: pyspark turns a naive
    datetime into an instant in the Python process's local time zone, so only an integer
    carries the instant unchanged wherever the driver runs.
    """
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    times = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    columns = {c: _unix_micros(frame[c]) if c in times else frame[c] for c in frame.columns}
    types = {c: LongType() if c in times or pd.api.types.is_integer_dtype(frame[c]) else StringType() for c in frame.columns}
    rows = list(zip(*(columns[c].astype(object).where(columns[c].notna(), None).tolist() for c in frame.columns)))
    schema = StructType([StructField(c, types[c]) for c in frame.columns])
    select = [f"timestamp_micros(`{c}`) AS `{c}`" if c in times else f"`{c}`" for c in frame.columns]
    spark.createDataFrame(rows, schema).selectExpr(*select).createOrReplaceTempView(name)


def _unix_micros(moments: pd.Series) -> pd.Series:
    """Return microseconds since the epoch of each moment (naive ones taken as UTC), NA where missing."""
    utc = pd.to_datetime(moments, utc=True).astype("datetime64[us, UTC]")
    return pd.Series(utc.dt.tz_localize(None).to_numpy().view("int64"), index=moments.index, dtype="Int64").mask(utc.isna())


def _transpiled(sql: str) -> str:
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def _collect(sdf) -> pd.DataFrame:
    """Return a small Spark result as pandas, its timestamps as UTC instants.

    collect() turns a timestamp into a naive datetime in the Python process's local time zone,
    not in the session's UTC, so timestamps cross as unix_micros integers and are rebuilt as
    UTC here; every Spark result that reaches pandas other than through Parquet comes through
    this function. Arrow is not used: pyspark's pandas 3 support is partial.
    """
    from pyspark.sql.types import TimestampType

    times = [f.name for f in sdf.schema.fields if isinstance(f.dataType, TimestampType)]
    select = [f"unix_micros(`{c}`) AS `{c}`" if c in times else f"`{c}`" for c in sdf.columns]
    frame = pd.DataFrame([r.asDict() for r in sdf.selectExpr(*select).collect()], columns=sdf.columns)
    return frame.assign(**{c: pd.to_datetime(frame[c].astype("Int64"), unit="us", utc=True) for c in times})


@dataclass
class SparkCrm:
    """A CRM registered as Spark views `leads`, `activities` and `opportunities` (see `register_parquet`)."""

    spark: object
    source: str
    data_end: pd.Timestamp
    name: ClassVar[str] = "spark"

    @classmethod
    def from_parquet(cls, folder: str | Path, engine: EngineSettings) -> SparkCrm:
        """Start (or reuse) the session `engine` configures, register the Parquet CRM at `folder`, and read its data end."""
        return cls.on_session(spark_session(engine), folder)

    @classmethod
    def on_session(cls, spark, folder: str | Path) -> SparkCrm:
        """Register the Parquet CRM at `folder` on `spark` and read its data end."""
        register_parquet(spark, folder)
        crm = cls(spark, str(folder), pd.NaT)
        crm.data_end = crm.query(DATA_END_SQL)["data_end"].iloc[0]
        return crm

    def query(self, sql: str, frames: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Return the result of DuckDB-dialect SQL, transpiled, over the views and `frames` registered under their keys."""
        for name, frame in (frames or {}).items():
            _register_frame(self.spark, frame, name)
        return _collect(self.spark.sql(_transpiled(sql)))

    def features(self, snapshots: pd.DataFrame, settings: FeatureSettings) -> pd.DataFrame:
        """Return the feature frame of `snapshots` computed by Spark."""
        return build_features_spark(self.spark, snapshots, settings)

    def feature_dataframe(self, snapshots: pd.DataFrame, settings: FeatureSettings):
        """Return the feature query of `snapshots` as a Spark DataFrame (not collected), for distributed scoring."""
        return features_dataframe(self.spark, snapshots, settings)
