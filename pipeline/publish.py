"""Publish a scoring run: the drift report, then the scores file and the database rows, or nothing.

The rows are upserted in a transaction that commits only after both files are renamed
into place: a failing database leaves the files as they were, and a failing write rolls
the rows back.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from leadscore.pipeline.errors import DriftError
from leadscore.pipeline.io import atomic_path, write_frame, write_text
from leadscore.pipeline.reasons import joined_reasons


def drift_report_path(scores: Path) -> Path:
    """Return the drift report written beside a scores file.

    >>> drift_report_path(Path("scores/scores_2026-07-01.parquet")).as_posix()
    'scores/scores_2026-07-01.drift.json'
    """
    return scores.with_name(scores.stem + ".drift.json")


def open_sink(db_url: str | None, db_table: str):
    """Open the --db-url table before any work, so a bad URL or table name costs no scoring run."""
    if not db_url:
        return None
    from leadscore.pipeline.sink import ScoreSink

    return ScoreSink(db_url, db_table)


def publish(frame: pd.DataFrame, drift: pd.DataFrame, out: Path, sink, psi_fail: float, stop_for: list[str]) -> None:
    """Write the drift report, then (unless drift stops the run) the scores and the database rows.

    Drift in `stop_for` stops the run after writing only the drift report, the evidence for the stop.
    """
    drift_path = drift_report_path(out)
    drift_json = drift.to_json(orient="records", indent=2)
    if stop_for:
        write_text(drift_json, drift_path)
        raise DriftError(
            f"population drift beyond psi {psi_fail:g} in {', '.join(stop_for[:8])}"
            f"{' …' if len(stop_for) > 8 else ''}; scores were not written ({out} is unchanged). See {drift_path}")
    # Parquet keeps each lead's reasons as a list; a CSV cell and a database column hold text, so there they are joined
    as_text = joined_reasons(frame)
    with sink.upserting(as_text) if sink is not None else contextlib.nullcontext():
        # the drift report is renamed into place only after the scores are: a failed write replaces neither
        with atomic_path(drift_path) as drift_tmp:
            drift_tmp.write_text(drift_json, encoding="utf-8")
            # scores.csv is opened in spreadsheets
            write_frame(frame if out.suffix.lower() == ".parquet" else as_text, out, for_spreadsheets=True)
