"""A config or points table with a key given twice is refused, naming the key and both lines."""

from __future__ import annotations

import pytest

from leadscore.pipeline.cli import main


def test_a_config_with_a_section_given_twice_is_bad_input(tmp_path, capsys):
    config = tmp_path / "leadscore.yaml"
    config.write_text("model:\n  seed: 1\nwindows:\n  horizon_days: 60\nmodel:\n  seed: 2\n")
    assert main(["rules", "--check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "'model' is given twice (line 1 and line 5)" in err
    assert "Traceback" not in err


def test_a_points_table_with_a_rule_key_given_twice_is_bad_input(tmp_path, capsys):
    table = tmp_path / "points.yaml"
    table.write_text("name: mine\nrules:\n  - id: a\n    feature: x\n    points: 5\n    points: 50\n")
    config = tmp_path / "leadscore.yaml"
    config.write_text(f"points_table: {table}\n")
    assert main(["rules", "--check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "'points' is given twice (line 5 and line 6)" in err
    assert "Traceback" not in err


def test_a_csv_export_with_a_column_named_twice_is_bad_input(tmp_path, capsys):
    from leadscore.features.synthetic import generate_crm, write_crm

    data = tmp_path / "crm"
    write_crm(generate_crm(60, seed=2, months=6), data, fmt="csv")
    leads = data / "leads.csv"
    lines = leads.read_text().splitlines()
    first = lines[0].split(",")[1]
    lines = [lines[0] + f",{first}"] + [line + ",x" for line in lines[1:]]
    leads.write_text("\n".join(lines) + "\n")
    assert main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert str(leads) in err and f"'{first}' more than once" in err


@pytest.mark.parametrize("huge", ["1e308", "-1e300", "2e15"])
def test_a_value_that_would_overflow_a_feature_sum_is_bad_input(tmp_path, capsys, huge):
    from leadscore.features.synthetic import generate_crm, write_crm

    data = tmp_path / "crm"
    crm = generate_crm(60, seed=2, months=6)
    crm.activities["value"] = crm.activities["value"].astype(object)
    crm.activities.loc[crm.activities.index[:2], "value"] = huge
    write_crm(crm, data, fmt="csv")
    assert main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "activities" in err and "'value'" in err and "beyond ±1e+15" in err and "Traceback" not in err


def test_features_stay_finite_at_the_largest_values_validation_accepts(tmp_path):
    import numpy as np
    import pandas as pd

    from leadscore.features.builder import build_features
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import generate_crm, write_crm
    from leadscore.features.validation import MAX_ABS_VALUE

    data = tmp_path / "crm"
    crm_data = generate_crm(80, seed=4, months=6)
    crm_data.activities["value"] = MAX_ABS_VALUE
    crm_data.opportunities["amount"] = -MAX_ABS_VALUE
    write_crm(crm_data, data)
    crm = load_crm(data)
    as_of = crm.data_end.normalize() + pd.Timedelta(days=1)
    frame = build_features(crm, pd.DataFrame({"lead_id": crm_data.leads["lead_id"], "as_of": as_of}))
    numbers = frame.select_dtypes("number")
    assert np.isfinite(numbers.to_numpy(dtype=float)[~np.isnan(numbers.to_numpy(dtype=float))]).all()


@pytest.mark.parametrize("name", ['x" FROM leads; --', "tab\there", " "])
def test_an_extra_lead_column_name_that_could_end_a_sql_identifier_is_refused(tmp_path, capsys, name):
    import yaml

    config = tmp_path / "leadscore.yaml"
    config.write_text(yaml.safe_dump({"features": {"extra_lead_columns": {name: "numeric"}}}))
    assert main(["rules", "--check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "not a usable column name" in err and "Traceback" not in err


@pytest.mark.parametrize(("params", "named"), [("num_leaves: -3", "num_leaves=-3"), ("objective: nonsense", "objective='nonsense'"),
                                               ("learning_rate: fast", "learning_rate='fast'")])
def test_lightgbm_parameters_lightgbm_refuses_are_a_config_error_before_any_data_is_read(tmp_path, capsys, monkeypatch,
                                                                                          params, named):
    def forbidden(*args, **kwargs):
        raise AssertionError("the CRM was read before the config was checked")

    monkeypatch.setattr("leadscore.features.loaders.load_crm", forbidden)
    config = tmp_path / "leadscore.yaml"
    config.write_text(f"model:\n  params:\n    {params}\n    min_child_samples: 5\n")
    assert main(["train", "--data", str(tmp_path), "--config", str(config), "--workdir", str(tmp_path / "w")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "model.params" in err and f"LightGBM refuses {named}" in err and "Traceback" not in err


def test_a_key_given_twice_inside_a_section_is_named(tmp_path, capsys):
    config = tmp_path / "leadscore.yaml"
    config.write_text("features:\n  recent_sends: 5\n  max_category_levels: 20\n  recent_sends: 6\n")
    assert main(["rules", "--check", "--config", str(config)]) == 2
    assert "'recent_sends' is given twice (line 2 and line 4)" in " ".join(capsys.readouterr().err.split())


def test_zero_boosting_rounds_is_a_config_error(tmp_path, capsys):
    config = tmp_path / "leadscore.yaml"
    config.write_text("model:\n  params:\n    n_estimators: 0\n")
    assert main(["rules", "--check", "--config", str(config)]) == 2
    assert "LightGBM refuses n_estimators=0" in " ".join(capsys.readouterr().err.split())
