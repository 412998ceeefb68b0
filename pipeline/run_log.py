"""Say what a run is doing, to a person at a terminal or to a scheduler that parses its log.

`--log-format json` makes stdout a stream of JSON objects, one per line, and nothing else:
the run's own events (stage, counts, durations), every line the command would have printed
(warnings included, with their level) and, last, the run summary or the error that ended it.
Each object has `ts` (UTC, ISO 8601), `level` (info, warning, error) and `event`. stderr keeps
only what third-party libraries write there, so a log shipper reading stdout never meets a
line it cannot parse. `--quiet` leaves out the info level in either format: a cron job then
mails only warnings and errors.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Literal

LOG_FORMATS = ("text", "json")
LogFormat = Literal["text", "json"]
_LEVELS = {"warning:": "warning", "error:": "error"}


class RunLog:
    """Where a run's events go: nowhere (text mode prints its own summary), or one JSON line each on `stream`.

    >>> buffer = io.StringIO()
    >>> RunLog("json", stream=buffer, clock=lambda: 0.0).event("score", "chunk", leads_done=10, leads=20)
    >>> json.loads(buffer.getvalue())["leads_done"]
    10
    """

    def __init__(self, log_format: LogFormat = "text", quiet: bool = False, stream=None, clock=time.time):
        self.format, self.quiet = log_format, quiet
        self.stream = stream if stream is not None else sys.stdout
        self.clock = clock

    @property
    def is_json(self) -> bool:
        """Whether events are written as JSON lines (else the command prints its own text)."""
        return self.format == "json"

    def event(self, stage: str, event: str, level: str = "info", **fields) -> None:
        """Write one event of `stage` with its fields (counts, durations) when the format and level call for it."""
        if not self.is_json or (self.quiet and level == "info"):
            return
        moment = datetime.fromtimestamp(self.clock(), tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = {"ts": moment, "level": level, "stage": stage, "event": event, **{k: _plain(v) for k, v in fields.items()}}
        self.stream.write(json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n")
        self.stream.flush()


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

    log = RunLog(log_format, quiet)
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


def _plain(value):
    """Return `value` as JSON holds it: numpy numbers as Python ones, NaN and infinities as null."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
