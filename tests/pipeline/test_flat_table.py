"""Reading a flat export: blank tokens, column kinds, config mistakes named by key, outcome values, and each way to split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat import read_flat_table, train_flat
from leadscore.pipeline.flat_split import row_periods
from leadscore.pipeline.flat_table import infer_kinds, outcome_labels, read_export, typed_features
from tests.pipeline.flat_exports import flat_section, lead_export, write_export


def _config(path: Path, table: Path | None = None, **flat):
    return load_config(flat=flat_section(path, table or path, **flat))


def test_configured_blank_tokens_are_blanks_and_leave_a_number_column_numeric(tmp_path):
    export = lead_export(n=50).assign(visits=lambda f: f["visits"].astype(str).where(f.index % 5 > 0, "Select"))
    path, _ = write_export(tmp_path, export)
    config = _config(path, na_values=["Select"])
    frame = read_export(path, ",", config.flat.na_values, ["visits"])
    assert frame["visits"].isna().sum() == 10
    kinds = infer_kinds(frame, config.flat)
    assert kinds["visits"] == "number"
    assert typed_features(frame, kinds, path)["visits"].dtype == float


def test_without_the_blank_token_the_placeholder_makes_a_number_column_an_error_naming_it(tmp_path):
    export = lead_export(n=50).assign(visits=lambda f: f["visits"].astype(str).where(f.index % 5 > 0, "Select"))
    path, _ = write_export(tmp_path, export)
    config = _config(path, numeric=["visits"])
    frame = read_export(path, ",", (), ["visits"])
    with pytest.raises(BadInputError, match=r"leads.csv: column 'visits' is read as a number but holds 10 values that are "
                                            r"not: 'Select' \(row 1\).*flat.na_values"):
        typed_features(frame, infer_kinds(frame, config.flat), path)


def test_a_numeric_looking_code_is_a_category_when_configured_so(tmp_path):
    path, _ = write_export(tmp_path, lead_export(n=50).assign(age=lambda f: f["age"] % 7))
    config = _config(path, categorical=["age"])
    frame = read_export(path, ",", (), ["age"])
    assert infer_kinds(frame, _config(path).flat)["age"] == "number"
    kinds = infer_kinds(frame, config.flat)
    assert kinds["age"] == "category" and typed_features(frame, kinds, path)["age"].dtype == "string"


@pytest.mark.parametrize("flat, message", [
    ({"behaviour": ["visits", "age"]}, r"key 'flat': .*age listed under both flat.explicit and flat.behaviour; list each column once"),
    ({"drop": ["job"]}, r"job listed under both flat.explicit and flat.drop"),
    ({"numeric": ["job"], "categorical": ["job"]}, r"job listed under both flat.numeric and flat.categorical"),
    ({"numeric": ["colour"]}, r"name colour, which are not listed under flat.explicit or flat.behaviour"),
    ({"split": {"by": "group"}}, r"key 'flat.split': .*needs split.group_column"),
])
def test_config_mistakes_are_errors_naming_the_key(tmp_path, flat, message):
    with pytest.raises(BadInputError, match=message):
        _config(tmp_path / "leads.csv", **flat)


def test_a_misspelt_positive_value_names_the_values_the_outcome_holds(tmp_path):
    path, _ = write_export(tmp_path, lead_export(n=50))
    config = _config(path, positive_values=["win"])
    with pytest.raises(BadInputError, match=r"leads.csv: no value of column 'outcome' is one of flat.positive_values \('win'\); "
                                            r"the column holds 'lost', 'won'"):
        outcome_labels(read_export(path, ",", (), ["outcome"]), config.flat, path)


def test_an_integer_column_given_as_the_date_is_an_error_naming_it(tmp_path):
    path, _ = write_export(tmp_path, lead_export(n=50).assign(created=lambda f: np.arange(len(f)) + 1000))
    with pytest.raises(BadInputError, match=r"leads.csv: column 'created' \(flat.date_column\) holds numbers \(1000, 1001, 1002\), "
                                            r"not dates.*flat.split.by: order"):
        read_flat_table(_config(path).flat)


def test_dates_that_are_not_dates_are_named_with_their_rows(tmp_path):
    path, _ = write_export(tmp_path, lead_export(n=50).assign(created=lambda f: f["created"].where(f.index != 3, "soon")))
    with pytest.raises(BadInputError, match=r"column 'created' has 1 values that are not dates: 'soon' \(row 4\)"):
        read_flat_table(_config(path).flat)


def _periods(frame: pd.DataFrame, **flat) -> pd.Series:
    config = load_config(flat={"path": "x.csv", "outcome_column": "outcome", **flat})
    labels = (frame["outcome"] == "won").to_numpy().astype(int)
    as_of, _ = row_periods(frame, labels, config.flat, Path("x.csv"))
    return as_of


def test_descending_row_order_puts_the_first_rows_of_the_file_last():
    frame = lead_export(n=200)
    ascending, descending = _periods(frame), _periods(frame, split={"by": "order", "order": "descending"})
    assert ascending.iloc[0] == ascending.min() and ascending.iloc[-1] == ascending.max()
    assert descending.iloc[0] == descending.max() and descending.iloc[-1] == descending.min()


def test_a_random_split_gives_every_block_the_exports_share_of_wins():
    frame = lead_export(n=2000)
    as_of = _periods(frame, split={"by": "random"})
    won = (frame["outcome"] == "won").groupby(as_of.to_numpy()).mean()
    assert as_of.nunique() == 20 and (won - (frame["outcome"] == "won").mean()).abs().max() < 0.02


def test_a_grouped_split_keeps_each_account_in_one_block():
    frame = lead_export(n=2000).assign(account=lambda f: [f"A{i % 150}" for i in range(len(f))])
    as_of = _periods(frame, split={"by": "group", "group_column": "account"})
    assert as_of.groupby(frame["account"].to_numpy()).nunique().max() == 1 and as_of.nunique() == 20


def test_a_missing_points_table_says_a_flat_export_needs_its_own(tmp_path):
    path, _ = write_export(tmp_path, lead_export(n=2400))
    config = load_config(workdir=str(tmp_path / "w"), flat={**flat_section(path, path), "points_table": None})
    with pytest.raises(BadInputError, match="flat.points_table is not set: a flat export needs its own points table"):
        train_flat(config)


def test_ids_falling_down_a_file_split_in_ascending_order_are_warned_of():
    frame = lead_export(n=200).assign(lead=lambda f: np.arange(len(f))[::-1] + 1)
    config = load_config(flat={"path": "x.csv", "outcome_column": "outcome", "id_column": "lead"})
    labels = (frame["outcome"] == "won").to_numpy().astype(int)
    _, choice = row_periods(frame, labels, config.flat, Path("x.csv"))
    assert len(choice.warnings) == 1 and "'lead' fall down the file" in choice.warnings[0]
    assert "flat.split.order: descending" in choice.warnings[0]
    declared = load_config(flat={"path": "x.csv", "outcome_column": "outcome", "id_column": "lead",
                                 "split": {"by": "order", "order": "descending"}})
    assert row_periods(frame, labels, declared.flat, Path("x.csv"))[1].warnings == ()


def test_a_ragged_row_is_an_error_naming_the_file_and_line(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("lead,age,job,visits,outcome\nL1,30,admin,2,won\nL2,41,admin,1,3,lost\n")
    with pytest.raises(BadInputError, match=r"leads.csv: cannot be read as a ','-separated table: .*Expected 5 fields in line 3, saw 6"):
        read_export(path, ",", (), ["age"])
