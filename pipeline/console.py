"""The terminal consoles every command prints through.

When output goes to a file or a scheduler's log (not a terminal), lines are not wrapped at
80 columns, so ids and paths stay whole and greppable.
"""

from __future__ import annotations

import sys

from rich.console import Console


def _width(stream) -> int | None:
    return None if getattr(stream, "isatty", lambda: False)() else 160


out = Console(width=_width(sys.stdout), highlight=False)
err = Console(stderr=True, width=_width(sys.stderr), highlight=False)
