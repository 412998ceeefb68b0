"""Reliability: generated CRMs always build, faults leave outputs and the registry consistent, nothing leaks."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.features.builder import build_features
from leadscore.features.contract import ACTIVITY_TYPES, OFFLINE_ACTIVITY_TYPES
from leadscore.features.crm import crm_from_frames
from leadscore.features.loaders import load_crm
from leadscore.features.registry import all_features
from leadscore.features.snapshots import scoring_snapshots
from leadscore.pipeline import tracking
from leadscore.pipeline.config import load_config, with_settings
from leadscore.pipeline.errors import InsufficientDataError
from tests.quick_training import QUICK_TRAINING

START = pd.Timestamp("2024-01-01", tz="UTC")


@st.composite
def crms(draw):
    n_leads = draw(st.integers(1, 6))
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n_leads)],
        "created_at": [START + pd.Timedelta(hours=draw(st.integers(0, 24 * 200))) for _ in range(n_leads)],
        "email": draw(st.lists(st.sampled_from(["a@acme.com", "b@gmail.com", None, "weird", "x@"]), min_size=n_leads, max_size=n_leads)),
        "job_title": draw(st.lists(st.sampled_from(["VP Sales", "Student", "", None, "CEO", "Ingénieur"]), min_size=n_leads, max_size=n_leads)),
        "seniority": draw(st.lists(st.sampled_from(["vp", "student", None, "other"]), min_size=n_leads, max_size=n_leads)),
        "department": None, "company_name": None,
        "company_size": pd.array(draw(st.lists(st.one_of(st.none(), st.integers(0, 10**9)), min_size=n_leads, max_size=n_leads)), dtype="Int64"),
        "industry": None, "country": None, "lead_source": None,
    })
    n_acts = draw(st.integers(0, 25))
    types = draw(st.lists(st.sampled_from(ACTIVITY_TYPES), min_size=n_acts, max_size=n_acts))
    activities = pd.DataFrame({
        "lead_id": draw(st.lists(st.sampled_from(list(leads["lead_id"])), min_size=n_acts, max_size=n_acts)),
        "occurred_at": [START + pd.Timedelta(minutes=draw(st.integers(0, 60 * 24 * 400))) for _ in range(n_acts)],
        "activity_type": types,
        "channel": ["offline" if t in OFFLINE_ACTIVITY_TYPES else "online" for t in types],
        "value": draw(st.lists(st.one_of(st.none(), st.floats(0, 1e12)), min_size=n_acts, max_size=n_acts)),
        "asset_id": None,
    })
    opportunities = pd.DataFrame(columns=["opportunity_id", "lead_id", "created_at", "closed_at", "outcome", "amount"])
    return leads, activities, opportunities


@pytest.mark.slow  # 25 generated CRMs, each written, loaded and built
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(crm=crms(), day=st.integers(0, 420))
def test_any_valid_generated_crm_loads_and_builds_with_finite_features(tmp_path_factory, crm, day):
    leads, activities, opportunities = crm
    folder = tmp_path_factory.mktemp("crm")
    leads.to_csv(folder / "leads.csv", index=False)
    activities.to_csv(folder / "activities.csv", index=False)
    opportunities.to_csv(folder / "opportunities.csv", index=False)
    loaded = load_crm(folder, now=pd.Timestamp("2026-01-01", tz="UTC"))
    as_of = START + pd.Timedelta(days=day)
    snaps = scoring_snapshots(loaded, as_of)
    features = build_features(loaded, snaps, load_config().for_features)
    assert len(features) == len(snaps)
    for f in all_features():
        column = features[f.name]
        if f.dtype in {"int", "float"} and not f.name.startswith(("days_since_", "email_")) and "NaN if" not in f.description:
            assert np.isfinite(column.to_numpy(dtype=float)).all(), f.name
        if f.dtype == "int":
            assert (column >= 0).all(), f.name
        if f.name.startswith("email_") and f.name.endswith("_rate_recent"):
            assert column.dropna().between(0, 1).all(), f.name


def test_a_single_class_of_outcome_is_refused_clearly(synthetic):
    from leadscore.pipeline.train import fit_models

    lost = synthetic.opportunities.assign(outcome=synthetic.opportunities["outcome"].replace({"won": "lost"}))
    crm = crm_from_frames(synthetic.leads, synthetic.activities, lost)
    with pytest.raises(InsufficientDataError, match="has 0 won"):
        fit_models(crm, load_config())


def test_config_values_cannot_inject_sql(synthetic):
    config = load_config(features={"personal_email_domains": ["gmail.com", "x'); DROP TABLE leads; --"],
                                   "student_markers": ["student", "o'brien"]})
    crm = crm_from_frames(synthetic.leads.head(50), synthetic.activities, synthetic.opportunities)
    frame = build_features(crm, scoring_snapshots(crm, "2025-01-01"), config.for_features)
    assert len(frame) > 0
    assert crm.con.execute("SELECT count(*) FROM leads").fetchall()[0][0] == 50


@pytest.mark.slow
def test_an_interrupted_training_run_leaves_the_registry_consistent(trained, tmp_path, monkeypatch):
    """In a working folder of its own: the shared `trained` registry stays as its fixture left it."""
    import mlflow.pyfunc

    from leadscore.pipeline.train import train

    shared, crm, _ = trained
    config = with_settings(shared.model_copy(update={"workdir": str(tmp_path)}), QUICK_TRAINING)
    train(None, config, promote=True, crm=crm)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("interrupted while logging the model")

    monkeypatch.setattr(mlflow.pyfunc, "log_model", crash)
    with pytest.raises(KeyboardInterrupt):
        train(None, config, promote=True, crm=crm)
    for alias in (tracking.CHAMPION, tracking.CHALLENGER):
        version = tracking.alias_version(config, alias)
        assert version is not None
        assert (tracking.download_bundle(config, f"models:/{config.tracking.model_name}@{alias}") / "model.joblib").exists()


def test_no_email_address_reaches_reports_or_mlflow(trained, trained_crm):
    config, _, _ = trained
    emails = set(trained_crm.leads["email"].dropna().head(200))
    domains = {e.split("@")[1] for e in emails}
    for path in config.workdir_path.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".md", ".json", ".yaml", ".txt", ".csv", ""} and path.stat().st_size < 5_000_000:
            text = path.read_text(errors="ignore")
            assert not any(e in text for e in emails), path
    assert domains  # the check looked for real addresses


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o007, 0o660)])
def test_a_generated_crm_gets_the_permissions_the_umask_gives_any_new_file(synthetic, tmp_path, umask, mode):
    from dataclasses import replace

    from leadscore.features.synthetic import write_crm

    small = replace(synthetic, activities=synthetic.activities.head(100))
    previous = os.umask(umask)
    try:
        paths = write_crm(small, tmp_path, fmt="csv")
    finally:
        os.umask(previous)
    assert {name: oct(path.stat().st_mode & 0o777) for name, path in paths.items()} == {name: oct(mode) for name in paths}
