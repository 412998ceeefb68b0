"""The split checks: each cause of an impossible time split gets its own message, before any feature is built."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from leadscore.features.crm import crm_from_frames
from leadscore.features.labels import label_snapshots
from leadscore.features.snapshots import split_population, training_snapshots
from leadscore.pipeline.cli import main
from leadscore.pipeline.config import load_config
from leadscore.pipeline.split import split_by_time
from leadscore.pipeline.split_checks import SLICES, check_split


def _run(tmp_path, capsys, monkeypatch, crm_dir, settings: dict, *extra: str) -> tuple[int, str, str]:
    """Run `leadscore train --check-split` (or `extra` instead of the flag) with `settings` as the config file."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings))
    monkeypatch.chdir(tmp_path)
    code = main(["train", "--data", str(crm_dir), "--config", str(path), "--workdir", str(tmp_path / "work"),
                 *(extra or ("--check-split",))])
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())  # rich wraps the paragraph; compare it as one line


@pytest.mark.parametrize(("settings", "messages"), [
    pytest.param({"windows": {"first_snapshot": "2025-11-01"}},
                 ["the data spans too little time for training snapshots", "windows.first_snapshot 2025-11-01",
                  "minus windows.horizon_days 90", "set windows.first_snapshot earlier"], id="history-shorter-than-horizon"),
    pytest.param({"windows": {"slide_days": 400}},
                 ["only 2 snapshot dates", "split.test_share 0.2 and split.calibration_share 0.2 hold out 1 and 1",
                  "leaving none to fit on", "windows.slide such as 7d"], id="too-few-dates"),
    pytest.param({"windows": {"horizon_days": 200}, "split": {"calibration_share": 0.45}},
                 ["every snapshot before the calibration start", "the fit period spans 150 days, shorter than the "
                  "200-day label window", "lower windows.horizon_days", "split.calibration_share 0.45"], id="fit-all-purged"),
    pytest.param({"split": {"calibration_share": 0.1}},
                 ["every calibration snapshot", "is purged", "shorter than the 90-day label window",
                  "Raise split.calibration_share (now 0.1, 2 of 19 dates)"], id="calibration-all-purged"),
    pytest.param({"split": {"min_won": 10_000}},
                 ["the fit slice has", "split.min_won 10000", "fewer than 3 x split.min_won: lower split.min_won"],
                 id="too-few-wins-in-all"),
    pytest.param({"split": {"test_share": 0.05}},
                 ["the test slice has 34 won", "The test slice holds 1 of 19 dates: raise split.test_share (now 0.05)",
                  "the purge drops", "left out (population.open_opportunities: exclude)"], id="test-slice-too-short"),
    pytest.param({"split": {"calibration_share": 0.3, "test_share": 0.3, "min_won": 95}},
                 ["the fit slice has", "The held-out slices take the later dates, where the wins are",
                  "lower split.calibration_share (0.3) or split.test_share (0.3)"], id="fit-slice-too-short"),
])
def test_each_cause_of_an_impossible_split_names_itself_and_its_fix_with_exit_2(settings, messages, synthetic_dir, tmp_path,
                                                                                  capsys, monkeypatch):
    code, _, err = _run(tmp_path, capsys, monkeypatch, synthetic_dir, settings)
    assert code == 2
    for message in messages:
        assert message in err
    assert "Traceback" not in err and "shorter slide_days would help" not in err


def test_the_check_prints_every_slice_and_the_population_and_exits_0(synthetic_dir, tmp_path, capsys, monkeypatch):
    code, out, _ = _run(tmp_path, capsys, monkeypatch, synthetic_dir, {})
    assert code == 0
    for line in (*SLICES, "left out (population.open_opportunities: exclude)", "split checked in"):
        assert line in out
    assert not (tmp_path / "work" / "models").exists()  # a check trains nothing


def test_train_stops_on_the_split_check_before_building_any_feature(synthetic_dir, tmp_path, capsys, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("features were built before the split was checked")

    monkeypatch.setattr("leadscore.pipeline.train.build_training_set", forbidden)
    code, _, err = _run(tmp_path, capsys, monkeypatch, synthetic_dir, {"split": {"calibration_share": 0.1}}, "--promote")
    assert code == 2 and "every calibration snapshot" in err


@pytest.mark.parametrize("overrides", [{}, {"windows": {"slide": "7d"}}, {"population": {"open_opportunities": "include"}}],
                         ids=["default", "weekly", "population-included"])
def test_the_check_counts_what_the_time_split_then_holds(synthetic, overrides):
    crm = crm_from_frames(synthetic.leads, synthetic.activities, synthetic.opportunities)
    config = load_config(**overrides)
    check = check_split(crm, config).slices.set_index("slice")
    labelled, _ = label_snapshots(crm, training_snapshots(crm, config.windows), config.windows)
    frame, _ = split_population(labelled, config.population)
    split = split_by_time(frame, config)
    for name, masks in (("fit", ("fit", "validation")), ("calibration", ("calibration",)), ("test", ("test",))):
        mask = pd.Series(False, index=frame.index)
        for m in masks:
            mask |= getattr(split, m)
        assert check.loc[name, "snapshots"] == mask.sum() and check.loc[name, "wins"] == frame.loc[mask, "label"].sum()
    assert check.loc[["purged before calibration", "purged before test"], "snapshots"].sum() == split.purged
    assert check.loc["calibration", "first_as_of"] == split.calibration_start and check.loc["test", "first_as_of"] == split.test_start


def test_a_schedule_with_no_open_lead_says_there_is_nothing_to_train_on():
    from leadscore.pipeline.errors import InsufficientDataError

    from ..features.tiny_crm import tiny_tables, ts

    leads, activities, _ = tiny_tables()
    won = pd.DataFrame({"opportunity_id": ["W1", "W2", "W3"], "lead_id": ["A", "B", "C"],
                        "created_at": [ts("2024-02-02")] * 3, "closed_at": [ts("2024-02-03")] * 3, "outcome": ["won"] * 3,
                        "amount": [1.0] * 3})
    late = activities.iloc[[0]].assign(occurred_at=ts("2024-09-01"))  # the data runs on after every lead was won
    crm = crm_from_frames(leads, pd.concat([activities, late], ignore_index=True), won)
    with pytest.raises(InsufficientDataError, match=r"no open lead at any of the \d+ snapshot dates: nothing to train on"):
        check_split(crm, load_config(windows={"first_snapshot": "2024-03-01", "horizon_days": 30}))
