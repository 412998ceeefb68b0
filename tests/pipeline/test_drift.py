"""The PSI drift check: stable populations pass, shifted ones are flagged."""

import numpy as np
import pandas as pd

from leadscore.pipeline.drift import DriftReference, DriftTally, drifted, reference_from_training


def compare(reference, features, scores, hot_floor, **limits):
    """Return the drift report of one whole population, through the tally batch scoring uses."""
    return DriftTally(reference, hot_floor).add(features, scores).report(**limits)


def _population(rng, shift=0.0, n=5000):
    return pd.DataFrame(
        {
            "web_visit_count_30d": rng.poisson(3 + shift, n).astype(float),
            "lead_source": rng.choice(["organic", "event", "paid"], n, p=[0.5, 0.3, 0.2] if shift == 0 else [0.1, 0.3, 0.6]),
            "days_since_last_activity": np.where(rng.random(n) < 0.2, np.nan, rng.exponential(20, n)),
        }
    )


def test_same_population_is_stable_and_shifted_population_is_flagged():
    rng = np.random.default_rng(0)
    train = _population(rng)
    ref = reference_from_training(train, rng.beta(1, 10, 5000), hot_floor=0.25)
    same = compare(ref, _population(rng), rng.beta(1, 10, 5000), hot_floor=0.25).set_index("name")["psi"]
    moved = compare(ref, _population(rng, shift=3.0), rng.beta(3, 5, 5000), hot_floor=0.25).set_index("name")["psi"]
    assert (same < 0.05).all()
    assert moved["web_visit_count_30d"] > 0.25
    assert moved["lead_source"] > 0.25
    assert moved["score"] > 0.25


def test_reference_survives_a_json_round_trip_and_counts_missing_values():
    rng = np.random.default_rng(1)
    train = _population(rng)
    ref = reference_from_training(train, rng.random(5000), hot_floor=0.5)
    again = DriftReference.from_dict(ref.to_dict())
    assert again == ref
    days = next(f for f in ref.features if f.name == "days_since_last_activity")
    assert abs(days.expected[-1] - train["days_since_last_activity"].isna().mean()) < 1e-9
    assert abs(sum(days.expected) - 1) < 1e-9


def test_hot_share_is_reported_beside_training():
    rng = np.random.default_rng(2)
    ref = reference_from_training(_population(rng), np.full(5000, 0.1), hot_floor=0.25)
    report = compare(ref, _population(rng), np.full(100, 0.9), hot_floor=0.25)
    assert report.attrs["share_hot_training"] == 0.0
    assert report.attrs["share_hot"] == 1.0


def test_a_population_tallied_in_chunks_reports_what_the_whole_population_reports():
    """Batch scoring tallies chunk by chunk; its report must equal the report of all leads added at once."""
    rng = np.random.default_rng(3)
    ref = reference_from_training(_population(rng), rng.beta(1, 10, 5000), hot_floor=0.25)
    population, scores = _population(rng, shift=1.0, n=3000), rng.beta(2, 8, 3000)
    whole = compare(ref, population, scores, hot_floor=0.25)
    tally = DriftTally(ref, hot_floor=0.25)
    for start in range(0, 3000, 700):
        tally.add(population.iloc[start:start + 700], scores[start:start + 700])
    chunked = tally.report()
    pd.testing.assert_frame_equal(chunked, whole, check_exact=False, rtol=1e-12)
    assert chunked.attrs == whole.attrs
    assert whole.attrs["share_hot"] == np.mean(scores >= 0.25)


def test_the_report_ranks_worst_first_and_names_what_drifted():
    rng = np.random.default_rng(4)
    ref = reference_from_training(_population(rng), rng.beta(1, 10, 5000), hot_floor=0.25)
    report = compare(ref, _population(rng, shift=3.0), rng.beta(3, 5, 5000), hot_floor=0.25, psi_warn=0.1, psi_fail=0.25)
    assert report["psi"].is_monotonic_decreasing
    assert set(report["status"]) <= {"stable", "watch", "drift"}
    assert (report["status"] == "drift").tolist() == (report["psi"] > 0.25).tolist()
    assert {"web_visit_count_30d", "lead_source", "score"} <= set(drifted(report))
    assert "days_since_last_activity" not in drifted(report)
