"""The synthetic CRM: deterministic, on contract, realistic behaviour, and an exact oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.features.contract import ACTIVITY_TYPES, ACTIVITIES, LEADS, OFFLINE_ACTIVITY_TYPES, OPPORTUNITIES
from leadscore.features.synthetic import generate_crm, true_probability
from leadscore.pipeline.cli import main


def test_same_seed_gives_identical_tables_and_another_seed_does_not():
    a, b, c = generate_crm(300, seed=3, months=6), generate_crm(300, seed=3, months=6), generate_crm(300, seed=4, months=6)
    for name in ("leads", "activities", "opportunities", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.activities.equals(c.activities)


def test_tables_follow_the_contract(synthetic):
    for table in (LEADS, ACTIVITIES, OPPORTUNITIES):
        frame = getattr(synthetic, table.name)
        assert list(frame.columns)[: len(table.columns)] == list(table.column_names)
        for key in table.key:
            assert frame[key].is_unique
        for column in table.time_columns:
            assert str(frame[column].dtype) == "datetime64[us, UTC]"
    assert set(synthetic.activities["activity_type"]) == set(ACTIVITY_TYPES)
    offline = synthetic.activities["activity_type"].isin(sorted(OFFLINE_ACTIVITY_TYPES))
    assert (synthetic.activities.loc[offline, "channel"] == "offline").all()
    assert (synthetic.activities.loc[~offline, "channel"] == "online").all()


def test_no_activity_before_creation_or_after_a_lead_is_closed(synthetic):
    acts = synthetic.activities.merge(synthetic.leads[["lead_id", "created_at"]], on="lead_id")
    assert (acts["occurred_at"] > acts["created_at"]).all()
    closed = synthetic.opportunities.dropna(subset=["closed_at"])[["lead_id", "closed_at"]]
    after = synthetic.activities.merge(closed, on="lead_id")
    assert (after["occurred_at"] < after["closed_at"]).all()
    opp = synthetic.opportunities.dropna(subset=["closed_at"])
    assert (opp["closed_at"] >= opp["created_at"]).all()
    assert set(synthetic.opportunities["lead_id"]) <= set(synthetic.leads["lead_id"])


def _win_rate_by_persona(crm):
    personas = crm.truth.drop_duplicates("lead_id").set_index("lead_id")["persona"]
    won = set(crm.opportunities.loc[crm.opportunities["outcome"] == "won", "lead_id"])
    frame = pd.DataFrame({"persona": personas, "won": personas.index.isin(won)})
    return frame.groupby("persona")["won"].mean()


def test_ideal_fit_leads_win_several_times_more_often_than_students_and_tyre_kickers(synthetic):
    rates = _win_rate_by_persona(synthetic)
    assert rates["ideal_fit"] > 4 * max(rates["student"], rates["tyre_kicker"])
    assert rates["ideal_fit"] > 0.2


def test_unsubscribed_and_bounced_leads_get_no_more_email(synthetic):
    acts = synthetic.activities
    email = acts[acts["activity_type"].isin(["email_sent", "email_open", "email_click"])]
    for stop in ("unsubscribe", "email_bounce"):
        first = acts[acts["activity_type"] == stop].groupby("lead_id")["occurred_at"].min().rename("stopped_at")
        assert len(first) > 10
        later = email.merge(first, left_on="lead_id", right_index=True)
        # an open of the very email that carried the unsubscribe link can precede it; nothing follows
        assert not (later["occurred_at"] > later["stopped_at"] + pd.Timedelta(days=2)).any()


def test_web_visits_burst_before_a_demo_request(synthetic):
    acts = synthetic.activities
    visits = acts[acts["activity_type"] == "web_visit"][["lead_id", "occurred_at"]]
    demos = acts[acts["activity_type"] == "demo_request"].drop_duplicates("lead_id")[["lead_id", "occurred_at"]]
    joined = visits.merge(demos.rename(columns={"occurred_at": "demo_at"}), on="lead_id")
    before = ((joined["occurred_at"] < joined["demo_at"]) & (joined["occurred_at"] >= joined["demo_at"] - pd.Timedelta(days=14))).sum()
    per_demo_14d = before / len(demos)
    days_alive = (synthetic.end - synthetic.leads["created_at"]).dt.days.clip(lower=1).sum()
    baseline_14d = len(visits) / days_alive * 14
    assert per_demo_14d > 3 * baseline_14d


def test_oracle_matches_realised_win_rates_and_ranks_well(synthetic):
    dates = pd.date_range("2024-04-01", "2025-09-01", freq="30D", tz="UTC")
    leads = synthetic.leads[["lead_id", "created_at"]]
    snaps = pd.concat([leads[leads["created_at"] < d].assign(as_of=d) for d in dates], ignore_index=True)
    p = true_probability(synthetic.truth, snaps, horizon_days=90)
    snaps = snaps[~np.isnan(p)].assign(p=p[~np.isnan(p)])
    won = synthetic.opportunities.loc[synthetic.opportunities["outcome"] == "won", ["lead_id", "closed_at"]]
    snaps = snaps.merge(won, on="lead_id", how="left")
    y = ((snaps["closed_at"] > snaps["as_of"]) & (snaps["closed_at"] <= snaps["as_of"] + pd.Timedelta(days=90))).astype(int)
    # calibration: mean truth equals the realised rate within sampling error
    se = np.sqrt(snaps["p"].mean() * (1 - snaps["p"].mean()) / len(snaps))
    assert abs(y.mean() - snaps["p"].mean()) < 4 * se
    top = snaps["p"] >= snaps["p"].quantile(0.9)
    assert abs(y[top].mean() - snaps.loc[top, "p"].mean()) < 0.03
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, snaps["p"]) > 0.8


def test_closed_and_unborn_leads_have_no_oracle_probability(synthetic):
    opp = synthetic.opportunities.dropna(subset=["closed_at"]).iloc[:5]
    after_close = pd.DataFrame({"lead_id": opp["lead_id"], "as_of": opp["closed_at"] + pd.Timedelta(days=2)})
    first = synthetic.leads.iloc[-5:]
    before_birth = pd.DataFrame({"lead_id": first["lead_id"], "as_of": first["created_at"] - pd.Timedelta(days=2)})
    assert np.isnan(true_probability(synthetic.truth, pd.concat([after_close, before_birth]))).all()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_generate_command_writes_every_table(tmp_path, fmt):
    assert main(["generate", "--leads", "200", "--months", "6", "--seed", "1", "--out", str(tmp_path), "--format", fmt]) == 0
    for name in ("leads", "activities", "opportunities"):
        assert (tmp_path / f"{name}.{fmt}").stat().st_size > 0
    assert (tmp_path / "truth.parquet").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_written_settings_name_the_competitors_so_is_competitor_finds_that_persona(synthetic, synthetic_dir):
    from leadscore.features.builder import build_features
    from leadscore.features.crm import crm_from_frames
    from leadscore.pipeline.config import load_config

    crm = crm_from_frames(synthetic.leads, synthetic.activities, synthetic.opportunities)
    snaps = pd.DataFrame({"lead_id": synthetic.leads["lead_id"], "as_of": crm.data_end})
    persona = synthetic.truth.drop_duplicates("lead_id").set_index("lead_id")["persona"]
    for config, expected_share in ((load_config(synthetic_dir / "leadscore.yaml"), None), (load_config(), 0.0)):
        flagged = build_features(crm, snaps, config.for_features).set_index("lead_id")["is_competitor"]
        rivals = persona.reindex(flagged.index.astype(str)) == "competitor"
        if expected_share is None:  # with the CRM's settings: every competitor with a company, and nobody else
            has_company = synthetic.leads.set_index("lead_id")["company_name"].reindex(flagged.index).notna().to_numpy()
            assert (flagged.to_numpy() == (rivals.to_numpy() & has_company)).all() and flagged.sum() > 20
        else:  # the packaged default names no real company
            assert flagged.mean() == expected_share


def test_the_custom_vocabulary_renames_the_same_crm_into_names_of_its_own_and_adds_kinds_of_its_own():
    from leadscore.features.synthetic.vocabulary import EXTRA_RATES, OWN_NAMES

    builtin, own = generate_crm(1500, seed=3, months=18), generate_crm(1500, seed=3, months=18, vocabulary="custom")
    for name in ("leads", "opportunities", "truth"):  # one hidden truth: only the activities differ
        pd.testing.assert_frame_equal(getattr(builtin, name), getattr(own, name))
    types = set(own.activities["activity_type"])
    assert len(types) >= 20 and not types & set(ACTIVITY_TYPES) and own.activities["channel"].isna().all()
    # every built-in event is there under one of its type's own names, at the same moment
    renamed = own.activities[~own.activities["activity_type"].isin(list(EXTRA_RATES))]
    to_builtin = {name: builtin_type for builtin_type, names in OWN_NAMES.items() for name in names}
    pd.testing.assert_series_equal(
        renamed.assign(activity_type=renamed["activity_type"].map(to_builtin))
        .sort_values(["lead_id", "occurred_at", "activity_type"])["activity_type"].reset_index(drop=True),
        builtin.activities.sort_values(["lead_id", "occurred_at", "activity_type"])["activity_type"]
        .astype(object).reset_index(drop=True), check_dtype=False, check_names=False)
    # the split follows the hidden state: negotiation calls and credit checks only while an opportunity is open
    runs = own.truth
    for kind in ("Negotiation call", "Credit check"):
        events = own.activities[own.activities["activity_type"] == kind]
        assert len(events) > 0
        matched = pd.merge_asof(events.sort_values("occurred_at"), runs.sort_values("valid_from"), left_on="occurred_at",
                                right_on="valid_from", by="lead_id")
        assert (matched["state"] == "opportunity").all(), kind


def test_the_custom_vocabulary_writes_its_declarations_beside_the_tables(tmp_path, capsys):
    from leadscore.features.vocabulary import resolve, with_present_types
    from leadscore.pipeline.config import load_config

    assert main(["generate", "--leads", "300", "--months", "6", "--seed", "1", "--out", str(tmp_path),
                 "--vocabulary", "custom"]) == 0
    assert f"--config {tmp_path / 'leadscore.yaml'}" in " ".join(capsys.readouterr().out.split())
    present = pd.read_parquet(tmp_path / "activities.parquet")["activity_type"].unique()
    config = load_config(tmp_path / "leadscore.yaml")
    vocabulary = resolve(with_present_types(config.for_features, list(present)))
    meaning = {t.raw: t for t in vocabulary.types}
    assert all(meaning[raw].origin == "declared" for raw in present)
    assert meaning["Mail opened"].role == "email_open" and meaning["Opted out"].family == "negative"
    assert meaning["Follow-up call"].channel == "offline" and meaning["Follow-up call"].nouns == "follow-up calls"
    assert meaning["Pricing page view"].value == "seconds"
    assert config.features.competitor_markers  # the built-in CRM's settings are kept
