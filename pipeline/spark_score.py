"""Score on Spark: features from the transpiled query, the model shipped to executors with mapInPandas.

Each partition of feature rows is scored by the same bundle (calibrated model and points
table) as embedded scoring, and the result is written as Parquet partitioned by as_of.
Reasons are left to the embedded path, which computes them for the few leads that need them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from leadscore.features.builder import _typed
from leadscore.features.registry import all_features
from leadscore.models.bundle import ModelBundle
from leadscore.pipeline.config import Config


def score_spark(spark, bundle: ModelBundle, snapshots: pd.DataFrame, config: Config, out: str | Path) -> Path:
    """Score `snapshots` on Spark and write Parquet partitioned by as_of to `out`; return `out`."""
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

    from leadscore.features.spark import features_dataframe
    from leadscore.pipeline.grading import grade, segment

    features = all_features(config.for_features)
    grades = config.grades

    def score_batches(batches):
        for batch in batches:
            batch["as_of"] = pd.to_datetime(batch["as_of"], utc=True)
            typed = _typed(pa.Table.from_pandas(batch, preserve_index=False), features)  # rows in sid order
            proba = bundle.calibrated.predict_proba(typed[bundle.feature_names])[:, 1]
            yield pd.DataFrame({
                "lead_id": typed["lead_id"].astype(str), "as_of": typed["as_of"].dt.tz_localize(None),
                "probability": proba, "grade": pd.Series(grade(proba, grades)).astype(str),
                "segment": pd.Series(segment(proba, grades)).astype(str),
                "rule_points": bundle.points.decision_function(typed),
                "rule_segment": pd.Series(bundle.points.segment(typed)).astype(str),
            })

    schema = StructType([
        StructField("lead_id", StringType()), StructField("as_of", TimestampType()), StructField("probability", DoubleType()),
        StructField("grade", StringType()), StructField("segment", StringType()), StructField("rule_points", DoubleType()),
        StructField("rule_segment", StringType()),
    ])
    scored = features_dataframe(spark, snapshots, config.for_features).mapInPandas(score_batches, schema)
    scored.write.mode("overwrite").partitionBy("as_of").parquet(str(out))
    return Path(out)
