"""Assemble a flat export's columns as training and scoring both see them: the joined files, then the columns derived from dates.

Training and scoring call the same function, so a lead scored later gets its account's
columns and its date parts exactly as the training rows got theirs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadscore.pipeline.errors import BadInputError
from leadscore.pipeline.flat_dates import date_features, derived_names
from leadscore.pipeline.flat_join import join_files


def assemble(frame: pd.DataFrame, path: Path, needed: list[str], joins=(), na_values: tuple[str, ...] = (),
             date_spec: dict | None = None, reference: str | None = None, base: Path | None = None) -> pd.DataFrame:
    """Return `frame` with each joined file's columns and the derived date columns; a needed column missing is an error.

    `needed` names the columns the rest of the run reads, derived ones included; a column
    found in neither the export nor a joined file is named with the files looked in.
    """
    frame = join_files(frame, joins, path, na_values, base)
    derived = set(derived_names(date_spec or {}))
    raw = [c for c in dict.fromkeys([*needed, *(date_spec or {}), *([reference] if reference else [])]) if c not in derived]
    missing = [c for c in raw if c not in frame.columns]
    if missing:
        files = " or ".join([str(path), *(str(j.path) for j in joins)])
        raise BadInputError(f"{files}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                            f"found: {', '.join(frame.columns)}")
    clash = sorted(derived & set(frame.columns))
    if clash:
        raise BadInputError(f"{path}: column{'s' if len(clash) > 1 else ''} {', '.join(clash)} also derived by "
                            "flat.date_features; rename the file's column or derive another part")
    return pd.concat([frame, date_features(frame, date_spec or {}, reference, path)], axis=1)
