"""A failure the user can cause is one paragraph and its documented exit code, never a traceback."""

from __future__ import annotations

import shutil

import pytest

from leadscore.pipeline.cli import main


@pytest.fixture(scope="module")
def crm_folder(tmp_path_factory):
    from leadscore.features.synthetic import generate_crm, write_crm

    folder = tmp_path_factory.mktemp("crm")
    write_crm(generate_crm(200, seed=5, months=6), folder)
    return folder


def _run(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    return code, err


def test_a_parquet_file_with_corrupt_pages_is_named(crm_folder, tmp_path, capsys):
    damaged = tmp_path / "crm"
    shutil.copytree(crm_folder, damaged)
    path = damaged / "activities.parquet"
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle:middle + 256] = b"\0" * 256
    path.write_bytes(bytes(content))
    code, err = _run(["validate", "--data", damaged], capsys)
    assert code == 2 and f"{path}: cannot be read" in err and "export it again" in err


def test_a_memory_limit_too_small_names_the_setting(crm_folder, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("engine:\n  memory_limit: 1MB\n")
    code, err = _run(["validate", "--data", crm_folder, "--config", config], capsys)
    assert code == 2 and "engine.memory_limit (1MB)" in err


def test_a_temp_directory_that_cannot_be_created_is_named(crm_folder, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    config = tmp_path / "c.yaml"
    config.write_text(f"engine:\n  temp_directory: {blocker / 'spill'}\n")
    code, err = _run(["validate", "--data", crm_folder, "--config", config], capsys)
    assert code == 2 and f"{blocker / 'spill'}: cannot create this folder" in err


@pytest.mark.parametrize(("uri", "says"), [("foo://bar", "unsupported URI 'foo://bar'"), ("file://", "maintenance mode")])
def test_a_tracking_uri_mlflow_cannot_use_is_exit_5_before_any_work(crm_folder, tmp_path, capsys, uri, says, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("training started before the tracking store was checked")

    monkeypatch.setattr("leadscore.pipeline.train.fit_models", forbidden)
    config = tmp_path / "c.yaml"
    config.write_text(f"tracking:\n  uri: \"{uri}\"\n")
    code, err = _run(["train", "--data", crm_folder, "--config", config, "--workdir", tmp_path / "w"], capsys)
    assert code == 5 and f"MLflow tracking store {uri} cannot be reached or used" in err and says in err


@pytest.mark.parametrize("command", [["score", "--data", "crm", "--workdir", "w"], ["features", "--data", "crm"]])
def test_an_out_that_is_a_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    def forbidden(*args, **kwargs):
        raise AssertionError("the command started work before checking --out")

    monkeypatch.setattr("leadscore.pipeline.score.resolve_model", forbidden)
    monkeypatch.setattr("leadscore.features.loaders.load_crm", forbidden)
    (tmp_path / "scores.parquet").mkdir()
    monkeypatch.chdir(tmp_path)
    code, err = _run([*command, "--out", tmp_path / "scores.parquet"], capsys)
    assert code == 2 and "scores.parquet: is a folder" in err


def test_a_lead_id_holding_terminal_escapes_is_shown_escaped_in_the_error(tmp_path, capsys):
    from leadscore.features.synthetic import generate_crm, write_crm

    crm = generate_crm(60, seed=2, months=6)
    hostile = "\x1b[2J\x1b[31mL-evil"
    crm.leads["lead_id"] = crm.leads["lead_id"].astype(str)
    crm.leads.loc[crm.leads.index[:2], "lead_id"] = hostile  # a duplicate id: validation names it
    write_crm(crm, tmp_path / "crm", fmt="csv")
    code, err = _run(["validate", "--data", tmp_path / "crm"], capsys)
    assert code == 2 and "\x1b" not in err and "\\x1b[2J" in err


def test_a_working_folder_through_a_file_is_bad_input(tmp_path, capsys, crm_folder):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    code, err = _run(["train", "--data", crm_folder, "--workdir", blocker / "work"], capsys)
    assert code == 2 and "cannot create this folder" in err


def test_a_sqlite_tracking_store_in_a_folder_that_cannot_be_created_is_bad_input(tmp_path, capsys, crm_folder):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    config = tmp_path / "c.yaml"
    config.write_text(f"tracking:\n  uri: sqlite:///{blocker}/store/mlflow.db\n")
    code, err = _run(["train", "--data", crm_folder, "--config", config, "--workdir", tmp_path / "w"], capsys)
    assert code == 2 and f"{blocker}/store: cannot create this folder" in err


@pytest.mark.parametrize("name", ["o'brien crm", "crm?#1", "crm 50%", "ünï"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_crm_folder_with_any_legal_name_is_read(tmp_path, capsys, name, fmt):
    from leadscore.features.synthetic import generate_crm, write_crm

    write_crm(generate_crm(60, seed=2, months=6), tmp_path / name, fmt=fmt)
    code, _ = _run(["validate", "--data", tmp_path / name], capsys)
    assert code == 0
