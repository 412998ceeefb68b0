"""MLflow tracking: an unreachable server is a clear error; aliases never point at a missing version."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.pipeline import tracking
from leadscore.pipeline.cli import main
from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import TrackingError


def test_an_unreachable_tracking_server_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    config = load_config(workdir=str(tmp_path), tracking={"uri": "http://127.0.0.1:9"})
    with pytest.raises(TrackingError, match=r"MLflow tracking store http://127.0.0.1:9 cannot be reached"):
        tracking.client(config)
    (tmp_path / "conf.yaml").write_text("tracking:\n  uri: http://127.0.0.1:9\n")
    assert main(["promote", "--config", str(tmp_path / "conf.yaml"), "--workdir", str(tmp_path)]) == 5
    assert "cannot be reached" in capsys.readouterr().err


def test_champion_and_challenger_aliases_point_at_registered_versions(trained):
    config, _, result = trained
    assert tracking.alias_version(config, tracking.CHALLENGER) == result.model_version
    assert tracking.alias_version(config, tracking.CHAMPION) == result.model_version
    bundle_dir = tracking.download_bundle(config, f"models:/{config.tracking.model_name}@champion")
    assert (bundle_dir / "manifest.json").exists()


def test_an_unknown_model_uri_is_a_clear_error(trained):
    config = trained[0]
    with pytest.raises(TrackingError, match="no such registered model version"):
        tracking.resolve(config, "models:/leadscore@nonexistent")


def test_a_champion_trained_with_other_feature_settings_is_judged_by_its_own_logged_metric(trained, monkeypatch):
    from leadscore.models import bundle as model_bundle
    from leadscore.pipeline.champion import champion_score_on

    config, _, result = trained
    version = str(result.model_version)
    monkeypatch.setattr(tracking, "version_metrics", lambda *args: {f"test_{config.tracking.promotion_metric}": 0.123})
    on_same_leads = champion_score_on(config, version, version)
    assert on_same_leads == pytest.approx(result.metrics["model"][config.tracking.promotion_metric])

    load = model_bundle.load_bundle

    def with_other_competitors(folder, expected_sha256):
        bundle = load(folder, expected_sha256)
        bundle.manifest["feature_settings"]["features"]["competitor_markers"] = ["someone else"]
        return bundle

    monkeypatch.setattr(model_bundle, "load_bundle", with_other_competitors)
    assert champion_score_on(config, version, version) == 0.123


def test_the_registered_mlflow_model_scores_the_feature_builders_own_frames(trained):
    """Any MLflow tool can score the champion on what `build_features` returns, counts as integers."""
    import numpy as np

    from leadscore.pipeline import api

    config, crm, result = trained
    features = api.build_features(crm, as_of=crm.data_end.normalize(), config=config)
    X = features[result.bundle.feature_names]
    assert any(pd.api.types.is_integer_dtype(X[c]) and X[c].max() > 1 for c in X)  # the case MLflow refused
    model = tracking._mlflow(config).pyfunc.load_model(f"models:/{config.tracking.model_name}@champion")
    served = model.predict(X)["probability"].to_numpy()
    np.testing.assert_allclose(served, result.bundle.calibrated.predict_proba(X)[:, 1])


@pytest.mark.parametrize("version", ["999", "abc"])
def test_promoting_a_version_that_does_not_exist_is_bad_input_listing_the_registered_ones(trained, version, capsys):
    config, _, result = trained
    assert main(["promote", "--workdir", config.workdir, "--version", version]) == 2
    err = capsys.readouterr().err
    assert f"--version {version}: {config.tracking.model_name} has no such version" in err
    listed = err.split("registered versions:")[1].replace("\n", " ")
    assert result.model_version in {v.strip() for v in listed.split(",")}
    assert tracking.alias_version(config, tracking.CHAMPION) == result.model_version


def test_a_logged_datasets_schema_is_the_one_mlflow_infers_value_by_value():
    """The schema read from a sample's types and a vectorised blank check equals MLflow's own, blanks past the sample included."""
    import mlflow
    from mlflow.types.utils import _infer_schema

    rows = tracking.SCHEMA_SAMPLE_ROWS + 500
    frame = pd.DataFrame({
        "number": [float(i) for i in range(rows)],
        "late_blank": [1.0] * (rows - 1) + [None],  # the only blank is beyond the sample
        "text": pd.Series(["a", None] * (rows // 2), dtype="string"),
        "count": list(range(rows)),
        "as_of": pd.Timestamp("2024-01-01", tz="UTC"),
        "label": [0, 1] * (rows // 2),
    })
    logged = tracking._dataset(mlflow, frame, "features.parquet", "training").schema
    assert logged.to_dict() == _infer_schema(frame).to_dict()
    assert not next(spec for spec in logged.inputs if spec.name == "late_blank").required
