"""The same pipeline on Spark local[2]: features equal DuckDB's value for value, scores equal embedded ones.

Few and small, because a Spark session costs seconds to start.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is the optional [spark] extra; make test installs it")

from features.builder import build_features  # noqa: E402
from features.crm import crm_from_frames  # noqa: E402
from features.snapshots import scoring_snapshots  # noqa: E402
from features.spark import build_features_spark, register_parquet, spark_session  # noqa: E402
from features.synthetic import write_crm  # noqa: E402
from pipeline.config import load_config  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_crm(trained_crm, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_crm")
    leads = trained_crm.leads.head(400)
    keep = leads["lead_id"]
    acts = trained_crm.activities[trained_crm.activities["lead_id"].isin(keep)]
    opps = trained_crm.opportunities[trained_crm.opportunities["lead_id"].isin(keep)]
    small = type(trained_crm)(leads, acts, opps, trained_crm.truth, trained_crm.start, trained_crm.end, trained_crm.params)
    write_crm(small, folder)
    config = load_config()
    spark = spark_session(config)
    register_parquet(spark, folder)
    crm = crm_from_frames(leads, acts, opps)
    snaps = pd.concat([scoring_snapshots(crm, d) for d in ("2025-03-01", "2026-01-15")], ignore_index=True)
    yield spark, crm, snaps, config
    spark.stop()


def test_spark_features_equal_duckdb_features_value_for_value(spark_crm):
    spark, crm, snaps, config = spark_crm
    duck = build_features(crm, snaps, config).sort_values(["lead_id", "as_of"], ignore_index=True)
    on_spark = build_features_spark(spark, snaps, config)
    assert list(on_spark.columns) == list(duck.columns) and len(on_spark) == len(duck) > 300
    for column in duck.columns:
        if duck[column].dtype.kind == "f":
            assert np.allclose(duck[column], on_spark[column], rtol=1e-9, atol=1e-9, equal_nan=True), column
        else:
            assert duck[column].astype(str).tolist() == on_spark[column].astype(str).tolist(), column


def test_spark_batch_scores_equal_embedded_scores(spark_crm, trained, tmp_path):
    from pipeline.spark_score import score_spark
    from pipeline.train import score_frame

    spark, crm, snaps, config = spark_crm
    bundle = trained[2].bundle
    out = score_spark(spark, bundle, snaps, config, tmp_path / "scores")
    assert sorted(p.name for p in out.iterdir() if p.is_dir())[0].startswith("as_of=")
    on_spark = pd.read_parquet(out).sort_values(["lead_id", "probability"], ignore_index=True)
    embedded = score_frame(build_features(crm, snaps, config), bundle.calibrated, bundle.points, config)
    embedded = embedded.sort_values(["lead_id", "model_proba"], ignore_index=True)
    assert len(on_spark) == len(embedded)
    assert np.allclose(on_spark["probability"], embedded["model_proba"], rtol=1e-12, atol=1e-12)
    assert np.allclose(on_spark["rule_points"], embedded["rule_points"])
    assert on_spark["segment"].tolist() == embedded["model_segment"].astype(str).tolist()


def test_spark_training_set_equals_the_embedded_one(spark_crm):
    from features.dataset import build_training_set

    spark, crm, _, _ = spark_crm
    config = load_config(windows={"first_snapshot": "2025-01-01", "slide_days": 90})
    embedded = build_training_set(crm, config).frame
    from features.spark import training_set_spark

    on_spark = training_set_spark(spark, config)
    assert len(on_spark) == len(embedded) > 300 and on_spark["label"].sum() == embedded["label"].sum() > 0
    pd.testing.assert_frame_equal(on_spark[["lead_id", "as_of", "label"]].reset_index(drop=True),
                                  embedded[["lead_id", "as_of", "label"]].reset_index(drop=True), check_dtype=False)
