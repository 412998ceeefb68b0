"""Say what a run is doing, to a person at a terminal or to a scheduler that parses its log.

`--log-format json` makes stdout a stream of JSON objects, one per line, and nothing else:
the run's own events (stage, counts, durations), every line the command would have printed
(warnings included, with their level) and, last, the run summary or the error that ended it.
Each object has `ts` (UTC, ISO 8601), `level` (debug, info, warning, error) and `event`; the
event that ends a stage also has `started` and `seconds`. stderr keeps only what third-party
libraries write there, so a log shipper reading stdout never meets a line it cannot parse.

In text mode each stage shows a spinner (or a bar, for a stage that counts) at a terminal
while it runs, and as it ends one plain line on stderr, `features: 39,684 lead-snapshots in
13.2 s`, the same at a terminal and in a cron log (where no bar or spinner is drawn).
`--quiet` leaves out the debug and info levels in either format: a cron job then mails only
warnings and errors.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

LOG_FORMATS = ("text", "json")
LogFormat = Literal["text", "json"]
_LEVELS = {"warning:": "warning", "error:": "error"}


_QUIET_LEVELS = ("debug", "info")


@dataclass
class StageEnd:
    """What a running stage reports: its counts for the closing event and the words of its text line.

    `progress` moves the stage's bar at a terminal (a no-op elsewhere), so a stage that can
    count shows movement between its start and its end.
    """

    fields: dict = field(default_factory=dict)
    words: str = ""
    level: str = "info"
    progress: Callable[..., None] = lambda done, total=None: None

    def report(self, words: str, level: str = "info", **fields) -> None:
        """Set the words of the stage's line (such as "39,684 lead-snapshots") and add `fields` to its event."""
        self.words, self.level = words, level
        self.fields.update(fields)


