"""The score history: one row per (lead, as_of, model version) under reruns and concurrent runs, retention, trends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.history import (HISTORY_COLUMNS, PROVENANCE_COLUMNS, previous_run, read_history, record_scores,
                                        with_trend)


def _run(as_of: str, version: str = "1", leads: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    probability = rng.uniform(0, 1, leads)
    return pd.DataFrame({
        "lead_id": [f"L{i:03d}" for i in range(leads)], "as_of": pd.Timestamp(as_of, tz="UTC"),
        "model_name": "leadscore", "model_version": version, "probability": probability,
        "score": np.round(probability * 100, 1), "grade": "c", "segment": "nurture", "rule_points": 10.0, "rule_segment": "leave",
    })


def _key_counts(catalog: Catalog) -> pd.Series:
    history = read_history(catalog)
    return history.groupby(["lead_id", "as_of", "model_version"]).size()


def test_a_rerun_replaces_its_own_rows_and_other_dates_and_versions_are_kept(tmp_path):
    catalog = Catalog(tmp_path)
    record_scores(_run("2026-01-01"), catalog, None)
    record_scores(_run("2026-01-01", seed=1), catalog, None)  # the rerun, with other scores
    record_scores(_run("2026-01-01", version="2"), catalog, None)
    record_scores(_run("2026-02-01"), catalog, None)
    counts = _key_counts(catalog)
    assert (counts == 1).all() and len(counts) == 3 * 50
    history = read_history(catalog)
    rerun = history[(history["as_of"] == pd.Timestamp("2026-01-01", tz="UTC")) & (history["model_version"] == "1")]
    assert np.allclose(rerun.sort_values("lead_id")["probability"], _run("2026-01-01", seed=1)["probability"])
    assert list(history.columns) == list(HISTORY_COLUMNS + PROVENANCE_COLUMNS)


def test_a_held_out_backfill_keeps_its_provenance_beside_the_deployed_run_of_the_same_date(tmp_path):
    catalog = Catalog(tmp_path)
    seen = pd.Timestamp("2025-12-01", tz="UTC")
    record_scores(_run("2026-01-01"), catalog, None, "deployed", pd.Timestamp("2026-06-30", tz="UTC"))
    record_scores(_run("2026-01-01", seed=1), catalog, None, "held-out", seen)
    history = read_history(catalog)
    assert sorted(history["scorer"].unique()) == ["deployed", "held-out"] and len(history) == 2 * 50
    assert (history.loc[history["scorer"] == "held-out", "outcomes_seen_until"] == seen).all()


def test_history_files_without_provenance_read_as_the_deployed_models_with_nothing_known_of_what_it_saw(tmp_path):
    catalog = Catalog(tmp_path)
    target = catalog.history_file(pd.Timestamp("2026-01-01", tz="UTC"), "leadscore", "1")
    target.parent.mkdir(parents=True)
    _run("2026-01-01").to_parquet(target)
    history = read_history(catalog)
    assert (history["scorer"] == "deployed").all() and history["outcomes_seen_until"].isna().all()


_WRITER = """
import sys
import numpy as np, pandas as pd
from pathlib import Path
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.history import record_scores
root, as_of, version, seed = sys.argv[1:]
p = np.random.default_rng(int(seed)).uniform(0, 1, 50)
frame = pd.DataFrame({"lead_id": [f"L{i:03d}" for i in range(50)], "as_of": pd.Timestamp(as_of, tz="UTC"), "model_name": "leadscore",
                      "model_version": version, "probability": p, "score": np.round(p * 100, 1), "grade": "c", "segment": "nurture",
                      "rule_points": 10.0, "rule_segment": "leave"})
record_scores(frame, Catalog(Path(root)), 400)
"""


def test_concurrent_runs_and_reruns_leave_each_lead_once_per_date_and_version(tmp_path):
    import subprocess
    import sys

    jobs = [(str(tmp_path), as_of, version, str(seed)) for seed in range(2) for as_of in ("2026-01-01", "2026-02-01")
            for version in ("1", "2")]
    runs = [subprocess.Popen([sys.executable, "-c", _WRITER, *job]) for job in jobs]  # eight processes at once
    assert [run.wait(timeout=300) for run in runs] == [0] * len(jobs)
    counts = _key_counts(Catalog(tmp_path))
    assert (counts == 1).all() and len(counts) == 2 * 2 * 50
    assert not list(tmp_path.rglob("*.tmp"))


def test_retention_drops_the_dates_older_than_the_setting_before_the_latest_as_of(tmp_path):
    catalog = Catalog(tmp_path)
    for as_of in ("2025-01-01", "2025-06-01", "2026-01-01"):
        record_scores(_run(as_of), catalog, 250)
    kept = sorted(read_history(catalog)["as_of"].dt.date.astype(str).unique())
    assert kept == ["2025-06-01", "2026-01-01"]
    record_scores(_run("2024-12-01"), catalog, None)  # no retention: a backfill keeps everything
    assert read_history(catalog)["as_of"].nunique() == 3


def test_the_previous_run_is_the_latest_earlier_date_of_the_model_at_its_newest_version(tmp_path):
    catalog = Catalog(tmp_path)
    record_scores(_run("2026-01-01", seed=1), catalog, None)
    record_scores(_run("2026-02-01", version="2", seed=2), catalog, None)
    record_scores(_run("2026-02-01", version="10", seed=3), catalog, None)
    record_scores(_run("2026-03-01", seed=4), catalog, None)
    previous = previous_run(catalog, pd.Timestamp("2026-03-01", tz="UTC"), "leadscore")
    assert set(previous["model_version"]) == {"10"} and previous["as_of"].nunique() == 1
    assert previous_run(catalog, pd.Timestamp("2026-01-01", tz="UTC"), "leadscore").empty
    assert previous_run(catalog, pd.Timestamp("2026-03-01", tz="UTC"), "other").empty


@pytest.mark.parametrize("before, now, trend", [(40.0, 46.0, "up"), (40.0, 34.0, "down"), (40.0, 44.9, "steady"), (None, 50.0, "new")])
def test_the_trend_compares_each_lead_with_its_previous_score(before, now, trend):
    previous = pd.DataFrame({"lead_id": ["A"] if before is not None else [], "score": [before] if before is not None else []})
    frame = with_trend(pd.DataFrame({"lead_id": ["A"], "score": [now]}), previous, 5.0)
    assert frame["score_trend"].tolist() == [trend]
    assert (frame["previous_score"].isna().all() if before is None else frame["previous_score"].tolist() == [before])
