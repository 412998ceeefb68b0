"""The generated lifecycle table follows the generated world: points-table handoffs, Sales judging readiness, deals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.crm import crm_from_frames
from leadscore.features.lifecycle import has_lifecycle, lifecycle_events
from leadscore.features.loaders import load_crm
from leadscore.features.settings import FeatureOptions, FeatureSettings, LifecycleSettings
from leadscore.features.synthetic import SETTINGS, generate_crm, write_crm
from leadscore.features.synthetic.lifecycle import STAGES
from leadscore.models.rules import PointsScorer, load_points_table
from leadscore.pipeline.synthetic_lifecycle import with_lifecycle
from tests.quick_training import QUICK_TRAINING

SYNC = 14


@pytest.fixture(scope="module")
def world():
    return with_lifecycle(generate_crm(1500, seed=5, months=14), sync_days=SYNC)


def _entries(world, stage):
    table = world.lifecycle
    return table[table["stage"] == stage]


def test_leads_become_mql_at_the_sync_where_the_packaged_points_table_first_reaches_its_threshold(world):
    table = load_points_table()
    threshold = table.thresholds.stages["MQL"]
    crm = crm_from_frames(world.leads, world.activities, world.opportunities)
    mql = _entries(world, "MQL")
    assert len(mql) > 20
    sync = mql["entered_at"].dt.floor("D")
    probe = pd.concat([pd.DataFrame({"lead_id": mql["lead_id"], "as_of": sync, "at": "mql"}),
                       pd.DataFrame({"lead_id": mql["lead_id"], "as_of": sync - pd.Timedelta(days=SYNC), "at": "before"})])
    created = probe["lead_id"].map(world.leads.set_index("lead_id")["created_at"])
    probe = probe[created < probe["as_of"]].reset_index(drop=True)
    features = crm.features(probe[["lead_id", "as_of"]], FeatureSettings(features=FeatureOptions(**SETTINGS["features"])))
    points = PointsScorer(table).fit(features, np.arange(len(features)) % 2).decision_function(features)
    at = probe.set_index(["lead_id", "as_of"])["at"].reindex(list(zip(features["lead_id"], features["as_of"]))).to_numpy()
    assert (points[at == "mql"] >= threshold).all()
    assert (points[at == "before"] < threshold).all()


def test_sales_accepts_hot_leads_recycles_cold_ones_and_accepted_leads_open_deals_more_often(world):
    from leadscore.features.synthetic.lifecycle import hidden_state_at
    from leadscore.features.synthetic.personas import COLD, HOT

    table = world.lifecycle
    mql = _entries(world, "MQL").set_index("lead_id")["entered_at"]
    decided = table[table["stage"].isin(["SQL", "Recycled", "Disqualified"]) & table["lead_id"].isin(mql.index)]
    decided = decided[decided["entered_at"].to_numpy() > mql.reindex(decided["lead_id"]).to_numpy()].drop_duplicates("lead_id")
    state = hidden_state_at(world.truth, decided["lead_id"], decided["entered_at"])
    accepted = (decided["stage"] == "SQL").to_numpy()
    assert accepted[state == HOT].mean() > 0.7 and accepted[state == COLD].mean() < 0.2
    deal_within_90d = ((decided["lead_id"].map(world.opportunities.groupby("lead_id")["created_at"].min())
                        - decided["entered_at"]).dt.days <= 90).to_numpy()
    assert deal_within_90d[accepted].mean() > deal_within_90d[~accepted].mean()
    assert (decided.loc[decided["stage"] == "Recycled", "reason"] == "not ready").all()


def test_every_deal_has_its_opportunity_and_an_earlier_acceptance_and_every_win_a_customer_entry(world):
    table = world.lifecycle
    first_opp = world.opportunities.groupby("lead_id")["created_at"].min()
    opp_entries = _entries(world, "Opportunity")
    assert len(opp_entries) == len(world.opportunities)
    first_sql = _entries(world, "SQL").groupby("lead_id")["entered_at"].min()
    assert (first_sql.reindex(first_opp.index) <= first_opp).all()
    assert len(_entries(world, "Customer")) == (world.opportunities["outcome"] == "won").sum()
    mql = _entries(world, "MQL").set_index("lead_id")["entered_at"]
    assert not (mql > first_opp.reindex(mql.index)).any()  # a lead in a deal is past marketing qualification
    assert table["lead_id"].isin(world.leads["lead_id"]).all()


def test_the_written_lifecycle_table_loads_in_order_with_the_settings_the_generator_writes(world, tmp_path):
    import yaml

    paths = write_crm(world, tmp_path)
    crm = load_crm(tmp_path)
    assert has_lifecycle(crm) and crm.summary["lifecycle_rows"] == len(world.lifecycle)
    stages = yaml.safe_load(paths["settings"].read_text())["lifecycle"]["stages"]
    events, warnings = lifecycle_events(crm, LifecycleSettings(stages=stages))
    assert stages == STAGES and warnings == [] and len(events) == len(world.lifecycle)


def test_a_stage_label_trains_on_sql_within_the_horizon_with_the_features_of_the_win_label(world):
    from leadscore.features.dataset import build_training_set
    from leadscore.features.settings import LabelSettings

    crm = crm_from_frames(world.leads, world.activities, world.opportunities, lifecycle=world.lifecycle)
    by_stage = build_training_set(crm, FeatureSettings(), LabelSettings(stage="sql"), LifecycleSettings(stages=STAGES))
    by_wins = build_training_set(crm, FeatureSettings())
    frame = by_stage.frame
    assert 0 < frame["label"].mean() < 0.5 and by_stage.summary["already_at_stage"] > 0
    reached = world.lifecycle[world.lifecycle["stage"].isin(["SQL", "Opportunity", "Customer"])]
    joined = frame[["lead_id", "as_of", "label"]].merge(reached, on="lead_id", how="left")
    inside = (joined["entered_at"] > joined["as_of"]) & (joined["entered_at"] <= joined["as_of"] + pd.Timedelta(days=90))
    expected = inside.groupby([joined["lead_id"], joined["as_of"]]).any().astype(int)
    got = frame.set_index(["lead_id", "as_of"])["label"]
    assert (expected.reindex(got.index).to_numpy() == got.to_numpy()).all()
    common = frame.merge(by_wins.frame, on=["lead_id", "as_of"], suffixes=("", "_wins"))
    names = by_stage.feature_names
    pd.testing.assert_frame_equal(common[names].reset_index(drop=True),
                                  common[[f"{n}_wins" for n in names]].set_axis(names, axis=1).reset_index(drop=True))


@pytest.mark.slow
def test_training_on_a_crm_with_lifecycle_sets_other_thresholds_handoffs_beside_the_actual_ones(tmp_path):
    import json

    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.train import train

    world = with_lifecycle(generate_crm(3000, seed=8, months=24), sync_days=SYNC)
    write_crm(world, tmp_path / "crm")
    config = with_settings(load_config(workdir=str(tmp_path / "work"), rules={"fit": True}), {**SETTINGS, **QUICK_TRAINING})
    result = train(tmp_path / "crm", config)
    report = result.report_paths["html"].read_text()
    assert "Handoff audit" in report and "What other thresholds would have handed over instead" in report
    instead = json.loads(result.report_paths["html"].with_name("metrics.json").read_text())["handoff"]["instead"]
    assert [r["threshold"] for r in instead] == ["actual handoffs (entered MQL)", "model hot threshold",
                                                "points table MQL threshold", "fitted table MQL threshold"]
    actual = instead[0]
    assert actual["passed"] > 0 and actual["actually_handed_share"] == 1.0
    assert instead[1]["passed"] == int((result.test_frame["model_proba"] >= config.grades.hot).sum())  # the held-out leads
    assert all(0 <= r["conversion"] <= 1 for r in instead if r["passed"])
