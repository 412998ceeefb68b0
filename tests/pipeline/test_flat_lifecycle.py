"""`flat train` saves, registers and promotes a model; `flat score` scores new rows with it, atomically and idempotently."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.pipeline.cli import main
from leadscore.pipeline.config import load_config
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_score import FLAT_OUTPUT_COLUMNS, score_flat
from leadscore.pipeline.flat_train import train_flat_model
from tests.pipeline.flat_exports import flat_section, lead_export, write_export


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A constructed export trained, registered and promoted once for the module; the new rows to score beside it."""
    folder = tmp_path_factory.mktemp("flat")
    export = lead_export()
    path, table = write_export(folder, export)
    config = load_config(workdir=str(folder / "work"), flat=flat_section(path, table))
    result = train_flat_model(config, promote=True)
    new = lead_export(n=300, seed=7).drop(columns=["outcome"])
    new_path = folder / "new_leads.csv"
    new.to_csv(new_path, index=False)
    return config, result, new_path, folder


def test_training_registers_the_bundle_and_promotes_it_over_the_points_table(trained):
    config, result, _, _ = trained
    assert result.model_version == "1" and result.promotion.promote, result.promotion.reason
    assert (result.bundle_dir / "model.joblib").exists() and result.bundle.manifest["name"] == "leadscore-flat"
    assert result.bundle.manifest["flat"]["kinds"] == {"age": "number", "job": "category", "visits": "number"}
    assert result.result.split["by"] == "date" and result.result.split["test_from"].startswith("2024-")


def test_new_rows_are_scored_by_the_champion_and_a_rerun_writes_the_same_bytes(trained):
    config, _, new_path, folder = trained
    out = folder / "scores.csv"
    first = score_flat(new_path, out, config)
    written = out.read_bytes()
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(FLAT_OUTPUT_COLUMNS) and len(frame) == 300
    assert frame["lead_id"].tolist() == pd.read_csv(new_path)["lead"].tolist()  # the input's ids, in its order
    assert frame["probability"].between(0, 1).all() and frame["score"].between(0, 100).all()
    assert set(frame["grade"]) <= set("ABCD") and set(frame["rule_segment"]) <= {"hot", "nurture", "leave"}
    hot = frame["segment"] == "hot"
    said = frame["reasons_model_up"].fillna("") + frame["reasons_model_down"].fillna("")
    assert hot.any() and (said[hot] != "").all()  # every hot call comes with its reasons
    assert first.model_version == "1"
    score_flat(new_path, out, config)
    assert out.read_bytes() == written
    # no temporary file left beside the scores (the lock file stays, as for `leadscore score`)
    assert not [p for p in folder.iterdir() if p.name.startswith(".scores") and not p.name.endswith(".lock")]


def test_a_missing_column_is_an_error_naming_it_and_the_old_scores_stay(trained):
    config, _, new_path, folder = trained
    broken = folder / "broken.csv"
    pd.read_csv(new_path).drop(columns=["visits"]).to_csv(broken, index=False)
    out = folder / "scores_kept.parquet"
    score_flat(new_path, out, config)
    before = out.read_bytes()
    with pytest.raises(BadInputError, match=r"broken.csv: missing column visits; found: lead, created, age, job"):
        score_flat(broken, out, config)
    assert out.read_bytes() == before


@pytest.mark.slow  # a second training run, through the command line
def test_the_cli_trains_prints_the_leakage_table_and_verdict_then_scores(trained, tmp_path, capsys):
    _, _, new_path, folder = trained
    config_file = tmp_path / "flat.yaml"
    import yaml

    config_file.write_text(yaml.safe_dump({"workdir": str(tmp_path / "work"),
                                           "flat": flat_section(folder / "leads.csv", folder / "points.yaml")}))
    assert main(["flat", "--config", str(config_file), "--promote"]) == 0  # `flat` alone is `flat train`
    printed = capsys.readouterr().out
    assert "leakage guard" in printed and "verdict:" in printed and "split by the date column 'created'" in printed
    assert "registered as leadscore-flat version 1" in printed
    out = tmp_path / "scores.parquet"
    assert main(["flat", "score", "--config", str(config_file), "--data", str(new_path), "--out", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 300


def test_training_on_an_export_with_leaks_prints_the_table_and_refuses_naming_the_key(tmp_path, capsys):
    """A winner-only sparse deal column and a sales-status column ranking wins at ~0.92: the guard stops both."""
    import numpy as np
    import yaml

    export = lead_export(n=2400)
    rng = np.random.default_rng(3)
    won = (export["outcome"] == "won").to_numpy()
    deal = np.full(len(export), np.nan)
    deal[rng.choice(np.flatnonzero(won), 25, replace=False)] = 5000.0
    says_won = won == (rng.random(len(export)) < 0.92)
    export = export.assign(deal_amount=deal, lead_status=np.where(says_won, "Closed by Horizon", "Will revert after reading the email"))
    path, table = write_export(tmp_path, export)
    config_file = tmp_path / "flat.yaml"
    section = flat_section(path, table)
    section["behaviour"] = ["visits", "deal_amount", "lead_status"]
    config_file.write_text(yaml.safe_dump({"workdir": str(tmp_path / "work"), "flat": section}))
    assert main(["flat", "train", "--config", str(config_file)]) == 2
    captured = capsys.readouterr()
    assert "leakage guard" in captured.out and "lead_status" in captured.out and "refuse" in captured.out
    message = " ".join(captured.err.split())
    import re

    assert re.search(r"refusing to train on columns that look like label leakage: 'deal_amount': filled on \d+ rows, "
                     r"every one a winner", message)
    assert "'lead_status': alone it ranks wins with AUC 0.9" in message and "allow_features: [deal_amount, lead_status]" in message


def test_flat_without_a_config_is_a_usage_error(capsys):
    assert main(["flat"]) == 2
    assert "--config is required" in capsys.readouterr().err


def test_a_scoring_run_is_logged_in_its_own_experiment_tagged_with_the_model_version(trained):
    from mlflow.tracking import MlflowClient

    from leadscore.pipeline import tracking

    config, result, new_path, folder = trained
    scored = score_flat(new_path, folder / "logged.csv", config)
    client = MlflowClient(tracking_uri=config.tracking_uri())
    run = client.get_run(scored.run_id)
    assert run.info.run_name == f"score-{pd.Timestamp.now(tz='UTC'):%Y-%m-%d}"
    assert run.data.tags[tracking.MODEL_VERSION_TAG] == "1" and run.data.tags["leadscore.model_name"] == "leadscore-flat"
    assert run.data.tags["leadscore.model_run_id"] == result.run_id  # the run that trained the version
    assert client.get_experiment(run.info.experiment_id).name == f"{config.tracking.experiment}-scoring"
    assert run.data.metrics["leads"] == 300 and run.data.params["data"] == str(new_path)
    assert score_flat(new_path, folder / "unlogged.csv", config, log_to_mlflow=False).run_id is None


def test_promote_with_a_flat_config_considers_the_flat_models_versions(trained, tmp_path, capsys):
    import yaml

    config, _, _, _ = trained
    config_file = tmp_path / "flat.yaml"
    config_file.write_text(yaml.safe_dump({"workdir": config.workdir, "flat": config.flat.model_dump(mode="json")}))
    assert main(["promote", "--config", str(config_file), "--version", "1"]) == 0
    assert "version 1: " in capsys.readouterr().out
    assert main(["promote", "--config", str(config_file), "--version", "7"]) != 0
    assert "leadscore-flat" in " ".join(capsys.readouterr().err.split())
