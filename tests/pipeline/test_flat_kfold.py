"""K-fold cross-validation of a small flat export: every row tested once, by a model that never saw its label."""

import json

import numpy as np
import pandas as pd
import pytest

from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.pipeline.config import load_config
from leadscore.pipeline.cross_validation import cross_validate, fold_window
from leadscore.pipeline.errors import InsufficientDataError
from leadscore.pipeline.flat import _scored, train_flat
from leadscore.pipeline.flat_table import flat_registry

from .flat_exports import POINTS_TABLE, flat_section, lead_export, write_export


def _rows(n=600, seed=0, k=5):
    export = lead_export(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    folds = rng.permutation(np.arange(n) % k)
    rows = pd.DataFrame({"lead_id": export["lead"], "as_of": pd.Timestamp("2000-01-01", tz="UTC") + pd.to_timedelta(folds * 7, unit="D"),
                         "label": (export["outcome"] == "won").astype(int), "age": export["age"].astype(float),
                         "visits": export["visits"].astype(float), "job": export["job"].astype("category")})
    return rows, folds


def test_each_fold_is_scored_by_a_model_that_fits_and_calibrates_on_other_folds():
    rows, folds = _rows()
    config = load_config()
    for tested in range(5):
        w = fold_window(rows, folds, tested, config)
        test = folds == tested
        assert not (test & (w.fit | w.validation | w.calibration)).any()
        assert (w.fit | w.validation | w.calibration | test).all()
        assert not (w.calibration & (w.fit | w.validation)).any() and w.calibration.any() and w.fit.any()
    deployed = fold_window(rows, folds, None, config)
    assert (deployed.calibration == (folds == 4)).all() and (deployed.train == (folds != 4)).all()


@pytest.mark.slow
def test_a_folds_scores_do_not_depend_on_its_own_labels(tmp_path):
    """Flip every label of fold 1: its rows' scores stay the same, so no model that scored them saw them."""
    rows, folds = _rows()
    config = load_config(model={"families": ["logistic", "lightgbm"]})
    (tmp_path / "points.yaml").write_text(POINTS_TABLE)
    table = load_points_table(tmp_path / "points.yaml")
    registry = flat_registry({"age": "number", "visits": "number", "job": "category"}, ("age", "job"))
    run = lambda frame: cross_validate(frame, ["age", "visits", "job"], folds, config,  # noqa: E731
                                       lambda: PointsScorer(table, features=registry), lambda part, cal, pts: _scored(part, cal, pts, config))
    core = run(rows)
    flipped = run(rows.assign(label=np.where(folds == 0, 1 - rows["label"], rows["label"])))
    fold_one = lambda c: c.backtest_frame[c.backtest_frame["fold"] == 1].set_index("lead_id")["model_proba"].sort_index()  # noqa: E731
    pd.testing.assert_series_equal(fold_one(core), fold_one(flipped))
    # every row is tested exactly once, in its own fold
    pooled = core.backtest_frame.set_index("lead_id")
    assert pooled.index.is_unique and len(pooled) == len(rows)
    assert (pooled.loc[rows["lead_id"], "fold"].to_numpy() == folds + 1).all()
    assert len(core.backtest) == 5 and set(core.backtest["calibrated_from"]) == {f"fold {i}" for i in range(1, 6)}
    assert core.selection["chosen_in_folds"].sum() == 5 and core.candidate.name in set(core.backtest["family"])


@pytest.mark.slow
def test_a_small_export_trains_by_cross_validation_and_the_report_says_so(tmp_path):
    path, table = write_export(tmp_path, lead_export(n=600))
    config = load_config(workdir=str(tmp_path / "w"), flat=flat_section(path, table, date_column=None, split={"by": "kfold", "folds": 4}))
    result = train_flat(config, out=tmp_path / "report")
    assert result.split["by"] == "kfold" and result.split["test_rows"] == 600
    assert "4-fold cross-validation" in result.split["why"]
    assert result.split["calibration_from"] == "fold 4 of 4" and result.split["calibration_rows"] + result.split["train_rows"] == 600
    html = result.report_paths["html"].read_text()
    assert "<h2>Cross-validation</h2>" in html and "Rolling-origin backtest" not in html and "fold 1 of 4" in html
    figures = json.loads(result.report_paths["json"].read_text())
    assert figures["window"]["rows"] == 600 and figures["window"]["cross_validated"] == 4
    assert [f["fitted_to"] for f in figures["backtest"]] == ["the other 3 folds"] * 4


def test_a_fold_with_too_few_wins_is_an_error_naming_the_folds_key(tmp_path):
    export = lead_export(n=600)
    export["outcome"] = np.where(np.arange(600) < 30, "won", "lost")  # 30 wins in 20 folds: some hold one
    path, table = write_export(tmp_path, export)
    config = load_config(workdir=str(tmp_path / "w"), flat=flat_section(path, table, date_column=None, split={"by": "kfold", "folds": 20}),
                         split={"min_won": 20, "min_lost": 40})
    with pytest.raises(InsufficientDataError, match=r"fold \d+ holds 1 win and \d+ losses: .*\(flat.split.folds\)"):
        train_flat(config)


def test_fewer_than_three_folds_is_a_config_error_naming_the_key():
    with pytest.raises(Exception, match="folds"):
        load_config(flat={"path": "x.csv", "outcome_column": "outcome", "split": {"by": "kfold", "folds": 2}})
