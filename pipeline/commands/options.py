"""Check command-line values the commands share, before any command loads data or a model."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import pandas as pd
import typer

from leadscore.pipeline.errors import BadInputError


def parse_date(option: str, value: str) -> pd.Timestamp:
    """Return `value` as a UTC timestamp, or a BadInputError naming the option (exit 2).

    Parsed at the start of a command, so a mistyped date costs no loading or scoring and
    reads as one line instead of a pandas traceback. Naive values are taken as UTC.

    >>> parse_date("--as-of", "2026-05-01")
    Timestamp('2026-05-01 00:00:00+0000', tz='UTC')
    """
    try:
        moment = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        moment = pd.NaT
    if moment is pd.NaT:  # pandas reads "", "NaT" and "nat" as a missing date without complaint
        raise BadInputError(f"{option} {value}: not a date (YYYY-MM-DD)")
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


class LogFormatChoice(str, Enum):
    """The values of --log-format (see `pipeline.run_log`)."""

    text = "text"
    json = "json"


LogFormatOption = Annotated[LogFormatChoice, typer.Option(
    "--log-format", help="text (default: a line per stage on stderr) or json: one JSON object per line on stdout, nothing else.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors (no progress, no summary).")]
