"""The same pipeline on Spark local[2]: features equal DuckDB's value for value, scores equal embedded ones.

Few and small, because a Spark session costs seconds to start.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest
import yaml

pyspark = pytest.importorskip("pyspark", reason="pyspark is the optional [spark] extra; make test installs it")

from leadscore.features.builder import build_features  # noqa: E402
from leadscore.features.crm import crm_from_frames  # noqa: E402
from leadscore.features.loaders import load_crm  # noqa: E402
from leadscore.features.snapshots import scoring_snapshots  # noqa: E402
from leadscore.features.engines import FeatureEngine, open_engine  # noqa: E402
from leadscore.features.snapshots import open_leads_at, split_population  # noqa: E402
from leadscore.features.spark import SparkCrm, build_features_spark, register_parquet, spark_session  # noqa: E402
from leadscore.features.synthetic import write_crm  # noqa: E402
from leadscore.pipeline.catalog import Catalog  # noqa: E402
from leadscore.pipeline.config import load_config  # noqa: E402
from leadscore.pipeline.history import read_history  # noqa: E402
from leadscore.pipeline.errors import BadInputError  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    session = spark_session(load_config().engine)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def small_crm(trained_crm, tmp_path_factory):
    """400 leads of the shared CRM, as frames (for DuckDB) and as a Parquet folder (for Spark)."""
    folder = tmp_path_factory.mktemp("spark_crm")
    leads = trained_crm.leads.head(400)
    keep = leads["lead_id"]
    acts = trained_crm.activities[trained_crm.activities["lead_id"].isin(keep)]
    opps = trained_crm.opportunities[trained_crm.opportunities["lead_id"].isin(keep)]
    small = type(trained_crm)(leads, acts, opps, trained_crm.truth, trained_crm.start, trained_crm.end, trained_crm.params)
    write_crm(small, folder)
    crm = crm_from_frames(leads, acts, opps)
    snaps = pd.concat([scoring_snapshots(crm, d) for d in ("2025-03-01", "2026-01-15")], ignore_index=True)
    return folder, crm, snaps


@pytest.fixture
def spark_crm(spark, small_crm):
    folder, crm, snaps = small_crm
    # the views are the session's: another test may have registered other tables
    return SparkCrm.on_session(spark, folder), crm, snaps, load_config()


@pytest.fixture
def new_york_time():
    """Run the test with the process's local time zone at UTC-4/-5, restoring it after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    assert time.timezone != 0, "no tz database: the test would run in UTC and prove nothing"
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _assert_same_features(duck: pd.DataFrame, on_spark: pd.DataFrame) -> None:
    assert list(on_spark.columns) == list(duck.columns) and len(on_spark) == len(duck)
    for column in duck.columns:
        if duck[column].dtype.kind == "f":
            assert np.allclose(duck[column], on_spark[column], rtol=1e-9, atol=1e-9, equal_nan=True), column
        else:
            assert duck[column].astype(str).tolist() == on_spark[column].astype(str).tolist(), column


def test_spark_features_equal_duckdb_features_value_for_value(spark_crm):
    on_spark_crm, crm, snaps, config = spark_crm
    duck = build_features(crm, snaps, config.for_features).sort_values(["lead_id", "as_of"], ignore_index=True)
    on_spark = on_spark_crm.features(snaps, config.for_features)
    assert len(duck) > 300
    _assert_same_features(duck, on_spark)


