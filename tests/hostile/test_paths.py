"""Working folders with any legal characters keep every artefact inside them."""

from __future__ import annotations

import pytest

from leadscore.pipeline import tracking
from leadscore.pipeline.config import load_config

pytestmark = pytest.mark.slow  # each case migrates a fresh MLflow SQLite store (seconds each)


@pytest.mark.parametrize("name", ["a?b #c", "it's ünïcode", "50%20off"])
def test_the_local_tracking_store_and_its_artifacts_stay_inside_the_working_folder(tmp_path, name):
    work = tmp_path / name
    config = load_config(workdir=str(work))
    report = tmp_path / "report.txt"
    report.write_text("a scoring run's artefact")
    run_id = tracking.log_scoring_run(config, {"as_of": "2026-07-01"}, {"leads": 3.0}, [report])
    report.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (work / "mlflow.db").exists()
    logged = list((work / "mlartifacts").rglob("report.txt"))
    assert len(logged) == 1 and run_id in str(logged[0])


def test_two_working_folders_that_differ_after_a_question_mark_do_not_share_a_store(tmp_path):
    first, second = (load_config(workdir=str(tmp_path / f"w?{n}")) for n in (1, 2))
    tracking.log_scoring_run(first, {}, {"leads": 1.0}, [])
    tracking.log_scoring_run(second, {}, {"leads": 2.0}, [])
    for config, leads in ((first, 1.0), (second, 2.0)):
        runs = tracking.client(config).search_runs([tracking.experiment_id(config, config.tracking.scoring_experiment_name())])
        assert [r.data.metrics["leads"] for r in runs] == [leads]


def test_a_duckdb_file_whose_name_holds_a_quote_is_the_file_read(tmp_path):
    """`o'brien.duckdb` is read, not `obrien.duckdb` beside it."""
    import duckdb

    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import generate_crm

    crm = generate_crm(200, seed=3, months=6)
    for name, leads in (("o'brien.duckdb", crm.leads), ("obrien.duckdb", crm.leads.head(50))):
        with duckdb.connect(str(tmp_path / name)) as con:
            for table, frame in (("leads", leads), ("activities", crm.activities[crm.activities["lead_id"].isin(leads["lead_id"])]),
                                 ("opportunities", crm.opportunities[crm.opportunities["lead_id"].isin(leads["lead_id"])])):
                con.register("frame", frame)
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
    loaded = load_crm(tmp_path / "o'brien.duckdb")
    assert loaded.summary["leads_rows"] == len(crm.leads)


def test_a_copied_working_folder_writes_its_artefacts_into_itself(tmp_path, capsys):
    import shutil

    original = load_config(workdir=str(tmp_path / "original"))
    tracking.log_scoring_run(original, {}, {"leads": 1.0}, [])
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    before = sorted(p.relative_to(tmp_path / "original") for p in (tmp_path / "original").rglob("*"))
    report = tmp_path / "report.txt"
    report.write_text("the copy's artefact")
    run_id = tracking.log_scoring_run(load_config(workdir=str(tmp_path / "copy")), {}, {"leads": 2.0}, [report])
    assert "moved or copied" in " ".join(capsys.readouterr().err.split())
    assert sorted(p.relative_to(tmp_path / "original") for p in (tmp_path / "original").rglob("*")) == before
    assert len(list((tmp_path / "copy" / "mlartifacts").rglob("report.txt"))) == 1
    assert run_id in str(next((tmp_path / "copy" / "mlartifacts").rglob("report.txt")))


def test_a_moved_working_folder_keeps_working(tmp_path):
    tracking.log_scoring_run(load_config(workdir=str(tmp_path / "before")), {}, {"leads": 1.0}, [])
    (tmp_path / "before").rename(tmp_path / "after")
    moved = load_config(workdir=str(tmp_path / "after"))
    report = tmp_path / "report.txt"
    report.write_text("after the move")
    tracking.log_scoring_run(moved, {}, {"leads": 2.0}, [report])
    runs = tracking.client(moved).search_runs([tracking.experiment_id(moved, moved.tracking.scoring_experiment_name())])
    assert sorted(r.data.metrics["leads"] for r in runs) == [1.0, 2.0]
    assert not (tmp_path / "before").exists()