class RunLog:
    """Where a run's events go: one JSON line each on `stream`, or, in text mode, one line per stage on `console`.

    Without a `console` (a run called from Python) text mode shows nothing: the caller reads the result.

    >>> buffer = io.StringIO()
    >>> RunLog("json", stream=buffer, clock=lambda: 0.0).event("score", "chunk", leads_done=10, leads=20)
    >>> json.loads(buffer.getvalue())["leads_done"]
    10
    """

    def __init__(self, log_format: LogFormat = "text", quiet: bool = False, stream=None, clock=time.time, console=None):
        self.format, self.quiet = log_format, quiet
        self.stream = stream if stream is not None else sys.stdout
        self.clock = clock
        self.console = console

    @property
    def shows_text(self) -> bool:
        """Whether stages print their line (text mode on a console, not quiet)."""
        return not self.is_json and not self.quiet and self.console is not None

    @property
    def shows_live(self) -> bool:
        """Whether stages draw a spinner or bar: only on a terminal, where it can be redrawn in place."""
        return self.shows_text and self.console.is_terminal

    @property
    def is_json(self) -> bool:
        """Whether events are written as JSON lines (else the command prints its own text)."""
        return self.format == "json"

    def event(self, stage: str, event: str, level: str = "info", **fields) -> None:
        """Write one event of `stage` with its fields (counts, durations) when the format and level call for it."""
        if not self.is_json or (self.quiet and level in _QUIET_LEVELS):
            return
        record = {"ts": _moment(self.clock()), "level": level, "stage": stage, "event": event,
                  **{k: _plain(v) for k, v in fields.items()}}
        self.stream.write(json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def stage(self, stage: str, event: str, doing: str, total: int | None = None, unit: str = "") -> Iterator[StageEnd]:
        """Run one step of a command so an operator sees it: live while it runs, one record as it ends.

        At a terminal a spinner names what is `doing` (a bar counting `unit` when `total` is
        given); as the block ends, text mode prints `stage: words in 1.2 s` on stderr and JSON
        mode writes one event with `started`, `seconds` and the reported fields. A block that
        raises reports nothing: the error is the run's last record.

        >>> buffer = io.StringIO()
        >>> with RunLog("json", stream=buffer).stage("write", "written", "writing scores") as end:
        ...     end.report("12 rows", rows=12)
        >>> sorted(json.loads(buffer.getvalue()))
        ['event', 'level', 'rows', 'seconds', 'stage', 'started', 'ts']
        """
        end = StageEnd()
        started, begun = self.clock(), time.perf_counter()
        with self._live(doing, total, unit) as progress:
            end.progress = progress
            yield end
        seconds = time.perf_counter() - begun
        self.event(stage, event, end.level, started=_moment(started), seconds=round(seconds, 3), **end.fields)
        if self.shows_text:
            self.console.print(f"{stage}: {end.words} in {seconds:.1f} s" if end.words else f"{stage}: done in {seconds:.1f} s",
                               markup=False, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def _live(self, doing: str, total: int | None, unit: str) -> Iterator[Callable[..., None]]:
        """Show a spinner, or a bar when `total` is known, on a terminal; yield what moves the bar."""
        if not self.shows_live:
            yield lambda done, total=None: None
        elif total is None:
            with self.console.status(doing):
                yield lambda done, total=None: None
        else:
            from leadscore.pipeline.console import progress_bar

            with progress_bar(doing, unit, total, console=self.console) as move:
                yield move


NO_LOG = RunLog()
"""The log of a run called from Python: no events (the caller reads the result)."""


class _ConsoleLines(io.TextIOBase):
    """A file for a rich console that turns each printed line into a `message` event of the run log."""

    def __init__(self, log: RunLog, stage: str):
        self.log, self.stage, self.pending = log, stage, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        """Keep a partial line until its end arrives (rich writes whole lines)."""

    def isatty(self) -> bool:
        return False

    def close_line(self) -> None:
        """Emit what is left of an unfinished line."""
        if self.pending:
            self._emit(self.pending)
            self.pending = ""

    def _emit(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        level = next((lvl for prefix, lvl in _LEVELS.items() if text.lower().startswith(prefix)), "info")
        for prefix in _LEVELS:
            if text.lower().startswith(prefix):
                text = text[len(prefix):].strip()
        self.log.event(self.stage, "message", level, message=text)


@contextlib.contextmanager
def run_log(log_format: LogFormat, quiet: bool, stage: str) -> Iterator[RunLog]:
    """Route the shared consoles through a run log for the block; yield the log.

    Text mode with `quiet` silences the stdout console (warnings on stderr still print). JSON
    mode sends both consoles' lines to the log as `message` events, unwrapped, and an error
    ending the block as an `error` event (marked `logged`, so the CLI does not print it again).
    """
    from leadscore.pipeline.console import err, out

    log = RunLog(log_format, quiet, console=err)
    # `_file`, not `file`: None there means "sys.stdout (stderr) at each print", which `file` would pin to today's stream
    saved = [(c, c._file, c.soft_wrap, c.quiet) for c in (out, err)]
    writers = []
    try:
        if log.is_json:
            for console in (out, err):
                writers.append(_ConsoleLines(log, stage))
                console.file, console.soft_wrap = writers[-1], True  # soft wrap: one printed line stays one event
        elif quiet:
            out.quiet = True
        try:
            with _library_warnings(log, stage):
                yield log
        except Exception as exc:
            if log.is_json:
                log.event(stage, "error", "error", error=type(exc).__name__, message=str(exc))
                exc.logged = True
            raise
    finally:
        for writer in writers:
            writer.close_line()
        for console, file, soft_wrap, quiet_before in saved:
            console._file, console.soft_wrap, console.quiet = file, soft_wrap, quiet_before


_CHATTY_LIBRARIES = ("pyspark", "py4j")
"""Libraries whose Python warnings speak of the library, not of the run (pyspark's about pandas 3 support)."""


@contextlib.contextmanager
def _library_warnings(log: RunLog, stage: str) -> Iterator[None]:
    """Send the Python warnings of `_CHATTY_LIBRARIES` to the run log, at debug level, instead of stderr.

    A cron log would otherwise hold the same library notice on every run; JSON mode keeps it as a
    `library_warning` event (left out with --quiet), text mode drops it. Other warnings print as before.
    """
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not set(_CHATTY_LIBRARIES) & set(Path(filename).parts):
                return shown(message, category, filename, lineno, file, line)
            log.event(stage, "library_warning", "debug", category=category.__name__, message=str(message),
                      source=f"{filename}:{lineno}")

        warnings.showwarning = show
        yield


def _moment(seconds: float) -> str:
    """Return a unix time as the log writes it: UTC, ISO 8601 to the millisecond, with a Z."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value):
    """Return `value` as JSON holds it: numpy numbers as Python ones, NaN and infinities as null."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