def test_spark_batch_scores_equal_embedded_scores(spark_crm, trained, tmp_path):
    from leadscore.pipeline.spark_score import score_spark
    from leadscore.pipeline.scoring import score_rows

    on_spark_crm, crm, snaps, config = spark_crm
    bundle = trained[2].bundle
    out = score_spark(on_spark_crm, bundle, snaps, config, tmp_path / "scores")
    assert sorted(p.name for p in out.iterdir() if p.is_dir())[0].startswith("as_of=")
    on_spark = pd.read_parquet(out).sort_values(["lead_id", "probability"], ignore_index=True)
    # the rows the embedded `score` stage writes, rule points rounded as in its scores file
    embedded = score_rows(build_features(crm, snaps, config.for_features), bundle, config.grades)
    embedded = embedded.sort_values(["lead_id", "probability"], ignore_index=True)
    assert len(on_spark) == len(embedded)
    assert np.allclose(on_spark["probability"], embedded["probability"], rtol=1e-12, atol=1e-12)
    assert np.allclose(on_spark["rule_points"], embedded["rule_points"])
    assert on_spark["segment"].tolist() == embedded["segment"].astype(str).tolist()
    assert on_spark["grade"].tolist() == embedded["grade"].astype(str).tolist()


def test_spark_training_set_equals_the_embedded_one_on_a_driver_outside_utc(spark_crm, new_york_time):
    """Dates, snapshots and labels each cross from Spark to pandas; none may move by the local UTC offset."""
    from leadscore.features.dataset import build_training_set

    on_spark_crm, crm, _, _ = spark_crm
    config = load_config(windows={"first_snapshot": "2025-01-01", "slide_days": 90})
    embedded = build_training_set(crm, config.for_features).frame
    on_spark = build_training_set(on_spark_crm, config.for_features).frame
    assert len(on_spark) == len(embedded) > 300 and on_spark["label"].sum() == embedded["label"].sum() > 0
    pd.testing.assert_frame_equal(on_spark[["lead_id", "as_of", "label"]].reset_index(drop=True),
                                  embedded[["lead_id", "as_of", "label"]].reset_index(drop=True), check_dtype=False)


