"""Incremental loads: only new or changed activity parts are validated, and the CRM read is the full load's."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from leadscore.features.loaders import load_crm
from leadscore.features.settings import EngineSettings
from leadscore.pipeline.errors import BadInputError

NOW = pd.Timestamp("2024-06-01", tz="UTC")


def _leads(ids) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": list(ids), "created_at": pd.Timestamp("2024-01-01", tz="UTC"),
                         "email": [f"{i}@acme.com" for i in ids]})


def _activities(day: str, leads=("L1", "L2", "L3")) -> pd.DataFrame:
    """A day's export, in an order and with blanks as real exports have them."""
    rows = [(lead, pd.Timestamp(f"{day}T{9 + i}:00Z"), kind, None if i % 2 else "online", float(i) if i else None)
            for i, (lead, kind) in enumerate(zip(leads, ["email_open", "Webinar Attended", "web_visit"]))]
    return pd.DataFrame(rows, columns=["lead_id", "occurred_at", "activity_type", "channel", "value"])


def _write_part(folder, day: str, frame: pd.DataFrame) -> None:
    part = folder / "activities" / f"date={day}" / "part.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(part, index=False)


@pytest.fixture
def crm(tmp_path):
    folder = tmp_path / "crm"
    folder.mkdir()
    _leads(["L1", "L2", "L3"]).to_parquet(folder / "leads.parquet", index=False)
    pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L2"], "created_at": [pd.Timestamp("2024-03-01", tz="UTC")],
                  "closed_at": [pd.Timestamp("2024-04-01", tz="UTC")], "outcome": ["won"]}).to_parquet(
        folder / "opportunities.parquet", index=False)
    for day in ("2024-02-01", "2024-02-02", "2024-02-03"):
        _write_part(folder, day, _activities(day))
    return folder


def _load(folder, store=None, now=NOW):
    return load_crm(folder, EngineSettings(validated_store=None if store is None else str(store)), now=now)


def _same_as_full_load(folder, loaded) -> None:
    full = _load(folder)
    query = "SELECT * FROM activities ORDER BY ALL"
    pd.testing.assert_frame_equal(loaded.con.execute(query).df(), full.con.execute(query).df())
    summary = {k: v for k, v in loaded.summary.items() if k != "validated_parts"}
    assert summary == full.summary


def test_a_second_load_reuses_every_part_and_reads_what_a_full_load_reads(crm, tmp_path):
    store = tmp_path / "validated"
    first = _load(crm, store)
    assert len(first.summary["validated_parts"].validated) == 3
    again = _load(crm, store)
    outcome = again.summary["validated_parts"]
    assert outcome.validated == [] and len(outcome.reused) == 3
    assert outcome.text() == "activity parts: 3 reused"
    _same_as_full_load(crm, again)


def test_a_new_day_is_the_only_part_validated(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    _write_part(crm, "2024-02-04", _activities("2024-02-04"))
    loaded = _load(crm, store)
    outcome = loaded.summary["validated_parts"]
    assert [p.split("date=")[1][:10] for p in outcome.validated] == ["2024-02-04"] and len(outcome.reused) == 3
    assert outcome.text() == "activity parts: 1 new validated, 3 reused"
    _same_as_full_load(crm, loaded)


def test_a_changed_part_is_validated_again_and_said_so(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    changed = _activities("2024-02-02")
    changed.loc[0, "activity_type"] = "content_download"
    _write_part(crm, "2024-02-02", changed)
    loaded = _load(crm, store)
    outcome = loaded.summary["validated_parts"]
    assert len(outcome.changed) == 1 and "date=2024-02-02" in outcome.changed[0]
    assert "1 changed since validated, checked again" in outcome.text()
    assert loaded.summary["activity_types"]["content_download"] == 1
    _same_as_full_load(crm, loaded)


def test_a_part_touched_but_not_changed_is_reused(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    part = crm / "activities" / "date=2024-02-01" / "part.parquet"
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 10**9))
    outcome = _load(crm, store).summary["validated_parts"]
    assert outcome.validated == [] and outcome.changed == []


def test_a_bad_new_part_is_named_with_its_row_and_is_not_recorded(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    bad = _activities("2024-02-04")
    bad["occurred_at"] = bad["occurred_at"].astype(str)
    bad.loc[1, "occurred_at"] = "yesterday"
    _write_part(crm, "2024-02-04", bad)
    with pytest.raises(BadInputError, match=r"date=2024-02-04/part\.parquet: column 'occurred_at' has 1 value that is not "
                                            r"a timestamp, first at row 2 \('yesterday'\)"):
        _load(crm, store)
    recorded = json.loads((store / "activities.json").read_text())["parts"]
    assert len(recorded) == 3 and not any("2024-02-04" in p for p in recorded)
    _write_part(crm, "2024-02-04", _activities("2024-02-04"))
    assert len(_load(crm, store).summary["validated_parts"].validated) == 1


def test_a_part_validated_against_a_later_now_is_checked_again_for_future_times(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    with pytest.raises(BadInputError, match=r"date=2024-02-02/part\.parquet: a future timestamp in column 'occurred_at'"):
        _load(crm, store, now=pd.Timestamp("2024-02-01", tz="UTC"))


def test_checks_across_parts_run_when_every_part_is_reused(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    _leads(["L1", "L2"]).to_parquet(crm / "leads.parquet", index=False)  # L3 left the CRM, its activities did not
    with pytest.raises(BadInputError, match=r"a lead that is not in the leads table \(column 'lead_id'\) in 3 rows: "
                                            r"row 3 of .*date=2024-02-01/part\.parquet \(lead_id L3\)"):
        _load(crm, store)


def test_a_row_exported_on_two_days_is_dropped_once_as_a_full_load_drops_it(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    _write_part(crm, "2024-02-04", pd.concat([_activities("2024-02-04"), _activities("2024-02-03").iloc[:1]], ignore_index=True))
    loaded = _load(crm, store)
    assert loaded.summary["duplicate_activities_dropped"] == 1
    _same_as_full_load(crm, loaded)


def test_a_part_no_longer_exported_is_forgotten_with_its_copy(crm, tmp_path):
    store = tmp_path / "validated"
    _load(crm, store)
    (crm / "activities" / "date=2024-02-01" / "part.parquet").unlink()
    loaded = _load(crm, store)
    assert len(loaded.summary["validated_parts"].forgotten) == 1 and len(list((store / "activities").glob("*.parquet"))) == 2
    _same_as_full_load(crm, loaded)
