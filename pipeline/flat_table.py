"""Read a flat lead export (one row per lead) into labelled, typed feature columns; errors name the file and column.

Training and scoring read a file through the same functions, so a column means the same in
both: the configured blank tokens (`na_values`) are blanks, a column typed as a number in
training must hold numbers when scored, and a category stays text even when it looks numeric.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.features.declarations import Feature
from leadscore.pipeline.config import FlatTableConfig
from leadscore.pipeline.errors import BadInputError, InsufficientDataError


def export_path(flat: FlatTableConfig, base: Path | None = None) -> Path:
    """Return the export's path: as configured, or under `base` when relative."""
    path = Path(flat.path)
    return path if base is None or path.is_absolute() else base / path


def read_export(path: Path, delimiter: str, na_values: tuple[str, ...], needed: list[str]) -> pd.DataFrame:
    """Read the file with every cell as text and the blank tokens as blanks; refuse it if a needed column is missing.

    Reading text first lets typing (`typed_features`) say which cell of which column is not a
    number, instead of pandas silently reading a mixed column as text.
    """
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=True, na_values=list(na_values))
    except FileNotFoundError:
        raise BadInputError(f"{path}: flat lead table not found") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInputError(f"{path}: cannot be read as a {delimiter!r}-separated table: {exc}") from None
    frame = frame.apply(lambda column: column.str.strip()).replace({"": np.nan})
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise BadInputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                            f"found: {', '.join(frame.columns)}")
    return frame


def outcome_labels(frame: pd.DataFrame, flat: FlatTableConfig, path: Path) -> np.ndarray:
    """Return 1 for a row whose outcome is one of `positive_values` (case-insensitive), else 0.

    A misspelt positive value would make every row a loss: the error names the values found.
    """
    outcome = frame[flat.outcome_column].astype("string").str.strip().str.lower()
    found = outcome.dropna().unique().tolist()
    if len(found) < 2:
        raise InsufficientDataError(f"{path}: column '{flat.outcome_column}' holds a single value ({found[0] if found else 'none'!r}); "
                                    "a scorer needs wins and losses")
    positive = {v.lower() for v in flat.positive_values}
    if not positive & set(found):
        shown = ", ".join(repr(v) for v in sorted(found)[:10])
        raise BadInputError(f"{path}: no value of column '{flat.outcome_column}' is one of flat.positive_values "
                            f"({', '.join(repr(v) for v in flat.positive_values)}); the column holds {shown}"
                            f"{' …' if len(found) > 10 else ''}: list the winning ones under flat.positive_values")
    return outcome.isin(positive).fillna(False).to_numpy().astype(int)


def infer_kinds(frame: pd.DataFrame, flat: FlatTableConfig) -> dict[str, str]:
    """Return each feature column's kind, `number` or `category`: as configured, else a number if every filled cell is one."""
    kinds = {}
    for name in (*flat.explicit, *flat.behaviour):
        if name in flat.numeric:
            kinds[name] = "number"
        elif name in flat.categorical:
            kinds[name] = "category"
        else:
            filled = frame[name].dropna()
            kinds[name] = "number" if len(filled) and pd.to_numeric(filled, errors="coerce").notna().all() else "category"
    for column, parts in flat.date_features.items():  # derived by pipeline.flat_dates, numbers by construction
        kinds.update({f"{column}_{part}": "number" for part in parts})
    return kinds


def typed_features(frame: pd.DataFrame, kinds: dict[str, str], path: Path) -> pd.DataFrame:
    """Return the feature columns typed by `kinds` (numbers as floats, categories as text); a non-number is an error."""
    X = pd.DataFrame(index=frame.index)
    for name, kind in kinds.items():
        if kind == "category":
            X[name] = frame[name].astype("string")
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            shown = ", ".join(f"{frame[name].iloc[i]!r} (row {i + 1})" for i in rows[:5])
            raise BadInputError(f"{path}: column '{name}' is read as a number but holds {int(bad.sum())} values that are not: "
                                f"{shown}; blank them with flat.na_values, or list the column under flat.categorical")
        X[name] = values.astype(float)
    return X


def parse_dates(values: pd.Series, column: str, key: str, path: Path, normalize: bool = True) -> pd.Series:
    """Return the column's cells as UTC dates (days, unless `normalize` is False); numbers or non-dates are errors.

    An integer column read as dates would be nanoseconds since 1970: it is refused, naming
    the config key that called it a date.
    """
    filled = values.dropna()
    if len(filled) and pd.to_numeric(filled, errors="coerce").notna().all():
        raise BadInputError(f"{path}: column '{column}' ({key}) holds numbers ({', '.join(filled.head(3))}), not dates; "
                            "name a column of dates such as 2024-03-01, or, if the numbers give the row order, "
                            "use flat.split.by: order")
    dates = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    bad = dates.isna() & values.notna()
    if bad.any():
        rows = ", ".join(f"{values.iloc[i]!r} (row {i + 1})" for i in np.flatnonzero(bad.to_numpy())[:5])
        raise BadInputError(f"{path}: column '{column}' has {int(bad.sum())} values that are not dates: {rows}")
    return dates.dt.normalize() if normalize else dates


def lead_ids(frame: pd.DataFrame, id_column: str | None, path: Path) -> pd.Series:
    """Return each row's id: the id column's value, else its row number (from 1); duplicate ids are an error."""
    if not id_column:
        return pd.Series(np.arange(1, len(frame) + 1).astype(str), index=frame.index)
    ids = frame[id_column].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated(keep=False) | ids.isna()].head(5).tolist()
        raise BadInputError(f"{path}: column '{id_column}' (flat.id_column) must hold one distinct id per row; "
                            f"repeated or blank: {', '.join(map(str, dup))}")
    return ids.astype(str)


def flat_registry(kinds: dict[str, str], explicit: tuple[str, ...]) -> dict[str, Feature]:
    """Describe the flat columns as features, so a points table can be checked against them and reasons word them."""
    registry = {}
    for name, kind in kinds.items():
        family = "explicit" if name in explicit else "implicit"
        number = kind == "number"
        registry[name] = Feature(name, family, f"{name} (from the flat table)", "lead", name,
                                 "float" if number else "category", f"{name}: {{value:g}}" if number else f"{name}: {{value}}")
    return registry
