"""Print through the terminal consoles every command shares, and show progress on stderr.

When output goes to a file or a scheduler's log (not a terminal), lines are not wrapped at
80 columns, so ids and paths stay whole and greppable.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def _width(stream) -> int | None:
    return None if getattr(stream, "isatty", lambda: False)() else 160


out = Console(width=_width(sys.stdout), highlight=False)
err = Console(stderr=True, width=_width(sys.stderr), highlight=False)


@contextlib.contextmanager
def progress_bar(label: str, unit: str, total: int, show: bool = True) -> Iterator[Callable[[int], None]]:
    """Show a progress bar on stderr while the block runs; yield the function that advances it.

    It is transient (gone when the block ends) and off when `show` is false, so a scheduler's log
    keeps only the summary lines.
    """
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn()]
    with Progress(*columns, console=err, disable=not show, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda steps: progress.advance(task, steps)
