"""Batch scoring: idempotent, atomic, chunking changes nothing, schema and drift stop the run clearly."""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pytest

from leadscore.features.builder import build_features
from leadscore.pipeline.cli import exit_code_of, main
from leadscore.pipeline.config import feature_settings, load_config, with_feature_settings, with_settings
from leadscore.pipeline.errors import BadInputError, DriftError, LeadscoreError, SchemaMismatchError
from leadscore.pipeline.score import OUTPUT_COLUMNS, score
from leadscore.pipeline.vocabulary import with_crm_vocabulary
from tests.quick_training import QUICK_TRAINING

AS_OF = "2026-05-01"


def _score(trained, out, **kwargs):
    config, crm, _ = trained
    kwargs.setdefault("history", False)  # the shared model's working folder is read-only: history tests have their own
    return score(None, AS_OF, kwargs.pop("config", config), crm=crm, out=out, log_to_mlflow=False, **kwargs)


def test_output_has_one_row_per_open_lead_with_reasons_for_the_top(trained, tmp_path):
    result = _score(trained, tmp_path / "scores.parquet")
    frame = pd.read_parquet(tmp_path / "scores.parquet")
    assert list(frame.columns) == list(OUTPUT_COLUMNS)
    assert frame["lead_id"].is_unique and len(frame) == result.counts["leads"]
    assert frame["probability"].between(0, 1).all() and frame["score"].between(0, 100).all()
    top = frame.nlargest(max(1, len(frame) // 20), "probability")
    assert (top["reasons_model_up"].map(len) > 0).all()  # lists of text in Parquet
    assert (frame.loc[frame["rule_segment"] == "hot", "reasons_rule"].map(len) > 0).all()
    assert frame["model_version"].iloc[0] == trained[2].model_version


def test_a_rerun_writes_byte_identical_output(trained, tmp_path):
    _score(trained, tmp_path / "a.parquet")
    first = (tmp_path / "a.parquet").read_bytes()
    _score(trained, tmp_path / "a.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == first
    _score(trained, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text().splitlines()[0].startswith("lead_id,as_of,model_name")


def test_chunked_result_equals_unchunked(trained, tmp_path):
    config = trained[0]
    small = config.model_copy(update={"scoring": config.scoring.model_copy(update={"chunk_size": 97})})
    whole = _score(trained, tmp_path / "whole.parquet").frame
    chunked = _score(trained, tmp_path / "chunked.parquet", config=small).frame
    pd.testing.assert_frame_equal(whole, chunked)


def test_scoring_builds_features_with_the_settings_the_model_was_trained_with(trained, tmp_path, capsys):
    config, crm, result = trained
    recorded = result.bundle.manifest["feature_settings"]
    # the config's feature settings, and the activity types training read from the data
    assert recorded == feature_settings(with_crm_vocabulary(config, crm)) and recorded["features"]["competitor_markers"]
    assert set(recorded["features"]["present_activity_types"]) == set(crm.table("activities")["activity_type"])
    default = load_config(workdir=config.workdir)  # names no competitor, as a scheduled job's config might
    assert with_feature_settings(default, recorded)[1] == ["features.competitor_markers"]
    capsys.readouterr()
    with_training_config = _score(trained, tmp_path / "a.parquet").frame
    with_default_config = _score(trained, tmp_path / "b.parquet", config=default).frame
    warnings = capsys.readouterr().err
    pd.testing.assert_frame_equal(with_training_config, with_default_config)
    assert "features.competitor_markers" in warnings
    # the settings change features: without them the competitors would score differently
    built = {name: build_features(crm, result.test_frame[["lead_id", "as_of"]], c.for_features)["is_competitor"].sum()
             for name, c in (("trained", config), ("default", default))}
    assert built["trained"] > 0 and built["default"] == 0


def test_a_bundle_without_recorded_settings_keeps_the_config():
    config = load_config()
    assert with_feature_settings(config, None) == (config, [])


def test_settings_this_version_cannot_read_are_a_schema_mismatch_naming_them():
    recorded = {"features": {"competitor_markers": ["acme"], "buying_signals": ["x"]}}
    with pytest.raises(SchemaMismatchError, match="features.buying_signals"):
        with_feature_settings(load_config(), recorded)


def test_a_failure_mid_write_leaves_the_previous_file(trained, tmp_path, monkeypatch):
    out = tmp_path / "scores.parquet"
    _score(trained, out)
    before = out.read_bytes()
    drift_before = b'[{"previous": "drift report"}]'
    (tmp_path / "scores.drift.json").write_bytes(drift_before)

    def crash(self, *args, **kwargs):
        with open(args[0], "wb") as handle:
            handle.write(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(LeadscoreError, match=r"scores.parquet: cannot be written \(OSError: disk full\); the previous file is unchanged"):
        _score(trained, out)
    assert out.read_bytes() == before
    assert (tmp_path / "scores.drift.json").read_bytes() == drift_before  # the drift report stays with its scores
    assert not list(tmp_path.glob(".scores.*.tmp"))


def test_two_runs_at_once_for_the_same_output_do_not_corrupt_it(trained, tmp_path):
    out = tmp_path / "scores.parquet"
    errors = []

    def run():
        try:
            _score(trained, out)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    reference = tmp_path / "reference.parquet"
    _score(trained, reference)
    assert out.read_bytes() == reference.read_bytes()


def test_a_model_whose_schema_differs_is_refused_with_exit_code_3(trained, tmp_path, monkeypatch):
    config, crm, result = trained
    bundle = result.bundle
    monkeypatch.setitem(bundle.manifest["features"]["dtypes"], "no_such_feature", "number")
    monkeypatch.setattr("leadscore.pipeline.score.resolve_model", lambda config, _: (bundle, "leadscore", "x", config))
    with pytest.raises(SchemaMismatchError, match="missing columns no_such_feature") as err:
        _score(trained, tmp_path / "s.parquet")
    assert exit_code_of(err.value) == 3


def test_drift_beyond_limits_fails_only_with_fail_on_drift_and_keeps_the_old_output(trained, tmp_path):
    config = trained[0]
    strict = config.model_copy(update={"scoring": config.scoring.model_copy(
        update={"drift": config.scoring.drift.model_copy(update={"psi_fail": 0.0, "psi_warn": 0.0})})})
    out = tmp_path / "scores.parquet"
    _score(trained, out)
    before = out.read_bytes()
    result = _score(trained, out, config=strict)
    assert result.drift_exceeded
    with pytest.raises(DriftError, match="scores were not written") as err:
        _score(trained, out, config=strict, fail_on_drift=True)
    assert exit_code_of(err.value) == 4
    assert out.read_bytes() == before


def test_scores_upsert_into_a_database_by_lead_and_as_of(trained, tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    first = _score(trained, tmp_path / "s.parquet", db_url=url)
    _score(trained, tmp_path / "s.parquet", db_url=url)
    with sa.create_engine(url).connect() as con:
        rows = con.execute(sa.text("SELECT count(*), count(DISTINCT lead_id) FROM lead_scores")).fetchone()
    assert rows[0] == rows[1] == first.counts["leads"]


@pytest.fixture
def own_champion(trained, tmp_path):
    """A model trained and promoted in a working folder of the test's own: (config, result).

    The score command logs a run and its drift report to the working folder's MLflow store;
    the shared `trained` store stays as its fixture left it for every other test.
    """
    from leadscore.pipeline.train import train

    shared, crm, _ = trained
    config = with_settings(shared.model_copy(update={"workdir": str(tmp_path / "work")}), QUICK_TRAINING)
    return config, train(None, config, promote=True, crm=crm)


def test_score_command_uses_the_champion_from_the_registry(own_champion, tmp_path, capsys, synthetic_dir):
    config, result = own_champion
    out = tmp_path / "cli.parquet"
    code = main(["score", "--data", str(synthetic_dir), "--workdir", config.workdir, "--out", str(out), "--as-of", "2025-12-01"])
    assert code == 0, capsys.readouterr().err
    assert f"v{result.model_version}" in capsys.readouterr().out
    assert pd.read_parquet(out)["model_version"].iloc[0] == result.model_version
    _assert_the_runs_are_named_and_the_scoring_run_links_its_model_version(config, result)
    assert main(["score", "--help"]) == 0
    assert "4 drift beyond limits" in capsys.readouterr().out.replace("\n", " ")


def _assert_the_runs_are_named_and_the_scoring_run_links_its_model_version(config, result):
    from mlflow.tracking import MlflowClient

    from leadscore.pipeline import tracking

    client = MlflowClient(tracking_uri=config.tracking_uri(), registry_uri=config.tracking_uri())
    scoring = client.get_experiment_by_name(config.tracking.scoring_experiment_name())
    runs = client.search_runs([scoring.experiment_id], filter_string="tags.`leadscore.stage` = 'score'")
    assert [r.info.run_name for r in runs] == ["score-2025-12-01"]
    assert runs[0].data.tags[tracking.MODEL_VERSION_TAG] == result.model_version
    assert runs[0].data.tags["leadscore.model_run_id"] == result.run_id
    training = client.get_experiment_by_name(config.tracking.experiment)
    trained_runs = client.search_runs([training.experiment_id])
    assert all(r.data.tags["leadscore.stage"] == "train" for r in trained_runs)  # scoring runs stay out of training's experiment
    assert client.get_run(result.run_id).info.run_name.startswith("train-20")
    version = client.get_model_version(config.tracking.model_name, result.model_version)
    assert "Test ROC AUC" in version.description and "points table" in version.description
    assert float(version.tags["leadscore.test_roc_auc"]) == pytest.approx(result.metrics["model"]["roc_auc"], abs=1e-4)
    assert version.tags[tracking.PROMOTION_TAG] == "promoted" and version.tags[f"{tracking.PROMOTION_TAG}_reason"].startswith("promoted:")


def test_a_model_path_outside_the_store_is_refused(trained, tmp_path):
    config, _, result = trained
    import shutil

    outside = tmp_path / "elsewhere"
    shutil.copytree(result.bundle_dir, outside)
    with pytest.raises(SchemaMismatchError, match="refusing to load a model from outside the configured store"):
        _score(trained, tmp_path / "s.parquet", model=str(outside))


def test_reason_candidates_across_chunks_hold_the_overall_top_ties_included_and_every_hot_lead():
    from leadscore.pipeline.reasons import ReasonCandidates

    rng = np.random.default_rng(3)
    proba = np.round(rng.random(1000), 2)  # many ties
    hot = rng.random(1000) < 0.05
    features = pd.DataFrame({"lead_id": [f"L{i}" for i in range(1000)], "x": np.arange(1000)})
    pool = ReasonCandidates(top_n=100)
    for start in range(0, 1000, 137):
        pool.add(features.iloc[start:start + 137], proba[start:start + 137], hot[start:start + 137])
    kept = set(pool.frame["lead_id"])
    overall = pd.Series(proba, index=features["lead_id"])
    cutoff = overall.nlargest(100).min()
    assert set(overall[overall >= cutoff].index) <= kept
    assert set(features.loc[hot, "lead_id"]) <= kept
    assert len(kept) < 250  # bounded: the top (with ties) and the hot ones, not every row seen


def test_outputs_get_the_permissions_the_umask_gives_any_new_file(trained, tmp_path):
    previous = os.umask(0o027)
    try:
        _score(trained, tmp_path / "s.parquet")
    finally:
        os.umask(previous)
    modes = {name: oct((tmp_path / name).stat().st_mode & 0o777) for name in ("s.parquet", "s.drift.json")}
    assert modes == {"s.parquet": "0o640", "s.drift.json": "0o640"}


def _files(folder):
    """Return (name, inode, bytes) of each output in `folder`: a replaced file has a new inode."""
    return {(p.name, p.stat().st_ino, p.read_bytes()) for p in folder.iterdir() if not p.name.startswith(".")}


def test_a_database_that_refuses_the_rows_replaces_no_file(trained, tmp_path):
    import sqlalchemy as sa

    out = tmp_path / "out" / "s.parquet"
    _score(trained, out)
    before = _files(out.parent)
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with sa.create_engine(url).begin() as con:  # a table of the name, without the score columns
        con.execute(sa.text("CREATE TABLE lead_scores (lead_id TEXT, as_of TEXT)"))
    with pytest.raises(LeadscoreError, match=r"table lead_scores: upsert failed and was rolled back: .*no column") as err:
        _score(trained, out, db_url=url)
    assert exit_code_of(err.value) == 1
    assert _files(out.parent) == before


def test_a_failed_file_write_rolls_the_database_rows_back(trained, tmp_path, monkeypatch):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    _score(trained, tmp_path / "s.parquet", db_url=url)
    with sa.create_engine(url).begin() as con:
        con.execute(sa.text("UPDATE lead_scores SET probability = -1"))

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("leadscore.pipeline.publish.write_frame", disk_full)
    with pytest.raises(LeadscoreError, match="disk full"):
        _score(trained, tmp_path / "s.parquet", db_url=url)
    with sa.create_engine(url).connect() as con:
        assert con.execute(sa.text("SELECT DISTINCT probability FROM lead_scores")).fetchall() == [(-1.0,)]


def test_bad_output_or_database_arguments_are_refused_before_the_model_is_loaded(trained, tmp_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("loaded the model before checking the arguments")

    monkeypatch.setattr("leadscore.pipeline.score.resolve_model", forbidden)
    with pytest.raises(BadInputError, match=r"scores.json: output must end in .parquet or .csv"):
        _score(trained, tmp_path / "scores.json")
    with pytest.raises(BadInputError, match="--db-table 'x;drop'"):
        _score(trained, tmp_path / "s.parquet", db_url=f"sqlite:///{tmp_path / 'crm.db'}", db_table="x;drop")
    with pytest.raises(LeadscoreError, match="cannot be reached: unable to open database file"):
        _score(trained, tmp_path / "s.parquet", db_url="sqlite:////nonexistent/x.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("old", ["no_format", "old_module_names"])
def test_a_bundle_saved_before_the_leadscore_namespace_is_refused_with_exit_code_3(trained, tmp_path, capsys, synthetic_dir, old):
    """Bundles whose pickle names the old top-level `models` package say "retrain", never ModuleNotFoundError."""
    import hashlib
    import json
    import shutil

    _, _, result = trained
    workdir = tmp_path / "work"  # the bundle goes into a model store of the test's own, not the shared one
    folder = workdir / "models" / f"old-{old}"
    shutil.copytree(result.bundle_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    if old == "no_format":
        del manifest["bundle_format"]
    else:  # a pickle of a class under the old module name, with a matching hash
        payload = b"\x80\x02cmodels.lgbm\nLeadScoringModel\n)\x81."  # GLOBAL, empty args, NEWOBJ, STOP
        (folder / "model.joblib").write_bytes(payload)
        manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code = main(["score", "--data", str(synthetic_dir), "--workdir", str(workdir), "--model", str(folder),
                 "--out", str(tmp_path / "s.parquet"), "--as-of", "2025-12-01"])
    message = capsys.readouterr().err
    assert code == 3
    assert "retrain" in message and "ModuleNotFoundError" not in message and "Traceback" not in message
    assert not (tmp_path / "s.parquet").exists()


def test_leads_in_sales_pipeline_are_left_out_and_counted_or_scored_flagged_by_the_population_rule(trained, tmp_path, capsys):
    from leadscore.features.snapshots import scoring_snapshots

    config, crm, _ = trained
    at = scoring_snapshots(crm, pd.Timestamp(AS_OF, tz="UTC"))
    in_pipeline = set(at.loc[at["in_sales_pipeline"], "lead_id"])
    assert in_pipeline  # the shared CRM has leads with an open opportunity at AS_OF
    excluded = _score(trained, tmp_path / "excluded.parquet")
    assert not in_pipeline & set(excluded.frame["lead_id"]) and excluded.counts["in_sales_pipeline_left_out"] == len(in_pipeline)
    assert f"{len(in_pipeline):,} open leads with an open opportunity left out of the scores" in capsys.readouterr().err
    included = _score(trained, tmp_path / "included.parquet", config=config.model_copy(
        update={"population": config.population.model_copy(update={"open_opportunities": "include"})}))
    frame = pd.read_parquet(tmp_path / "included.parquet")
    assert list(frame.columns) == [*OUTPUT_COLUMNS, "in_sales_pipeline"] and included.counts["in_sales_pipeline_left_out"] == 0
    assert set(frame.loc[frame["in_sales_pipeline"], "lead_id"]) == in_pipeline
    assert set(frame.loc[~frame["in_sales_pipeline"], "lead_id"]) == set(excluded.frame["lead_id"])
    common = frame.loc[~frame["in_sales_pipeline"]].set_index("lead_id")["probability"]
    pd.testing.assert_series_equal(common.sort_index(), excluded.frame.set_index("lead_id")["probability"].sort_index())
