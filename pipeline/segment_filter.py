"""Parse and apply segment filters: a small grammar over lead attributes, never `eval` or `DataFrame.query`.

A condition is `<column> <operator> <value>`: the operators `==`, `!=`, `>=`, `<=`, `>`, `<`
take one value (a number, a quoted text or a bare word), `in` and `not in` a list in square
brackets (`industry in [software, "financial services"]`). A segment's `where` is one
condition or a list of them, all of which must hold. A blank attribute (an unknown company
size) satisfies no condition, `!=` and `not in` included: a lead is put in a segment only on
what is known of it.

>>> c = parse_condition("company_size >= 1000")
>>> (c.column, c.operator, c.value)
('company_size', '>=', 1000)
>>> parse_condition("country not in [US, 'GB']").value
('US', 'GB')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "in", "not in")
"""The operators a condition may use."""

ORDERED = frozenset({">=", "<=", ">", "<"})
"""Operators that compare numbers."""

_CONDITION = re.compile(r"^\s*(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>==|!=|>=|<=|>|<|not\s+in\b|in\b)\s*(?P<value>.*?)\s*$")
_ITEM = re.compile(r"""\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^,'"\[\]]+?))\s*(?:,|$)""")


class FilterError(ValueError):
    """A condition that is not in the grammar; the message names the text and what is wrong."""


@dataclass(frozen=True)
class Condition:
    """One parsed condition: a lead column, an operator and a value (a tuple for `in` and `not in`)."""

    column: str
    operator: str
    value: object

    def text(self) -> str:
        """Return the condition as it is written in a config.

        >>> parse_condition("industry in [software, retail]").text()
        'industry in [software, retail]'
        """
        value = f"[{', '.join(map(str, self.value))}]" if isinstance(self.value, tuple) else str(self.value)
        return f"{self.column} {self.operator} {value}"


def parse_condition(text: str) -> Condition:
    """Return the condition `text` says, or raise `FilterError` naming what is wrong with it."""
    if not isinstance(text, str):
        raise FilterError(f"{text!r} is not a condition: write it as text such as 'company_size >= 1000'")
    match = _CONDITION.match(text)
    if match is None:
        raise FilterError(f"{text!r} is not '<column> <operator> <value>' with an operator among {', '.join(OPERATORS)}")
    column, operator, raw = match["column"], re.sub(r"\s+", " ", match["op"]), match["value"]
    if not raw:
        raise FilterError(f"{text!r} has no value after {operator!r}")
    if operator in ("in", "not in"):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise FilterError(f"{text!r}: '{operator}' takes a list in square brackets, such as [software, retail]")
        items = _items(raw[1:-1], text)
        return Condition(column, operator, tuple(items))
    if raw.startswith("["):
        raise FilterError(f"{text!r}: {operator!r} takes one value; a list goes with 'in' or 'not in'")
    values = _items(raw, text)
    if len(values) != 1:
        raise FilterError(f"{text!r}: {operator!r} takes one value; a list goes in square brackets with 'in' or 'not in'")
    value = values[0]
    if operator in ORDERED and not isinstance(value, (int, float)):
        raise FilterError(f"{text!r}: {operator!r} compares numbers, and {value!r} is not a number")
    return Condition(column, operator, value)


def _items(raw: str, text: str) -> list:
    """Return the values of a comma-separated list (numbers as numbers, quoted or bare words as text)."""
    items, position = [], 0
    raw = raw.strip()
    if not raw:
        raise FilterError(f"{text!r}: the list is empty")
    while position < len(raw):
        match = _ITEM.match(raw, position)
        if match is None or match.end() == position:
            raise FilterError(f"{text!r}: cannot read the value {raw[position:]!r} (quote text that holds commas or brackets)")
        quoted = match["dq"] if match["dq"] is not None else match["sq"]
        items.append(quoted if quoted is not None else _number_or_word(match["bare"].strip()))
        position = match.end()
    return items


def _number_or_word(word: str):
    """Return `word` as an int or float when it is one, else as it is.

    >>> _number_or_word("1000"), _number_or_word("2.5"), _number_or_word("US")
    (1000, 2.5, 'US')
    """
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def parse_where(where: str | list[str]) -> tuple[Condition, ...]:
    """Return the conditions of a segment's `where` (one text or a list of texts, all of which must hold)."""
    texts = [where] if isinstance(where, str) else list(where)
    if not texts:
        raise FilterError("'where' is empty: give at least one condition such as 'company_size >= 1000'")
    return tuple(parse_condition(t) for t in texts)


def matches(leads: pd.DataFrame, conditions: tuple[Condition, ...]) -> np.ndarray:
    """Return, per row of `leads`, whether every condition holds (a blank attribute holds none).

    The caller checks the columns first (`missing_columns`); a number condition on a column of
    text compares the numbers the text holds, and text that is not a number fails it.

    >>> leads = pd.DataFrame({"company_size": pd.array([5000, 10, None], dtype="Int64")})
    >>> matches(leads, parse_where("company_size >= 1000")).tolist()
    [True, False, False]
    >>> matches(leads, parse_where("company_size != 10")).tolist()
    [True, False, False]
    """
    keep = np.ones(len(leads), dtype=bool)
    for condition in conditions:
        keep &= _holds(leads[condition.column], condition)
    return keep


def _holds(column: pd.Series, condition: Condition) -> np.ndarray:
    op, value = condition.operator, condition.value
    known = column.notna().to_numpy().copy()
    values = value if isinstance(value, tuple) else (value,)
    if all(isinstance(v, (int, float)) for v in values) and (op in ORDERED or pd.api.types.is_numeric_dtype(column)):
        numbers = pd.to_numeric(column, errors="coerce")
        known &= numbers.notna().to_numpy()
        data = numbers.to_numpy(dtype=float, na_value=np.nan)
    else:
        data = column.astype("string").fillna("").to_numpy(dtype=object)
        values = tuple(str(v) for v in values)
    with np.errstate(invalid="ignore"):
        result = {
            "==": lambda: data == values[0], "!=": lambda: data != values[0],
            ">=": lambda: data >= values[0], "<=": lambda: data <= values[0],
            ">": lambda: data > values[0], "<": lambda: data < values[0],
            "in": lambda: np.isin(data, values), "not in": lambda: ~np.isin(data, values),
        }[op]()
    return np.asarray(result, dtype=bool) & known


def missing_columns(columns, conditions: tuple[Condition, ...]) -> list[str]:
    """Return the columns the conditions name that `columns` lacks, in order of first mention."""
    have = set(columns)
    return list(dict.fromkeys(c.column for c in conditions if c.column not in have))
