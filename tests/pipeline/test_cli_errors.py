"""A bad argument is refused before any work: one line naming it, its exit code, nothing written."""

from __future__ import annotations

import pytest

from leadscore.pipeline import errors
from leadscore.pipeline.cli import main


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Run in an empty folder where loading a model or a CRM, or generating one, fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the command started work before checking its arguments")

    monkeypatch.setattr("leadscore.pipeline.score.resolve_model", forbidden)
    monkeypatch.setattr("leadscore.features.loaders.load_crm", forbidden)
    monkeypatch.setattr("leadscore.pipeline.commands.generate.generate_crm", forbidden)
    monkeypatch.chdir(tmp_path)
    return tmp_path


SCORE = ["score", "--data", "crm", "--workdir", "work"]
FEATURES = ["features", "--data", "crm"]
GENERATE = ["generate", "--out", "generated", "--leads", "100"]


@pytest.mark.parametrize(("argv", "code", "message"), [
    (SCORE + ["--as-of", "2026-13-01"], 2, "--as-of 2026-13-01: not a date (YYYY-MM-DD)"),
    (SCORE + ["--as-of", "notadate"], 2, "--as-of notadate: not a date (YYYY-MM-DD)"),
    (SCORE + ["--as-of", "NaT"], 2, "--as-of NaT: not a date (YYYY-MM-DD)"),
    (FEATURES + ["--out", "f.parquet", "--as-of", "2026-02-30"], 2, "--as-of 2026-02-30: not a date (YYYY-MM-DD)"),
    (GENERATE + ["--start", "2024-13-01"], 2, "--start 2024-13-01: not a date (YYYY-MM-DD)"),
    (GENERATE + ["--format", "xlsx"], 2, "'xlsx' is not one of 'parquet'"),
    (SCORE + ["--out", "x/scores.json"], 2, "--out x/scores.json: output must end in .parquet or .csv"),
    (FEATURES + ["--out", "f.txt"], 2, "--out f.txt: output must end in .parquet or .csv"),
    (SCORE + ["--db-url", "notaurl"], 2, "--db-url notaurl: not a usable SQLAlchemy URL"),
    (SCORE + ["--db-url", "sqlite:///scores.db", "--db-table", "x;drop"], 2, "--db-table 'x;drop': use letters, digits"),
    (SCORE + ["--db-url", "nosuchdb://me:s3cret@localhost/crm"], 2, "--db-url nosuchdb://me:***@localhost/crm: not a usable"),
    (SCORE + ["--db-url", "sqlite:////nonexistent/x.db"], 1, "--db-url sqlite:////nonexistent/x.db table lead_scores: cannot be reached"),
])
def test_a_bad_argument_is_refused_naming_it_before_any_work_and_writes_nothing(argv, code, message, no_work, capsys):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "s3cret" not in err
    assert sorted(p.name for p in no_work.rglob("*")) == []


@pytest.mark.parametrize(("error", "code"), [
    (errors.LeadscoreError("x"), 1),
    (errors.BadInputError("x"), 2),
    (errors.InsufficientDataError("x"), 2),
    (errors.DeclarationError("x"), 2),
    (errors.SchemaMismatchError("x"), 3),
    (errors.DriftError("x"), 4),
    (errors.TrackingError("x"), 5),
])
def test_the_command_line_maps_each_error_class_to_its_documented_exit_code(error, code, monkeypatch, capsys):
    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr("leadscore.pipeline.commands.features.load_config", failing)
    assert main(["features", "--list"]) == code
    err = capsys.readouterr().err
    assert "error: x" in err and "Traceback" not in err


def test_the_lower_layers_errors_carry_no_exit_code():
    assert not any(hasattr(cls, "exit_code") for cls in (errors.LeadscoreError, errors.BadInputError, errors.SchemaMismatchError))


@pytest.mark.parametrize("argv", [
    ["generate", "--leads", "500", "--out", "{afile}/sub"],
    ["import", "salesforce", "{export}", "--out", "{afile}"],
    ["promote", "--workdir", "{afile}"],
])
def test_an_output_folder_through_a_file_is_bad_input_naming_it(argv, tmp_path, capsys):
    """A path that runs into an existing file is the user's to fix: exit 2 and the path, never a traceback."""
    from pathlib import Path

    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    export = Path(__file__).parent / "adapters" / "salesforce_export"
    code = main([a.format(afile=afile, export=export) for a in argv])
    message = capsys.readouterr().err
    assert code == 2, message
    assert "cannot create this folder" in message and "afile" in message and "Traceback" not in message
