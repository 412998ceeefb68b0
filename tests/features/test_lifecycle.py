"""The optional lifecycle table: read and typed when present, bad values stop the run, odd rows are warnings."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.features.lifecycle import has_lifecycle, lifecycle_events
from leadscore.features.loaders import load_crm
from leadscore.features.settings import LifecycleSettings
from leadscore.pipeline.errors import BadInputError
from .test_validation import NOW, _crm

LIFECYCLE = """lead_id,stage,entered_at,reason
L1,Subscriber,2024-01-05T10:00:00Z,
L1,MQL,2024-01-07T12:00:00Z,
L1,SQL,2024-01-09T12:00:00Z,
L1,Opportunity,2024-02-01T00:00:00Z,
L3,MQL,2024-03-06,
L3,Recycled,2024-03-10,not ready
L3,MQL,2024-04-01,
"""


def _with_lifecycle(tmp_path, text=LIFECYCLE):
    _crm(tmp_path)
    (tmp_path / "lifecycle.csv").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_crm_without_a_lifecycle_table_loads_as_before(tmp_path):
    assert not has_lifecycle(load_crm(_crm(tmp_path), now=NOW))


def test_the_lifecycle_table_is_typed_and_each_stage_gets_its_role(tmp_path):
    crm = load_crm(_with_lifecycle(tmp_path), now=NOW)
    assert has_lifecycle(crm) and crm.summary["lifecycle_rows"] == 7
    events, warnings = lifecycle_events(crm, LifecycleSettings())
    assert warnings == []  # a recycled lead handed over again is in order
    assert str(events["entered_at"].dt.tz) == "UTC"
    assert events.loc[events["lead_id"] == "L1", "role"].tolist() == ["lead", "mql", "sql", "opportunity"]
    assert events.loc[events["lead_id"] == "L3", "reason"].dropna().tolist() == ["not ready"]


def test_a_stage_name_without_a_role_is_an_error_naming_it_and_its_rows(tmp_path):
    crm = load_crm(_with_lifecycle(tmp_path, LIFECYCLE + "L3,Working,2024-04-02,\nL1,Working,2024-02-02,\n"), now=NOW)
    with pytest.raises(BadInputError, match=r"lifecycle.csv: column 'stage' has 1 stage name with no role: 'Working' \(2 rows\)"):
        lifecycle_events(crm, LifecycleSettings())
    events, _ = lifecycle_events(crm, LifecycleSettings(stages=LifecycleSettings().stages | {"Working": "sql"}))
    assert (events["role"] == "sql").sum() == 3


def test_unknown_leads_are_a_warning_naming_rows_and_are_left_out(tmp_path):
    crm = load_crm(_with_lifecycle(tmp_path, LIFECYCLE + "L9,MQL,2024-04-02,\n"), now=NOW)
    events, warnings = lifecycle_events(crm, LifecycleSettings())
    assert "L9" not in set(events["lead_id"])
    assert len(warnings) == 1 and "1 entry of a lead that is not in the leads table" in warnings[0]
    assert "row 8 (L9 MQL)" in warnings[0]


def test_a_stage_out_of_funnel_order_is_a_warning_naming_its_row(tmp_path):
    crm = load_crm(_with_lifecycle(tmp_path, LIFECYCLE + "L1,MQL,2024-02-05,\n"), now=NOW)
    events, warnings = lifecycle_events(crm, LifecycleSettings())
    assert len(events) == 8  # kept as the CRM recorded it
    assert len(warnings) == 1 and "out of funnel order" in warnings[0] and "row 8 (L1 MQL)" in warnings[0]


@pytest.mark.parametrize("text, fragments", [
    ("lead_id,stage\nL1,MQL\n", ["missing required column entered_at"]),
    ("lead_id,stage,entered_at\nL1,MQL,yesterday\n", ["column 'entered_at' has 1 value that is not a timestamp", "row 1", "'yesterday'"]),
    ("lead_id,stage,entered_at\nL1,,2024-01-07\n", ["column 'stage' is empty in 1 row", "row 1"]),
    ("lead_id,stage,entered_at\nL1,MQL,2031-01-07\n", ["a future timestamp in column 'entered_at'"]),
])
def test_bad_lifecycle_values_stop_the_load_naming_file_column_and_rows(tmp_path, text, fragments):
    with pytest.raises(BadInputError) as err:
        load_crm(_with_lifecycle(tmp_path, text), now=NOW)
    assert "lifecycle.csv" in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


def test_a_lifecycle_table_from_frames_reads_as_a_loaded_one():
    from leadscore.features.crm import crm_from_frames
    from .tiny_crm import tiny_tables

    leads, activities, opportunities = tiny_tables()
    lifecycle = pd.DataFrame({"lead_id": ["A", "A", "Z"], "stage": ["mql", "sql", "mql"],
                              "entered_at": pd.to_datetime(["2024-02-26", "2024-03-01", "2024-03-01"], utc=True)})
    crm = crm_from_frames(leads, activities, opportunities, lifecycle=lifecycle)
    events, warnings = lifecycle_events(crm)
    assert events["role"].tolist() == ["mql", "sql"]
    assert len(warnings) == 1 and "(Z mql)" in warnings[0] and "row " in warnings[0]


def test_validate_lists_the_stages_with_their_roles_and_warns_naming_rows(tmp_path, capsys):
    from leadscore.pipeline.cli import main

    folder = _with_lifecycle(tmp_path, LIFECYCLE + "L9,MQL,2024-04-02,\n")
    assert main(["validate", "--data", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "MQL → mql (3)" in " ".join(captured.out.split())
    assert "1 entry of a lead that is not in the leads table" in " ".join(captured.err.split())
