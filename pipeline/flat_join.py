"""Join second files to a flat export on a key column (an accounts or activity-summary export), one row per key.

A join that matched two account rows to one lead would duplicate the lead, and a lead whose
account is missing would silently get blank attributes: both are errors naming the file, the
column and the values, unless `missing: blank` says a lead may lack its row in that file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.pipeline.config import FlatJoin
from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_table import read_export


def join_path(join: FlatJoin, base: Path | None = None) -> Path:
    """Return the joined file's path: as configured, or under `base` when relative."""
    path = Path(join.path)
    return path if base is None or path.is_absolute() else base / path


def join_files(frame: pd.DataFrame, joins, path: Path, na_values: tuple[str, ...], base: Path | None = None) -> pd.DataFrame:
    """Return `frame` (read from `path`) with the columns of each configured file joined on its key, rows in order."""
    for join in joins:
        frame = _join_one(frame, join, path, join_path(join, base), na_values)
    return frame


def _join_one(frame: pd.DataFrame, join: FlatJoin, path: Path, other_path: Path, na_values: tuple[str, ...]) -> pd.DataFrame:
    key, other_key = join.key, join.other_key or join.key
    if key not in frame.columns:
        raise BadInputError(f"{path}: missing column {key} (the key of flat.join {join.path}); found: {', '.join(frame.columns)}")
    other = read_export(other_path, join.delimiter, na_values, [other_key, *join.columns])
    columns = list(join.columns) or [c for c in other.columns if c != other_key]
    clash = sorted(set(columns) & set(frame.columns))
    if clash:
        raise BadInputError(f"{other_path}: column{'s' if len(clash) > 1 else ''} {', '.join(clash)} also in {path}; "
                            "list the ones to bring under flat.join[].columns")
    keys = other[other_key]
    repeated = keys[keys.duplicated(keep=False)].dropna().unique().tolist()
    if repeated or keys.isna().any():
        shown = ", ".join(repr(v) for v in repeated[:5]) + (" …" if len(repeated) > 5 else "")
        blank = f"{int(keys.isna().sum())} blank" if keys.isna().any() else ""
        raise BadInputError(f"{other_path}: column '{other_key}' (the key of flat.join) must hold one row per key; "
                            + "; ".join(p for p in (f"repeated: {shown}" if repeated else "", blank) if p))
    unmatched = frame[key].notna() & ~frame[key].isin(set(keys))
    if join.missing == "error" and (unmatched.any() or frame[key].isna().any()):
        values = frame.loc[unmatched, key].unique().tolist()
        shown = ", ".join(repr(v) for v in values[:5]) + (" …" if len(values) > 5 else "")
        blank = int(frame[key].isna().sum())
        parts = ([f"{int(unmatched.sum())} rows have a '{key}' not in {other_path} column '{other_key}': {shown}"] if values else []) \
            + ([f"{blank} rows have a blank '{key}'"] if blank else [])
        raise BadInputError(f"{path}: {'; '.join(parts)}; fix the files, or set missing: blank on this flat.join to leave "
                            "those rows' joined columns blank")
    joined = other.set_index(other_key)[columns]
    return frame.join(joined, on=key)
