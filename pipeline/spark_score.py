"""Score on Spark: features from the transpiled query, the model shipped to executors with mapInPandas.

Each partition of feature rows is scored by `pipeline.scoring.score_rows`, the function
embedded scoring calls, and the result is written as Parquet partitioned by as_of.
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
from leadscore.pipeline.scoring import PIPELINE_FLAG, score_rows

SPARK_COLUMNS = ("lead_id", "as_of", "probability", "grade", "segment", "rule_points", "rule_segment")
"""The columns Spark writes: the scores file's, without the 0-100 score, model name and reasons."""


def score_spark(crm, bundle: ModelBundle, snapshots: pd.DataFrame, config: Config, out: str | Path) -> Path:
    """Score `snapshots` of a `features.spark.SparkCrm` and write Parquet partitioned by as_of to `out`; return `out`.

    Snapshots carrying `in_sales_pipeline` (see `pipeline.scoring.population_to_score`) keep it as a column.
    """
    from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType, TimestampType

    features = all_features(config.for_features)
    grades = config.grades
    flagged = PIPELINE_FLAG in snapshots.columns
    # (lead_id, as_of) of the flagged snapshots, shipped to the executors with the model: the feature query keeps no flag
    in_pipeline = frozenset(zip(snapshots.loc[snapshots[PIPELINE_FLAG], "lead_id"].astype(str),
                                pd.to_datetime(snapshots.loc[snapshots[PIPELINE_FLAG], "as_of"], utc=True))) if flagged else frozenset()
    columns = list(SPARK_COLUMNS) + ([PIPELINE_FLAG] if flagged else [])

    def score_batches(batches):
        for batch in batches:
            batch["as_of"] = pd.to_datetime(batch["as_of"], utc=True)
            typed = _typed(pa.Table.from_pandas(batch, preserve_index=False), features)  # rows in sid order
            scored = score_rows(typed, bundle, grades)
            as_of = pd.to_datetime(scored["as_of"], utc=True)
            if flagged:
                scored[PIPELINE_FLAG] = [key in in_pipeline for key in zip(scored["lead_id"].astype(str), as_of)]
            yield scored.assign(
                lead_id=scored["lead_id"].astype(str), as_of=as_of.dt.tz_localize(None),
                grade=scored["grade"].astype(str), segment=scored["segment"].astype(str),
                rule_segment=scored["rule_segment"].astype(str))[columns]

    text, number = StringType(), DoubleType()
    schema = StructType([StructField("lead_id", text), StructField("as_of", TimestampType()), StructField("probability", number),
                         StructField("grade", text), StructField("segment", text), StructField("rule_points", number),
                         StructField("rule_segment", text)] + ([StructField(PIPELINE_FLAG, BooleanType())] if flagged else []))
    scored = crm.feature_dataframe(snapshots, config.for_features).mapInPandas(score_batches, schema)
    scored.write.mode("overwrite").partitionBy("as_of").parquet(str(out))
    return Path(out)


def record_spark_history(out: str | Path, as_of: pd.Timestamp, bundle: ModelBundle, model_name: str, model_version: str,
                         config: Config) -> int:
    """Add the scores Spark wrote to `out` (one as_of) to the working folder's score history; return how many leads.

    Monitoring judges Spark runs as it judges embedded ones, so they keep the same history.
    The history keeps one row per lead and model version: a few columns per open lead, read
    back by the driver once the executors have written them.
    """
    from leadscore.pipeline.catalog import Catalog
    from leadscore.pipeline.history import record_scores
    from leadscore.pipeline.grading import score_0_100

    written = pd.read_parquet(out, columns=[c for c in SPARK_COLUMNS if c != "as_of"])
    if written.empty:
        return 0
    frame = written.assign(as_of=as_of, model_name=model_name, model_version=model_version,
                           score=score_0_100(written["probability"].to_numpy()))
    record_scores(frame, Catalog.of(config), config.scoring.history_days, bundle.scorer, bundle.outcomes_seen_until(),
                  bundle.label)
    return len(frame)
