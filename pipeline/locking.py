"""Serialise runs that write the same output, so two schedulers cannot interleave.

The atomic rename in features.io already guarantees no half-written file; the lock makes
two concurrent runs for the same target take turns instead of racing on the temp files
and the database upsert.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from leadscore.features.io import ensure_folder
from leadscore.pipeline.errors import LeadscoreError


@contextlib.contextmanager
def exclusive(target: str | Path, timeout_s: float = 3600) -> Iterator[None]:
    """Hold an exclusive lock beside `target` for the duration of the block."""
    target = Path(target)
    ensure_folder(target.parent)
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        with lock.acquire(timeout=timeout_s):
            yield
    except Timeout:
        raise LeadscoreError(f"{target}: another leadscore run has held its lock for {timeout_s:.0f} s; is it stuck?") from None
