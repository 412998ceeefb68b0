"""Fit the feature settings to the lead columns a loaded CRM holds, checking its declared extra columns.

Only `lead_id` and `created_at` are required; every other contract column of the leads
table gives features only where the CRM has it. A training run records the columns it found
(`features.lead_columns`) with its feature settings, so scoring rebuilds the same features
and can name a column that went missing since. Extra columns are used only as declared
(`features.extra_lead_columns`, each with its type), and their values are checked against
that type here, on the engine's own `leads` relation, so a message names the distinct bad
values with their counts rather than failing inside the feature query.
"""

from __future__ import annotations

from leadscore.features.contract import OPTIONAL_LEAD_COLUMNS
from leadscore.features.engines import FeatureEngine
from leadscore.features.errors import BadInputError
from leadscore.features.explicit import FALSE_WORDS, TRUE_WORDS
from leadscore.features.declarations import quoted
from leadscore.features.settings import FeatureSettings

_SHOWN_VALUES = 10


def present_lead_columns(engine: FeatureEngine) -> list[str]:
    """Return the columns of the engine's `leads` relation, in its order."""
    return list(engine.query("SELECT * FROM leads LIMIT 0").columns)


def leads_origin(engine: FeatureEngine) -> str:
    """Return how messages name the leads table: its file when the loader recorded it, else the CRM and the table."""
    return getattr(engine, "summary", {}).get("leads_file") or f"{engine.source} (table leads)"


def missing_lead_columns(engine: FeatureEngine, settings: FeatureSettings) -> list[str]:
    """Return the lead columns `settings` reads (its contract columns, unset meaning all, and declared extras) that the CRM lacks."""
    present = set(present_lead_columns(engine))
    return [c for c in _read_columns(settings) if c not in present]


def _read_columns(settings: FeatureSettings) -> list[str]:
    options = settings.features
    return [*(OPTIONAL_LEAD_COLUMNS if options.lead_columns is None else options.lead_columns), *options.extra_lead_columns]


def fit_lead_columns(engine: FeatureEngine, settings: FeatureSettings) -> tuple[FeatureSettings, list[str]]:
    """Return `settings` reading the lead columns the CRM holds, and warnings about its extra columns.

    Unset, `features.lead_columns` becomes the optional contract columns the leads table has
    (and stays unset when it has them all: unset means every one, as a full leads table and a
    model trained on one record it); set (a model's recorded settings, or a config naming
    them), each must be there. A declared extra column must exist, and its values must be of its type: a BadInputError names the
    file, the column and the distinct bad values with their counts. A categorical extra with
    more than `features.max_category_levels` distinct values is a warning: so many levels are
    mostly too rare to learn from, and such a column is often a number or an id declared as a
    category.
    """
    options = settings.features
    present = present_lead_columns(engine)
    origin = leads_origin(engine)
    for key, named in (("extra_lead_columns", list(options.extra_lead_columns)), ("lead_columns", options.lead_columns or ())):
        missing = [c for c in named if c not in present]  # lead_columns unset: fitted below
        if missing:
            raise BadInputError(f"{origin}: no column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} in the "
                                f"leads table, which features.{key} names; found columns: {', '.join(present)}")
    if options.lead_columns is None and not set(OPTIONAL_LEAD_COLUMNS) <= set(present):
        options = options.model_copy(update={"lead_columns": tuple(c for c in OPTIONAL_LEAD_COLUMNS if c in present)})
    warnings = []
    for column, kind in options.extra_lead_columns.items():
        if kind == "categorical":
            levels = int(engine.query(f'SELECT count(DISTINCT "{column}") AS n FROM leads')["n"].iloc[0])
            if levels > options.max_category_levels:
                warnings.append(f"{origin}: column '{column}' (features.extra_lead_columns, categorical) has {levels:,} distinct "
                                f"values, more than features.max_category_levels ({options.max_category_levels}); most are too "
                                "rare to learn from: declare it numeric if it is a number, or leave it out if it is an id")
        else:
            _check_values(engine, origin, column, kind)
    return settings.model_copy(update={"features": options}), warnings


_BAD_VALUE = {
    "numeric": ("TRY_CAST({text} AS DOUBLE) IS NULL OR isinf(TRY_CAST({text} AS DOUBLE)) OR isnan(TRY_CAST({text} AS DOUBLE))",
                "are not numbers"),
    "boolean": (f"lower({{text}}) NOT IN {quoted(TRUE_WORDS + FALSE_WORDS)}",
                f"are not true or false (it takes {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}, in any case)"),
    "date": ("TRY_CAST({text} AS TIMESTAMPTZ) IS NULL", "are not dates or timestamps (ISO 8601, e.g. 2024-03-01)"),
}
"""For each checked type of extra column: the SQL condition of a non-empty bad value, and what bad values are."""


def _check_values(engine: FeatureEngine, origin: str, column: str, kind: str) -> None:
    """Raise BadInputError naming the distinct values of `column` that are not of `kind`, with their counts."""
    text = f'nullif(trim(CAST("{column}" AS VARCHAR)), \'\')'
    condition, what = _BAD_VALUE[kind]
    bad = engine.query(f"SELECT {text} AS value, count(*) AS n FROM leads WHERE {text} IS NOT NULL AND ({condition.format(text=text)}) "
                       f"GROUP BY 1 ORDER BY n DESC, value LIMIT {_SHOWN_VALUES + 1}")
    if bad.empty:
        return
    rows = int(engine.query(f"SELECT count(*) AS n FROM leads WHERE {text} IS NOT NULL AND ({condition.format(text=text)})")["n"].iloc[0])
    shown = ", ".join(f"{v!r} ({n:,} row{'s' if n > 1 else ''})" for v, n in zip(bad["value"][:_SHOWN_VALUES], bad["n"][:_SHOWN_VALUES]))
    more = " and more" if len(bad) > _SHOWN_VALUES else ""
    raise BadInputError(f"{origin}: column '{column}' is declared {kind} in features.extra_lead_columns, but {rows:,} "
                        f"row{'s' if rows > 1 else ''} hold values that {what}: {shown}{more}; fix the values or declare "
                        "the column with another type")
