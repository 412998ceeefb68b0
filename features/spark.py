"""Run the same feature query on Apache Spark, for CRMs that outgrow one machine.

There is no second implementation: the SQL that `features.builder.feature_sql` writes for
DuckDB is transpiled to Spark SQL by sqlglot (chosen over Ibis because the declarations are
already SQL: one text, two dialects, and the DuckDB build stays the reference). Two
constructs need care: DuckDB's `epoch(ts)` keeps microseconds, Spark's `unix_timestamp`
does not, so it becomes `unix_micros(ts) / 1e6`; DuckDB's `max(x, n)` (the n largest values)
has no Spark form, so it becomes `slice(sort_array(collect_list(x), false), 1, n)`; and
`AS MATERIALIZED`, a DuckDB planning hint, is dropped.

pyspark is an optional extra: `pip install 'leadscore[spark]'`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features.builder import _snapshot_frame, _typed, feature_sql
from features.registry import all_features
from pipeline.config import Config
from pipeline.errors import BadInputError


def spark_session(config: Config):
    """Return a Spark session on `engine.spark_master`, in UTC (a clear error if pyspark is missing)."""
    import os
    import sys

    # executors must run the same interpreter, where leadscore and its libraries are installed
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BadInputError("engine 'spark' needs pyspark: pip install 'leadscore[spark]' (and Java 17)") from None
    return (SparkSession.builder.master(config.engine.spark_master).appName("leadscore")
            .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8").getOrCreate())


def spark_sql(config: Config) -> str:
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

    tree = sqlglot.parse_one(feature_sql(config), read="duckdb").transform(spark_forms)
    return tree.sql(dialect="spark")


def register_parquet(spark, folder: str | Path) -> None:
    """Expose leads/activities/opportunities Parquet (files or folders of parts, any path Spark reads) as views."""
    for name in ("leads", "activities", "opportunities"):
        base = Path(str(folder))
        path = base / f"{name}.parquet" if (base / f"{name}.parquet").exists() else base / name
        spark.read.parquet(str(path)).createOrReplaceTempView(name)


def build_features_spark(spark, snapshots: pd.DataFrame, config: Config, out: str | Path | None = None) -> pd.DataFrame:
    """Return the feature frame computed by Spark for `snapshots` (views leads/activities/opportunities must exist)."""
    _register_snapshots(spark, snapshots)
    result = spark.sql(spark_sql(config))
    target = Path(out) if out else Path(tempfile.mkdtemp(prefix="leadscore-spark-")) / "features"
    result.write.mode("overwrite").parquet(str(target))
    return _typed(pq.read_table(str(target)), all_features(config))


def features_dataframe(spark, snapshots: pd.DataFrame, config: Config):
    """Return the feature query as a Spark DataFrame (not collected), for distributed scoring."""
    _register_snapshots(spark, snapshots)
    return spark.sql(spark_sql(config))


def _register_snapshots(spark, snapshots: pd.DataFrame) -> None:
    """Expose the numbered snapshots (lead_id, as_of, sid) as the view the feature query reads."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

    frame = _snapshot_frame(snapshots)
    rows = list(zip(frame["lead_id"].tolist(), [t.to_pydatetime() for t in frame["as_of"]], frame["sid"].tolist()))
    schema = StructType([StructField("lead_id", StringType()), StructField("as_of", TimestampType()),
                         StructField("sid", LongType())])
    spark.createDataFrame(rows, schema).createOrReplaceTempView("snapshots")


def _transpiled(sql: str) -> str:
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def _collect(sdf) -> pd.DataFrame:
    """Return a small Spark result as pandas without Arrow (pyspark's pandas 3 support is partial)."""
    rows = [r.asDict() for r in sdf.collect()]
    return pd.DataFrame(rows, columns=sdf.columns)


def data_end_spark(spark) -> pd.Timestamp:
    """Return the latest timestamp in the three registered tables."""
    row = spark.sql("""SELECT greatest((SELECT max(created_at) FROM leads), (SELECT max(occurred_at) FROM activities),
                              (SELECT max(coalesce(closed_at, created_at)) FROM opportunities)) AS t""").collect()[0]
    return pd.Timestamp(row["t"]).tz_localize("UTC")


def open_leads_spark(spark, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Return (lead_id, as_of) for every lead open at each date, computed by Spark."""
    from pyspark.sql.types import StructField, StructType, TimestampType

    from features.snapshots import OPEN_LEADS_SQL

    schema = StructType([StructField("as_of", TimestampType())])
    spark.createDataFrame([(pd.Timestamp(d).to_pydatetime(),) for d in dates], schema).createOrReplaceTempView("snapshot_dates")
    frame = _collect(spark.sql(_transpiled(OPEN_LEADS_SQL.format(dates="snapshot_dates"))))
    return frame.assign(lead_id=frame["lead_id"].astype("string"), as_of=pd.to_datetime(frame["as_of"], utc=True))


def training_set_spark(spark, config: Config) -> pd.DataFrame:
    """Return labelled, uncensored training snapshots with features, every step computed by Spark."""
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    from features.labels import LABEL_SQL
    from features.snapshots import midnight

    w = config.windows
    first_lead = pd.Timestamp(spark.sql("SELECT min(created_at) AS t FROM leads").collect()[0]["t"]).tz_localize("UTC")
    end = data_end_spark(spark)
    first = midnight(w.first_snapshot) if w.first_snapshot else midnight(first_lead) + pd.Timedelta(days=max(w.lookback_days))
    last = midnight(w.last_snapshot) if w.last_snapshot else midnight(end) - pd.Timedelta(days=w.horizon_days + w.gap_days)
    dates = sorted(last - pd.Timedelta(days=w.slide_days * i) for i in range(10_000) if last - pd.Timedelta(days=w.slide_days * i) >= first)
    snapshots = open_leads_spark(spark, dates)
    snapshots = snapshots[snapshots["as_of"] + pd.Timedelta(days=w.gap_days + w.horizon_days) <= end]
    schema = StructType([StructField("lead_id", StringType()), StructField("as_of", TimestampType())])
    rows = list(zip(snapshots["lead_id"].tolist(), [t.to_pydatetime() for t in snapshots["as_of"]]))
    spark.createDataFrame(rows, schema).createOrReplaceTempView("label_snapshots")
    labels = _collect(spark.sql(_transpiled(LABEL_SQL.format(
        snapshots="label_snapshots", window_start=int(w.gap_days), window_end=int(w.gap_days + w.horizon_days)))))
    labels = labels.assign(lead_id=labels["lead_id"].astype("string"), as_of=pd.to_datetime(labels["as_of"], utc=True),
                           label=labels["label"].astype("int8"))
    features = build_features_spark(spark, labels, config)
    return labels.merge(features, on=["lead_id", "as_of"], how="left").sort_values(["as_of", "lead_id"], ignore_index=True)