def test_spark_applies_the_population_rule_and_counts_the_split_as_duckdb_does(spark_crm):
    from leadscore.pipeline.split_checks import snapshot_counts

    on_spark_crm, crm, _, _ = spark_crm
    when = [pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-09-01 06:00", tz="UTC")]
    flags = open_leads_at(on_spark_crm, when)
    assert flags["in_sales_pipeline"].any()  # some of the 400 leads have an open opportunity then
    pd.testing.assert_frame_equal(flags, open_leads_at(crm, when))
    for rule in ("exclude", "include"):
        config = load_config(windows={"first_snapshot": "2025-01-01", "slide": "45d"}, population={"open_opportunities": rule})
        pd.testing.assert_frame_equal(snapshot_counts(on_spark_crm, config), snapshot_counts(crm, config))


def test_spark_times_are_utc_whatever_the_local_time_zone(spark_crm, new_york_time):
    on_spark_crm, crm, _, _ = spark_crm
    end = on_spark_crm.data_end
    assert end == crm.data_end and str(end.tz) == "UTC"
    when = pd.Timestamp("2025-03-01", tz="UTC")
    pd.testing.assert_frame_equal(open_leads_at(on_spark_crm, [when]), scoring_snapshots(crm, when))
    assert open_leads_at(on_spark_crm, [when.tz_localize(None)])["as_of"].eq(when).all()  # a naive date is UTC too


@pytest.fixture
def raw_export(trained_crm, tmp_path):
    """Parquet as a CRM exports it: padded and case-varying ids and types, repeated activities, no value or amount.

    Every fifth activity appears twice, and the copy is padded or cased unlike the original
    row in two rows out of three, so some duplicates are equal only once cleaned.
    """
    leads = trained_crm.leads.head(80).copy()
    acts = trained_crm.activities[trained_crm.activities["lead_id"].isin(leads["lead_id"])].drop(columns="value")
    opps = trained_crm.opportunities[trained_crm.opportunities["lead_id"].isin(leads["lead_id"])].drop(columns="amount")
    acts = pd.concat([acts, acts.iloc[::5]], ignore_index=True)
    turn = pd.Series(np.arange(len(acts)) % 3, index=acts.index)
    acts["lead_id"] = acts["lead_id"].where(turn != 1, " " + acts["lead_id"] + "  ")
    acts["activity_type"] = acts["activity_type"].where(turn != 2, acts["activity_type"].str.title())
    acts["channel"] = acts["channel"].where(turn != 2, " " + acts["channel"].str.upper())
    leads["lead_id"] = leads["lead_id"].where(leads.index % 2 == 0, leads["lead_id"] + " ")
    leads["email"] = leads["email"] + "  "
    leads["company_size"] = leads["company_size"].astype("float64").where(leads.index % 4 != 0)  # an int column with gaps
    opps = opps.assign(outcome=opps["outcome"].str.upper(), lead_id=" " + opps["lead_id"])
    for name, frame in (("leads", leads), ("activities", acts), ("opportunities", opps)):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    return tmp_path


def test_spark_cleans_a_raw_export_as_the_duckdb_loader_does(spark, raw_export):
    config = load_config()
    crm = load_crm(raw_export, now=pd.Timestamp("2027-01-01", tz="UTC"))
    assert crm.summary["duplicate_activities_dropped"] > 0
    on_spark_crm = SparkCrm.on_session(spark, raw_export)
    dates = [pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2026-01-15", tz="UTC")]
    expected = pd.concat([scoring_snapshots(crm, d) for d in dates], ignore_index=True)
    snaps = open_leads_at(on_spark_crm, dates)
    pd.testing.assert_frame_equal(snaps, expected)
    duck = build_features(crm, snaps, config.for_features)
    assert len(duck) > 80 and duck["web_visit_count_all"].sum() > 0
    _assert_same_features(duck, build_features_spark(spark, snaps, config.for_features))


def test_spark_names_a_missing_required_column(spark, small_crm, tmp_path):
    folder, _, _ = small_crm
    pd.read_parquet(folder / "leads.parquet").drop(columns="created_at").to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(BadInputError, match=r"leads\.parquet: missing required column created_at; found columns: lead_id, email,"):
        register_parquet(spark, tmp_path)


def test_open_engine_picks_the_engine_by_name_and_both_offer_the_one_interface(spark, small_crm):
    folder, _, _ = small_crm
    on_spark = open_engine(folder, load_config(engine={"name": "spark"}).engine)
    on_duckdb = open_engine(folder, load_config().engine)
    assert (on_spark.name, on_duckdb.name) == ("spark", "duckdb")
    assert isinstance(on_spark, FeatureEngine) and isinstance(on_duckdb, FeatureEngine)
    assert on_spark.data_end == on_duckdb.data_end
    dates = {"d": pd.DataFrame({"as_of": [pd.Timestamp("2025-03-01", tz="UTC")]})}
    sql = "SELECT count(*) AS n FROM leads, d WHERE created_at < d.as_of"
    assert int(on_spark.query(sql, dates)["n"].iloc[0]) == int(on_duckdb.query(sql, dates)["n"].iloc[0]) > 0


def test_the_score_and_features_commands_on_spark_match_duckdb(spark, small_crm, trained, tmp_path):
    from leadscore.pipeline.cli import main
    from leadscore.pipeline.scoring import score_rows

    folder, crm, _ = small_crm
    config, _, result = trained
    when = "2026-01-15"
    assert main(["score", "--engine", "spark", "--data", str(folder), "--as-of", when, "--model", str(result.bundle_dir),
                 "--workdir", config.workdir, "--out", str(tmp_path / "scores")]) == 0
    on_spark = pd.read_parquet(tmp_path / "scores").sort_values("lead_id", ignore_index=True)
    # the leads of the population: those with an open opportunity are left out on both engines
    population, left_out = split_population(scoring_snapshots(crm, when), config.population)
    assert len(left_out) and not set(left_out["lead_id"]) & set(on_spark["lead_id"])
    duck_features = build_features(crm, population, config.for_features)
    embedded = score_rows(duck_features, result.bundle, config.grades).sort_values("lead_id", ignore_index=True)
    assert len(on_spark) == len(embedded) > 100
    assert np.allclose(on_spark["probability"], embedded["probability"], rtol=1e-12, atol=1e-12)
    recorded = read_history(Catalog.of(config), since=pd.Timestamp(when, tz="UTC"), before=pd.Timestamp(when, tz="UTC") + pd.Timedelta(days=1))
    recorded = recorded[recorded["model_version"] == f"local:{result.bundle_dir.name}"].sort_values("lead_id", ignore_index=True)
    assert recorded["lead_id"].tolist() == on_spark["lead_id"].tolist()  # monitoring sees Spark runs as it sees embedded ones
    assert np.allclose(recorded["probability"], on_spark["probability"]) and recorded["score"].between(0, 100).all()

    assert main(["features", "--engine", "spark", "--data", str(folder), "--as-of", when, "--out", str(tmp_path / "f.parquet")]) == 0
    written = pd.read_parquet(tmp_path / "f.parquet").sort_values(["lead_id", "as_of"], ignore_index=True)
    _assert_same_features(build_features(crm, population, load_config()).sort_values(["lead_id", "as_of"], ignore_index=True),
                          written)


@pytest.mark.slow
def test_train_on_spark_gives_the_model_figures_the_embedded_engine_gives(spark, tmp_path):
    """`train --engine spark` builds snapshots, labels and features on Spark; the model trained from them is DuckDB's."""
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.pipeline.cli import main

    folder = tmp_path / "crm"
    write_crm(generate_crm(1500, seed=33, months=24), folder)
    config = tmp_path / "leadscore.yaml"
    # one family and a short boosting run: the test is of the engine, not of the model
    config.write_text(yaml.safe_dump({**SETTINGS, "model": {"families": ["lightgbm"], "params": {"n_estimators": 150, "verbose": -1}},
                                      "backtest": {"folds": 2}}))
    figures = {}
    for engine in ("duckdb", "spark"):
        workdir = tmp_path / engine
        assert main(["train", "--engine", engine, "--data", str(folder), "--config", str(config), "--workdir", str(workdir)]) == 0
        [bundle] = (workdir / "models").iterdir()
        figures[engine] = json.loads((bundle / "manifest.json").read_text())
    duck, on_spark = figures["duckdb"], figures["spark"]
    assert duck["metrics"]["model"]["n"] > 500 and duck["metrics"]["model"]["roc_auc"] > 0.6
    assert on_spark["features"] == duck["features"] and on_spark["backtest"] == duck["backtest"]
    for scorer in ("model", "rule"):
        for metric, value in duck["metrics"][scorer].items():
            assert on_spark["metrics"][scorer][metric] == pytest.approx(value, rel=1e-9, abs=1e-12), (scorer, metric)


def test_spark_names_a_folder_it_cannot_read_instead_of_a_traceback(spark, tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id,created_at\nL1,2025-01-01\n")  # an export as CSV: Spark reads Parquet
    with pytest.raises(BadInputError, match=r"leads.*Spark cannot read table 'leads'.*Parquet parts"):
        register_parquet(spark, tmp_path)


def test_a_spark_run_writes_only_its_stage_lines_to_a_redirected_stderr(small_crm, tmp_path):
    """A cron log of `features --engine spark` holds no JVM WARN/INFO lines, no stage bars and no pyspark warnings.

    A process of its own: the lines to keep out come as the JVM starts, before any context exists,
    and the module's session has started its JVM already.
    """
    import re
    import subprocess
    import sys

    folder, _, _ = small_crm
    run = subprocess.run([sys.executable, "-m", "leadscore.pipeline.cli", "features", "--engine", "spark", "--data", str(folder),
                          "--as-of", "2026-01-15", "--out", str(tmp_path / "f.parquet")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert not [line for line in lines if re.search(r"\b(WARN|INFO)\b", line)], run.stderr
    assert not [line for line in lines if "[Stage " in line or "\r" in line or "\x1b[" in line], run.stderr
    assert not [line for line in lines if "log4j" in line or "log level" in line or "Warning" in line], run.stderr
    stages = [line.split(":")[0] for line in lines if re.fullmatch(r"[a-z]+: .+ in \d+\.\d s", line)]
    assert stages == ["load", "features", "write"], run.stderr
    assert (tmp_path / "f.parquet").exists()
