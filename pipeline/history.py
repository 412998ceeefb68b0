"""Keep every scoring run's scores in the working folder, and give each lead its score trend.

The history is Parquet partitioned by as_of (`Catalog.history_file`): one file per (as_of,
model version), so a rerun replaces its own file and the history never holds a lead twice for
one (lead, as_of, model version). Writers and readers take one lock on the folder, so
concurrent runs take turns and a retention sweep never deletes a file being read. Monitoring
(`pipeline.monitor`) reads it back to judge the scores against what happened next.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd

from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.io import write_frame
from leadscore.pipeline.locking import exclusive

HISTORY_COLUMNS = ("lead_id", "as_of", "model_name", "model_version", "probability", "score", "grade", "segment",
                   "rule_points", "rule_segment")
"""What the history keeps of a scores file: the numbers, not the reasons (they are in the scores file)."""

PROVENANCE_COLUMNS = ("scorer", "outcomes_seen_until", "predicts")
"""Which of the bundle's models scored ('deployed' or 'held-out'), the end of the last outcome
window it learned from (monitoring sets aside scores of earlier dates, `ModelBundle.outcomes_seen_until`)
and what its probability is of (`predicts`): 'won' or the lifecycle stage of `label.stage` (monitoring judges it on that)."""

TRENDS = ("up", "down", "steady", "new")

_PARTITION = re.compile(r"as_of=(\d{4}-\d{2}-\d{2})$")


def _lock(catalog: Catalog):
    return exclusive(catalog.score_history / "history")


def record_scores(frame: pd.DataFrame, catalog: Catalog, retention_days: int | None, scorer: str = "deployed",
                  outcomes_seen_until: pd.Timestamp | None = None, predicts: str = "won") -> None:
    """Write one run's scores into the history (replacing a rerun's), then drop partitions older than the retention.

    Retention counts back from the latest as_of in the history, not from today, so a
    backfill of past dates keeps what it wrote. `scorer`, `outcomes_seen_until` and `predicts` say
    which model scored, what it had learned from and what it predicts (`PROVENANCE_COLUMNS`).
    """
    rows = frame[list(HISTORY_COLUMNS)].drop_duplicates("lead_id", keep="last").sort_values("lead_id", ignore_index=True)
    rows = rows.assign(scorer=scorer, outcomes_seen_until=pd.Timestamp(outcomes_seen_until) if outcomes_seen_until is not None
                       else pd.NaT, predicts=predicts)
    rows["outcomes_seen_until"] = pd.to_datetime(rows["outcomes_seen_until"], utc=True)
    as_of = pd.Timestamp(rows["as_of"].iloc[0])
    version = str(rows["model_version"].iloc[0]) + ("" if scorer == "deployed" else f"-{scorer}")
    target = catalog.history_file(as_of, str(rows["model_name"].iloc[0]), version)
    with _lock(catalog):
        write_frame(rows, target)
        if retention_days is not None:
            dates = _partitions(catalog)
            oldest = max(dates) - pd.Timedelta(days=retention_days)
            for date, folder in dates.items():
                if date < oldest:
                    shutil.rmtree(folder, ignore_errors=True)


def _partitions(catalog: Catalog) -> dict[pd.Timestamp, object]:
    folder = catalog.score_history
    if not folder.is_dir():
        return {}
    found = {}
    for child in folder.iterdir():
        match = _PARTITION.match(child.name)
        if match and child.is_dir():
            found[pd.Timestamp(match.group(1), tz="UTC")] = child
    return found


def read_history(catalog: Catalog, since: pd.Timestamp | None = None, before: pd.Timestamp | None = None,
                 model_name: str | None = None) -> pd.DataFrame:
    """Return the recorded scores with as_of in [since, before), optionally of one model name only."""
    with _lock(catalog):
        parts = [pd.read_parquet(path) for date, folder in sorted(_partitions(catalog).items())
                 if (since is None or date >= since) and (before is None or date < before)
                 for path in sorted(folder.glob("*.parquet"))]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(HISTORY_COLUMNS + PROVENANCE_COLUMNS))
    frame = with_provenance(frame)
    if model_name is not None:
        frame = frame[frame["model_name"] == model_name]
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    return frame.reset_index(drop=True)


def with_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with `PROVENANCE_COLUMNS`; scores recorded without them count as the deployed model's
    probability of a win, what it saw unknown."""
    for column, default in (("scorer", "deployed"), ("outcomes_seen_until", pd.NaT), ("predicts", "won")):
        if column not in frame:
            frame = frame.assign(**{column: default})
    frame = frame.assign(scorer=frame["scorer"].fillna("deployed"), predicts=frame["predicts"].fillna("won"))
    frame["outcomes_seen_until"] = pd.to_datetime(frame["outcomes_seen_until"], utc=True)
    return frame


def previous_run(catalog: Catalog, as_of: pd.Timestamp, model_name: str) -> pd.DataFrame:
    """Return the scores of the latest run of `model_name` before `as_of` (any version; its latest version that day)."""
    earlier = read_history(catalog, before=as_of, model_name=model_name)
    if earlier.empty:
        return earlier
    last = earlier[earlier["as_of"] == earlier["as_of"].max()]
    newest = last["model_version"].astype(str).map(_version_key).max()
    return last[last["model_version"].astype(str).map(_version_key) == newest].reset_index(drop=True)


def _version_key(version: str):
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def with_trend(frame: pd.DataFrame, previous: pd.DataFrame, steady_points: float) -> pd.DataFrame:
    """Return `frame` with `previous_score` (the lead's 0-100 score in the previous run) and `score_trend`.

    The trend is up or down when the score moved at least `steady_points`, steady when it moved
    less, and new for a lead the previous run did not score. Scores of two model versions
    compare as probabilities do: both are calibrated.

    >>> now = pd.DataFrame({"lead_id": ["a", "b", "c"], "score": [50.0, 41.0, 70.0]})
    >>> before = pd.DataFrame({"lead_id": ["a", "b"], "score": [40.0, 44.0]})
    >>> with_trend(now, before, 5)["score_trend"].tolist()
    ['up', 'steady', 'new']
    """
    previous_score = frame["lead_id"].map(previous.set_index("lead_id")["score"]) if len(previous) else \
        pd.Series(np.nan, index=frame.index)
    change = frame["score"] - previous_score
    trend = np.select([previous_score.isna(), change >= steady_points, change <= -steady_points], ["new", "up", "down"], "steady")
    return frame.assign(previous_score=previous_score.astype(float), score_trend=trend)
