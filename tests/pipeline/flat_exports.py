"""Small constructed flat exports (one row per lead) with a known signal, written as CSV for the flat-path tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

POINTS_TABLE = """\
name: constructed
version: 1
rules:
  - {id: many_visits, label: visited 3+ times, feature: visits, condition: {at_least: 3}, points: 20}
  - {id: student, label: student or retired, feature: job, condition: {in: [student, retired]}, points: 15}
caps: {}
total: {min: 0, max: 100}
thresholds:
  stages: {MQL: 15, SQL: 30}
  segments: {nurture: 10, hot: 20}
"""


def lead_export(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """Return a flat export: id, date, age, job, visits and a won/lost outcome driven by all three attributes.

    Age enters the outcome as a bump around 45 that the points table (visits, job) does not
    score, so a fitted model beats the table.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 70, n)
    job = rng.choice(["admin", "student", "retired", "manager"], n)
    visits = rng.poisson(2, n)
    logit = -2.6 + 0.45 * visits + np.where(np.isin(job, ["student", "retired"]), 0.7, 0.0) + 1.8 * np.exp(-((age - 45) / 6.0) ** 2)
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 365, n)), unit="D")
    return pd.DataFrame({"lead": [f"L{i:05d}" for i in range(n)], "created": dates.strftime("%Y-%m-%d"), "age": age,
                         "job": job, "visits": visits, "outcome": np.where(won, "won", "lost")})


def write_export(folder: Path, frame: pd.DataFrame, name: str = "leads.csv") -> tuple[Path, Path]:
    """Write the export and the points table into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "points.yaml"
    table.write_text(POINTS_TABLE)
    path = folder / name
    frame.to_csv(path, index=False)
    return path, table


def flat_section(path: Path, table: Path, **extra) -> dict:
    """Return the config's `flat` section for a constructed export."""
    return {"path": str(path), "id_column": "lead", "outcome_column": "outcome", "positive_values": ["won"],
            "date_column": "created", "explicit": ["age", "job"], "behaviour": ["visits"], "points_table": str(table), **extra}
