"""A flat export's data handling: censoring of rows too young to have an outcome, joined files, and features derived from dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat import read_flat_table

EXPORT = """\
Lead ID,Created Date,Account ID,Lead Source,Last Visit,Stage,Won Date
L-0007,2024-03-02,ACC-3,Web,2024-02-27,Won,2024-03-20
L-0003,2024-01-15,ACC-1,Referral,,Lost,
L-0012,2024-06-20,ACC-2,Web,2024-06-20,Won,2024-06-25
L-0001,2024-01-02,ACC-1,Event,2023-12-30,Won,2024-05-30
L-0009,2024-05-11,ACC-3,Web,2024-05-01,Lost,
L-0010,2024-06-01,ACC-2, ,2024-05-31,Lost,
"""

ACCOUNTS = """\
account_id;Industry;Employees
ACC-1;Retail;120
ACC-2;Banking;N/A
ACC-3;Retail;8
"""


def _write(tmp_path: Path, export: str = EXPORT, accounts: str = ACCOUNTS) -> tuple[Path, Path]:
    (tmp_path / "leads.csv").write_text(export)
    (tmp_path / "accounts.csv").write_text(accounts)
    return tmp_path / "leads.csv", tmp_path / "accounts.csv"


def _flat(path: Path, **extra) -> dict:
    return {"path": str(path), "id_column": "Lead ID", "outcome_column": "Stage", "positive_values": ["Won"],
            "date_column": "Created Date", "explicit": ["Lead Source"], "na_values": ["N/A"], **extra}


def _read(path: Path, **extra) -> pd.DataFrame:
    return read_flat_table(load_config(flat=_flat(path, **extra)).flat).set_index("lead_id")


# censoring ------------------------------------------------------------------------------------


def test_rows_younger_than_the_horizon_are_left_out_and_late_wins_count_as_losses(tmp_path):
    path, _ = _write(tmp_path)
    config = load_config(flat=_flat(path, censoring={"horizon_days": 90, "won_date_column": "Won Date"}))
    from leadscore.pipeline.flat import _read as read_with_choice

    frame, _, choice = read_with_choice(config.flat, None, 0)
    # the export ends on its latest date, 2024-06-25: rows created after 2024-03-27 cannot be judged at 90 days
    assert sorted(frame["lead_id"]) == ["L-0001", "L-0003", "L-0007"]
    labels = frame.set_index("lead_id")["label"]
    assert labels["L-0007"] == 1  # won 18 days after it was created
    assert labels["L-0001"] == 0  # won 149 days after: a loss at the 90-day horizon
    c = choice.censoring
    assert (c.immature, c.immature_won, c.late_wins) == (3, 1, 1) and str(c.export_end.date()) == "2024-06-25"
    assert "3 rows created after 2024-03-27" in choice.worded and "1 wins came more than 90 days" in choice.worded


def test_a_configured_export_end_moves_the_cutoff(tmp_path):
    path, _ = _write(tmp_path)
    frame = _read(path, censoring={"horizon_days": 30, "export_end": "2024-07-10"})
    assert sorted(frame.index) == ["L-0001", "L-0003", "L-0007", "L-0009", "L-0010"]  # only L-0012 is younger than 30 days


def test_a_won_date_before_the_created_date_is_an_error_naming_the_rows(tmp_path):
    path, _ = _write(tmp_path, EXPORT.replace("L-0007,2024-03-02", "L-0007,2024-04-02"))
    with pytest.raises(BadInputError, match=r"leads.csv: column 'Won Date' \(flat.censoring.won_date_column\) is before column "
                                            r"'Created Date' on 1 rows: row 1: won 2024-03-20, created 2024-04-02"):
        _read(path, censoring={"horizon_days": 90, "won_date_column": "Won Date"})


@pytest.mark.parametrize("censoring, message", [
    ({"horizon_days": 0}, r"key 'flat.censoring.horizon_days'"),
    ({"horizon_days": 90, "export_end": "2024-13-01"}, r"key 'flat.censoring.export_end'.*not a date"),
    ({"horizon_days": 90, "won_on": "Won Date"}, r"key 'flat.censoring.won_on'"),
])
def test_censoring_config_mistakes_name_the_key(tmp_path, censoring, message):
    with pytest.raises(BadInputError, match=message):
        load_config(flat=_flat(tmp_path / "leads.csv", censoring=censoring))


def test_censoring_without_a_created_date_is_a_config_error(tmp_path):
    with pytest.raises(BadInputError, match="flat.censoring needs the row's created date"):
        load_config(flat={**_flat(tmp_path / "leads.csv", censoring={"horizon_days": 90}), "date_column": None})


# joins ----------------------------------------------------------------------------------------


def _join(accounts: Path, **extra) -> list[dict]:
    return [{"path": str(accounts), "key": "Account ID", "other_key": "account_id", "delimiter": ";", **extra}]


def test_a_joined_file_brings_its_columns_row_for_row_with_its_blank_tokens(tmp_path):
    path, accounts = _write(tmp_path)
    frame = _read(path, join=_join(accounts), behaviour=["Industry", "Employees"])
    assert frame.loc["L-0001", "Industry"] == "Retail" and frame.loc["L-0009", "Employees"] == "8"
    assert pd.isna(frame.loc["L-0012", "Employees"])  # N/A in the accounts file is a blank
    assert frame["Lead Source"].isna().sum() == 1  # a cell holding a space is blank too
    assert len(frame) == 6


def test_a_key_repeated_in_the_joined_file_is_an_error_naming_file_column_and_values(tmp_path):
    path, accounts = _write(tmp_path, accounts=ACCOUNTS + "ACC-3;Retail;9\nACC-1;Retail;121\n")
    with pytest.raises(BadInputError, match=r"accounts.csv: column 'account_id' \(the key of flat.join\) must hold one row per "
                                            r"key; repeated: 'ACC-1', 'ACC-3'"):
        _read(path, join=_join(accounts), behaviour=["Industry"])


def test_a_lead_whose_key_the_joined_file_lacks_is_an_error_unless_blanks_are_allowed(tmp_path):
    path, accounts = _write(tmp_path, accounts="account_id;Industry;Employees\nACC-1;Retail;120\nACC-3;Retail;8\n")
    with pytest.raises(BadInputError, match=r"leads.csv: 2 rows have a 'Account ID' not in .*accounts.csv column 'account_id': "
                                            r"'ACC-2'; .*missing: blank"):
        _read(path, join=_join(accounts), behaviour=["Industry"])
    frame = _read(path, join=_join(accounts, missing="blank"), behaviour=["Industry"])
    assert frame["Industry"].isna().sum() == 2 and frame.loc["L-0001", "Industry"] == "Retail"


def test_a_missing_key_column_and_a_clashing_column_are_named(tmp_path):
    path, accounts = _write(tmp_path)
    with pytest.raises(BadInputError, match=r"accounts.csv: missing column account\b"):
        _read(path, join=_join(accounts, other_key="account"), behaviour=["Industry"])
    clashing = tmp_path / "clash.csv"
    clashing.write_text("account_id;Lead Source\nACC-1;x\n")
    with pytest.raises(BadInputError, match=r"clash.csv: column Lead Source also in .*leads.csv"):
        _read(path, join=_join(clashing))


# date features --------------------------------------------------------------------------------


def test_date_parts_and_the_age_of_a_date_at_the_rows_own_date(tmp_path):
    path, _ = _write(tmp_path)
    frame = _read(path, date_features={"Created Date": ["month", "day_of_week"], "Last Visit": ["age_days"]})
    assert frame.loc["L-0007", "Created Date_month"] == 3 and frame.loc["L-0007", "Created Date_day_of_week"] == 5  # a Saturday
    assert frame.loc["L-0007", "Last Visit_age_days"] == 4 and frame.loc["L-0012", "Last Visit_age_days"] == 0
    assert np.isnan(frame.loc["L-0003", "Last Visit_age_days"])  # no visit: no age


def test_a_date_after_the_rows_own_date_is_refused_as_known_only_later(tmp_path):
    path, _ = _write(tmp_path)
    with pytest.raises(BadInputError, match=r"leads.csv: column 'Won Date' \(flat.date_features\) is after the row's reference "
                                            r"date 'Created Date' on 3 rows: '2024-03-20' after '2024-03-02' \(row 1\)"):
        _read(path, date_features={"Won Date": ["age_days"]})


def test_date_feature_config_mistakes_name_the_key(tmp_path):
    base = tmp_path / "leads.csv"
    with pytest.raises(BadInputError, match=r"key 'flat.date_features.Last Visit.0'"):
        load_config(flat=_flat(base, date_features={"Last Visit": ["weekday"]}))
    with pytest.raises(BadInputError, match=r"Last Visit_month derived by flat.date_features, which adds them as features"):
        load_config(flat=_flat(base, date_features={"Last Visit": ["month"]}, behaviour=["Last Visit_month"]))
    with pytest.raises(BadInputError, match=r"age_days, which needs the row's own date"):
        load_config(flat={**_flat(base, date_features={"Last Visit": ["age_days"]}), "date_column": None})


def test_a_date_feature_column_holding_numbers_or_text_is_an_error_naming_it(tmp_path):
    frame = pd.read_csv(_write(tmp_path)[0], dtype=str)
    days = tmp_path / "days.csv"
    frame.assign(**{"Last Visit": frame["Last Visit"].where(frame["Last Visit"].isna(), "45")}).to_csv(days, index=False)
    with pytest.raises(BadInputError, match=r"days.csv: column 'Last Visit' \(flat.date_features.Last Visit\) holds numbers "
                                            r"\(45, 45, 45\), not dates"):
        _read(days, date_features={"Last Visit": ["month"]})
    text = tmp_path / "text.csv"
    frame.assign(**{"Last Visit": frame["Last Visit"].where(frame.index != 4, "last week")}).to_csv(text, index=False)
    with pytest.raises(BadInputError, match=r"column 'Last Visit' has 1 values that are not dates: 'last week' \(row 5\)"):
        _read(text, date_features={"Last Visit": ["month"]})


@pytest.mark.slow  # trains and registers a model
def test_a_model_trained_with_a_join_date_parts_and_censoring_scores_new_rows_the_same_way(tmp_path):
    from leadscore.pipeline.flat_score import score_flat
    from leadscore.pipeline.flat_train import train_flat_model
    from tests.pipeline.flat_exports import flat_section, lead_export, write_export

    rng = np.random.default_rng(5)

    def with_accounts(export: pd.DataFrame) -> pd.DataFrame:
        created = pd.to_datetime(export["created"])
        visit = created - pd.to_timedelta(rng.integers(0, 60, len(export)), unit="D")
        return export.assign(account=[f"ACC-{i % 40}" for i in range(len(export))],
                             last_visit=visit.dt.strftime("%Y-%m-%d").where(rng.random(len(export)) > 0.2))

    export = with_accounts(lead_export(n=2400))
    path, table = write_export(tmp_path, export)
    accounts = tmp_path / "accounts.csv"
    pd.DataFrame({"account_id": [f"ACC-{i}" for i in range(40)],
                  "industry": rng.choice(["Retail", "Banking", "N/A"], 40)}).to_csv(accounts, index=False)
    section = flat_section(path, table, na_values=["N/A"], behaviour=["visits", "industry"],
                           join=[{"path": str(accounts), "key": "account", "other_key": "account_id"}],
                           date_features={"created": ["month"], "last_visit": ["age_days"]},
                           censoring={"horizon_days": 30})
    config = load_config(workdir=str(tmp_path / "work"), flat=section)
    trained = train_flat_model(config)
    split = trained.result.split
    young = (pd.to_datetime(export["created"]) > pd.to_datetime(export["created"]).max() - pd.Timedelta(days=30)).sum()
    assert split["immature_rows"] == young > 0
    assert split["train_rows"] + split["calibration_rows"] + split["test_rows"] == len(export) - young
    kinds = trained.bundle.manifest["flat"]["kinds"]
    assert kinds["industry"] == "category" and kinds["created_month"] == kinds["last_visit_age_days"] == "number"
    assert "immature" in trained.result.report_paths["html"].read_text()

    new = with_accounts(lead_export(n=200, seed=9)).drop(columns=["outcome"])
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    scored = score_flat(new_path, tmp_path / "scores.csv", config, model=f"models:/leadscore-flat/{trained.model_version}", log_to_mlflow=False)
    assert len(scored.frame) == 200 and scored.frame["probability"].between(0, 1).all()
    pd.read_csv(accounts).iloc[1:].to_csv(accounts, index=False)  # ACC-0 leaves the accounts file
    with pytest.raises(BadInputError, match=r"new.csv: 5 rows have a 'account' not in .*accounts.csv column 'account_id': 'ACC-0'"):
        score_flat(new_path, tmp_path / "scores.csv", config, model=f"models:/leadscore-flat/{trained.model_version}", log_to_mlflow=False)
