"""Print through the terminal consoles every command shares, and show progress on stderr.

When output goes to a file or a scheduler's log (not a terminal), lines are not wrapped at
80 columns, so ids and paths stay whole and greppable; on stderr (stage lines, warnings) a
line is never wrapped at all, so one message stays one line of the log.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def _width(stream) -> int | None:
    return None if getattr(stream, "isatty", lambda: False)() else 160


out = Console(width=_width(sys.stdout), highlight=False)
err = Console(stderr=True, width=_width(sys.stderr), highlight=False, soft_wrap=_width(sys.stderr) is not None)


@contextlib.contextmanager
def progress_bar(label: str, unit: str, total: int, console: Console = err) -> Iterator[Callable[..., None]]:
    """Show a progress bar on `console` while the block runs; yield `move(done, total=None)`, which sets how far it is.

    It is transient (gone when the block ends: the stage's closing line says what it did), and
    `move` takes an absolute count, so a caller that only estimates (a query's share done) and
    one that counts exact rows drive it alike; `total` may be learnt once the block runs.
    """
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)

        def move(done: float, total: int | None = None) -> None:
            progress.update(task, completed=done, **({"total": total} if total is not None else {}))

        yield move


@contextlib.contextmanager
def polling(read: Callable[[], float], report: Callable[[float], None], every: float = 0.2) -> Iterator[None]:
    """Call `report(read())` every `every` seconds from a thread while the block runs.

    For work that cannot call back as it goes (one DuckDB query), so its bar still moves:
    `read` must be safe from another thread (DuckDB's `query_progress` is).
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            report(read())

    thread = threading.Thread(target=loop, name="leadscore-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
