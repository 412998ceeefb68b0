"""`leadscore rules fit` end to end: fit → check → score gives the same points; --from keeps the user's rules; own vocabularies."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.pipeline.cli import main


@pytest.fixture(scope="module")
def crm_dir(trained_crm, tmp_path_factory):
    from leadscore.features.synthetic import write_crm

    folder = tmp_path_factory.mktemp("fit_crm")
    write_crm(trained_crm, folder)
    return folder


@pytest.mark.slow  # builds the features of a 5,000-lead CRM
def test_fit_check_score_round_trip_and_from_a_users_table(crm_dir, tmp_path, capsys):
    from leadscore.features.loaders import load_crm
    from leadscore.features.registry import all_features
    from leadscore.features.dataset import build_training_set
    from leadscore.models.rules import PointsScorer, load_points_table
    from leadscore.models.rules.table import default_table_path
    from leadscore.pipeline.catalog import engine_settings
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.crm_settings import fit_to_crm

    out = tmp_path / "fitted.yaml"
    config = ["--config", str(crm_dir / "leadscore.yaml")]
    assert main(["rules", "fit", "--data", str(crm_dir), "--out", str(out), *config]) == 0
    printed = capsys.readouterr().out
    assert "fitted points table" in printed and out.with_suffix(".csv").read_text().startswith("rule,condition,points")
    assert main(["rules", "--check", "--table", str(out), *config]) == 0
    assert "the table is valid" in capsys.readouterr().out

    table = load_points_table(out)
    assert 0 < len(table.rules) <= 12 and all(r.points % 5 == 0 for r in table.rules)
    cuts = [*table.thresholds.stages.values(), *table.thresholds.segments.values()]
    assert all(float(cut).is_integer() for cut in cuts), cuts  # thresholds people type, even when decay gives fractions
    cfg = load_config(crm_dir / "leadscore.yaml")
    crm = load_crm(crm_dir, engine_settings(cfg))
    cfg = fit_to_crm(cfg, crm)
    frame = build_training_set(crm, cfg.for_features).frame
    registry = {f.name: f for f in all_features(cfg.for_features)}
    scored = PointsScorer(table, features=registry).fit(frame, frame["label"]).decision_function(frame)
    assert np.unique(scored).size > 3 and np.corrcoef(scored, frame["label"])[0, 1] > 0

    mine = tmp_path / "from.yaml"
    assert main(["rules", "fit", "--data", str(crm_dir), "--from", str(default_table_path()), "--out", str(mine), *config]) == 0
    from_table = load_points_table(mine)
    packaged = {r.id for r in load_points_table().rules}
    kept = {r.id for r in from_table.rules} & packaged
    assert len(packaged - kept) <= 3 + sum(1 for r in load_points_table().rules if r.feature not in frame.columns)
    assert len({r.id for r in from_table.rules} - packaged) <= 3
    assert "→" in capsys.readouterr().out


def test_fit_from_a_table_naming_an_unknown_feature_is_bad_input(tmp_path, synthetic_dir, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{id: x, feature: nope, condition: {at_least: 1}, points: 5}]\n"
                   "thresholds: {stages: {MQL: 1, SQL: 2}, segments: {nurture: 1, hot: 2}}\n")
    assert main(["rules", "fit", "--data", str(synthetic_dir), "--from", str(bad), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "rule 'x' names unknown feature 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "o.yaml").exists()


@pytest.mark.slow  # builds the features of a 5,000-lead CRM in its own vocabulary
def test_a_crm_with_its_own_vocabulary_gets_a_fitted_table_with_no_hand_written_rules(trained_crm):
    from leadscore.features.crm import crm_from_frames
    from leadscore.features.dataset import build_training_set
    from leadscore.features.registry import all_features
    from leadscore.models.rules import load_points_table
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.crm_settings import fit_to_crm
    from leadscore.pipeline.rules_fitting import fit_table_on_split, should_fit
    from leadscore.features.vocabulary import produced_roles
    from leadscore.pipeline.split import split_by_time
    from tests.pipeline.test_own_vocabulary import own_vocabulary

    crm = crm_from_frames(trained_crm.leads, own_vocabulary(trained_crm.activities), trained_crm.opportunities)
    config = fit_to_crm(load_config(), crm)
    training = build_training_set(crm, config.for_features)
    registry = {f.name: f for f in all_features(config.for_features)}
    packaged = load_points_table()
    assert should_fit(config, packaged, registry, produced_roles(config.for_features), packaged=True)
    split = split_by_time(training.frame, config)
    fitted = fit_table_on_split(training.frame, training.feature_names, split, config, registry, packaged)
    assert 0 < len(fitted.table.rules) <= 12
    assert any(r.feature.startswith("type_") for r in fitted.table.rules)  # the CRM's own activity types score
    t = fitted.table.thresholds
    assert t.stages["MQL"] <= t.stages["SQL"] and t.segments["nurture"] <= t.segments["hot"]
