"""Finding and reading a CRM: single files, split parts, Parquet and DuckDB sources, contract types."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from leadscore.features.contract import TABLES
from leadscore.features.loaders import find_table_files, load_crm
from leadscore.pipeline.errors import BadInputError
from .test_validation import ACTIVITIES, NOW, _crm

_DUCK_TYPE = {"string": "VARCHAR", "category": "VARCHAR", "timestamp": "TIMESTAMP WITH TIME ZONE",
              "integer": "BIGINT", "float": "DOUBLE"}


def _to_parquet(folder, name, csv_path):
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar = true)) TO '{folder / name}' (FORMAT parquet)")
    con.close()


def test_every_contract_column_has_its_contract_type(tmp_path):
    crm = load_crm(_crm(tmp_path), now=NOW)
    for table in TABLES:
        types = dict(crm.con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                     f"WHERE table_name = '{table.name}'").fetchall())
        for column in table.columns:
            assert types[column.name] == _DUCK_TYPE[column.dtype], (table.name, column.name)


def test_optional_columns_absent_from_the_file_are_added_as_null(tmp_path):
    crm = load_crm(_crm(tmp_path, activities="lead_id,occurred_at,activity_type,channel\nL1,2024-01-06,web_visit,online\n"), now=NOW)
    acts = crm.table("activities")
    assert {"value", "asset_id"} <= set(acts.columns) and acts["value"].isna().all()


def test_activities_split_in_a_folder_of_parquet_parts_are_read_together(tmp_path):
    _crm(tmp_path)
    lines = ACTIVITIES.splitlines()
    (tmp_path / "activities.csv").unlink()
    (tmp_path / "activities").mkdir()
    for i, chunk in enumerate((lines[1:3], lines[3:])):
        part = tmp_path / f"part{i}.csv"
        part.write_text("\n".join([lines[0], *chunk]) + "\n")
        _to_parquet(tmp_path / "activities", f"part-{i}.parquet", part)
        part.unlink()
    assert [p.name for p in find_table_files(tmp_path, "activities")] == ["part-0.parquet", "part-1.parquet"]
    crm = load_crm(tmp_path, now=NOW)
    assert crm.summary["activities_rows"] == len(lines) - 1
    assert str(crm.table("activities")["occurred_at"].dtype) == "datetime64[us, UTC]"


def test_prefixed_csv_parts_are_read_together(tmp_path):
    _crm(tmp_path)
    lines = ACTIVITIES.splitlines()
    (tmp_path / "activities.csv").unlink()
    (tmp_path / "activities-1.csv").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "activities-2.csv").write_text("\n".join([lines[0], *lines[3:]]) + "\n")
    assert load_crm(tmp_path, now=NOW).summary["activities_rows"] == len(lines) - 1


def test_a_parquet_value_error_names_the_file_and_row(tmp_path):
    _crm(tmp_path)
    (tmp_path / "leads.csv").write_text((tmp_path / "leads.csv").read_text().replace(",40,", ",forty,"))
    _to_parquet(tmp_path, "leads.parquet", tmp_path / "leads.csv")
    (tmp_path / "leads.csv").unlink()
    with pytest.raises(BadInputError, match=r"leads\.parquet: column 'company_size'.*row 3 \('forty'\)"):
        load_crm(tmp_path, now=NOW)


def test_a_duckdb_file_without_a_table_names_the_tables_it_found(tmp_path):
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE leads (lead_id VARCHAR, created_at TIMESTAMPTZ)")
    con.close()
    with pytest.raises(BadInputError, match=r"crm\.duckdb: no table activities in the database \(found: leads\)"):
        load_crm(path, now=NOW)


def test_data_end_is_the_latest_timestamp_in_any_table(tmp_path):
    crm = load_crm(_crm(tmp_path), now=NOW)
    latest = max(crm.table("leads")["created_at"].max(), crm.table("activities")["occurred_at"].max(),
                 crm.table("opportunities")["created_at"].max(), crm.table("opportunities")["closed_at"].max())
    assert crm.data_end == latest and crm.data_end < NOW
    assert isinstance(crm.data_end, pd.Timestamp)


def _split_table(folder, name, fmt, header, parts):
    """Replace <name>.csv by a folder of `fmt` parts, each holding the given data lines under `header`."""
    (folder / f"{name}.csv").unlink()
    (folder / name).mkdir()
    for i, lines in enumerate(parts):
        text = "\n".join([header, *lines]) + "\n"
        if fmt == "csv":
            (folder / name / f"part-{i}.csv").write_text(text)
        else:
            (folder / f"part-{i}.csv").write_text(text)
            _to_parquet(folder / name, f"part-{i}.parquet", folder / f"part-{i}.csv")
            (folder / f"part-{i}.csv").unlink()
    return folder / name


def _split_activities(folder, fmt, parts):
    return _split_table(folder, "activities", fmt, ACTIVITIES.splitlines()[0], parts)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_value_error_in_a_split_table_names_each_part_and_the_row_within_it(tmp_path, fmt):
    """Parquet numbers rows per part and CSV across parts; either way the message names part and row in it."""
    _crm(tmp_path)
    rows = ACTIVITIES.splitlines()[1:]
    typo = rows[3].replace("2024-03-05T08:00:00Z", "2024-13-05")
    parts = _split_activities(tmp_path, fmt, [rows[:2], [rows[2], typo], [typo, rows[0]]])
    with pytest.raises(BadInputError) as err:
        load_crm(tmp_path, now=NOW)
    assert str(err.value).startswith(f"{parts} (3 parts): column 'occurred_at' has 2 values that are not timestamps, "
                                     f"first at row 2 of {parts / f'part-1.{fmt}'}, row 1 of {parts / f'part-2.{fmt}'} "
                                     "('2024-13-05', '2024-13-05')"), str(err.value)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_unknown_lead_in_a_split_table_names_the_part_and_the_row_within_it(tmp_path, fmt):
    _crm(tmp_path)
    rows = ACTIVITIES.splitlines()[1:]
    parts = _split_activities(tmp_path, fmt, [rows[:3], [rows[3], rows[0].replace("L1,", "L9,")]])
    with pytest.raises(BadInputError) as err:
        load_crm(tmp_path, now=NOW)
    assert str(err.value).endswith("a lead that is not in the leads table (column 'lead_id') in 1 row: "
                                   f"row 2 of {parts / f'part-1.{fmt}'} (lead_id L9)"), str(err.value)


def test_a_table_in_two_formats_is_an_error_not_a_silent_choice(tmp_path):
    _crm(tmp_path)
    _to_parquet(tmp_path, "leads.parquet", tmp_path / "leads.csv")
    with pytest.raises(BadInputError, match=r"table 'leads' is in more than one place: .*leads\.parquet, .*leads\.csv; keep one"):
        load_crm(tmp_path, now=NOW)


def test_a_table_file_beside_a_folder_of_its_parts_is_an_error(tmp_path):
    _crm(tmp_path)
    (tmp_path / "activities").mkdir()
    (tmp_path / "activities" / "part-0.csv").write_text(ACTIVITIES)
    with pytest.raises(BadInputError, match=r"activities\.csv, .*activities/part-0\.csv; keep one"):
        load_crm(tmp_path, now=NOW)


def test_parts_that_mix_parquet_and_csv_are_an_error(tmp_path):
    _crm(tmp_path)
    lines = ACTIVITIES.splitlines()
    (tmp_path / "activities.csv").unlink()
    (tmp_path / "activities").mkdir()
    (tmp_path / "activities" / "part-0.csv").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "part1.csv").write_text("\n".join([lines[0], *lines[3:]]) + "\n")
    _to_parquet(tmp_path / "activities", "part-1.parquet", tmp_path / "part1.csv")
    with pytest.raises(BadInputError, match="mix Parquet and CSV"):
        load_crm(tmp_path, now=NOW)


def test_two_groups_of_parts_are_named_by_their_folder_and_their_prefix(tmp_path):
    _crm(tmp_path)
    (tmp_path / "activities.csv").unlink()
    (tmp_path / "activities").mkdir()
    for i in range(2):
        (tmp_path / "activities" / f"part-{i}.csv").write_text(ACTIVITIES)
        (tmp_path / f"activities-{i}.csv").write_text(ACTIVITIES)
    with pytest.raises(BadInputError) as err:
        find_table_files(tmp_path, "activities")
    assert str(err.value).endswith(f"in more than one place: {tmp_path / 'activities'}/ (2 parts), "
                                   f"{tmp_path / 'activities'}-* (2 parts); keep one"), str(err.value)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_split_table_with_a_column_called_filename_is_read(tmp_path, fmt):
    """A leads export may carry its own `filename` column; the part names must not collide with it."""
    _crm(tmp_path)
    header, *rows = (tmp_path / "leads.csv").read_text().splitlines()
    rows = [f"{row},cv-{row[:2]}.pdf" for row in rows]
    _split_table(tmp_path, "leads", fmt, header + ",filename", [rows[:2], rows[2:]])
    leads = load_crm(tmp_path, now=NOW).table("leads").set_index("lead_id")
    assert leads["filename"].to_dict() == {"L1": "cv-L1.pdf", "L2": "cv-L2.pdf", "L3": "cv-L3.pdf"}


def test_parts_that_mix_csv_and_tsv_are_an_error(tmp_path):
    """One delimiter is used for all parts, so a .tsv beside a .csv part would be misread."""
    _crm(tmp_path)
    (tmp_path / "activities.csv").unlink()
    (tmp_path / "activities").mkdir()
    (tmp_path / "activities" / "part-0.csv").write_text(ACTIVITIES)
    (tmp_path / "activities" / "part-1.tsv").write_text(ACTIVITIES.replace(",", "\t"))
    with pytest.raises(BadInputError, match=r"the parts of table 'activities' mix CSV and TSV files"):
        load_crm(tmp_path, now=NOW)


def test_a_split_csv_table_keeps_each_rows_part_as_a_code_not_a_copy_of_its_path(tmp_path):
    """CSV parts are held in memory for the whole run: a path string on every row cost ~75% more memory."""
    _crm(tmp_path)
    rows = ACTIVITIES.splitlines()[1:]
    parts = _split_activities(tmp_path, "csv", [rows[:2], rows[2:]])
    crm = load_crm(tmp_path, now=NOW)
    stored = dict(crm.con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = 'raw_activities_text'").fetchall())
    assert stored["_file"].startswith("ENUM"), stored
    assert crm.con.execute("SELECT DISTINCT _file FROM raw_activities ORDER BY 1").fetchall() == \
        [(str(parts / "part-0.csv"),), (str(parts / "part-1.csv"),)]
