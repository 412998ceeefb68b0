"""Experiment: how close a small export's reported AUC is to the AUC its model reaches on new leads, by split.

A small export (default 1,500 rows) is drawn at random from the Bank Marketing table
(`duration` dropped), so its rows are exchangeable and the rest of the table (about 39,700
rows) is a large set of new leads from the same population. Each draw is trained twice with
`leadscore flat`'s own training (`train_flat`): split at random into blocks (`by: random`,
the report reads the last blocks) and by 5-fold cross-validation (`by: kfold`, the report
pools every row). For each, the reported model ROC AUC is set beside the AUC of the model it
registers on the rest of the table:

    .venv/bin/python benchmarks/small_export_cv.py --draws 8 --rows 1500

It prints one line per draw and split, then per split the mean absolute error of the report
against the new leads, and the number of test rows and wins behind each report.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank_marketing" / "bank-additional-full.csv"
EXAMPLE = Path(__file__).resolve().parents[1] / "pipeline" / "conf" / "examples"


def _config(path: Path, split: dict, workdir: Path):
    import yaml

    from leadscore.pipeline.config import load_config

    section = yaml.safe_load((EXAMPLE / "bank_marketing.yaml").read_text())
    flat = {**section["flat"], "path": str(path), "points_table": str(EXAMPLE / section["flat"]["points_table"]), "split": split}
    # a small export's slices hold few wins: the guard is lowered so the random split can run at all
    return load_config(workdir=str(workdir), flat=flat, targets=section["targets"], split={"min_won": 20, "min_lost": 20})


def _new_lead_auc(result, config, rest: Path) -> float:
    from sklearn.metrics import roc_auc_score

    from leadscore.pipeline.flat import read_flat_table
    from leadscore.pipeline.flat_table import typed_features

    fresh = read_flat_table(config.flat.model_copy(update={"path": str(rest), "split": config.flat.split.model_copy(update={"by": "order"})}))
    X = typed_features(fresh, result.kinds, rest)
    return float(roc_auc_score(fresh["label"], result.core.deployed.calibrated.predict_proba(X)[:, 1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(BANK))
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1500)
    args = parser.parse_args()
    from leadscore.pipeline.flat import train_flat

    table = pd.read_csv(args.data, sep=";")
    errors: dict[str, list[float]] = {"random": [], "kfold": []}
    with tempfile.TemporaryDirectory() as tmp:
        for draw in range(args.draws):
            rng = np.random.default_rng(draw)
            chosen = np.zeros(len(table), dtype=bool)
            chosen[rng.choice(len(table), args.rows, replace=False)] = True
            small, rest = Path(tmp) / f"small{draw}.csv", Path(tmp) / f"rest{draw}.csv"
            table[chosen].to_csv(small, sep=";", index=False)
            table[~chosen].to_csv(rest, sep=";", index=False)
            for by in errors:
                config = _config(small, {"by": by}, Path(tmp) / f"w{draw}{by}")
                result = train_flat(config, out=Path(tmp) / f"r{draw}{by}")
                reported = result.metrics["model"]["roc_auc"]
                truth = _new_lead_auc(result, config, rest)
                errors[by].append(abs(reported - truth))
                scored = result.test_frame
                print(f"draw {draw} {by:6s}: reported AUC {reported:.3f} on {len(scored):,} rows ({int(scored['label'].sum())} wins), "
                      f"new leads {truth:.3f}, error {reported - truth:+.3f}", flush=True)
    for by, values in errors.items():
        print(f"{by:6s}: mean absolute error of the reported AUC {np.mean(values):.3f} (max {np.max(values):.3f}) over {len(values)} draws")


if __name__ == "__main__":
    main()
