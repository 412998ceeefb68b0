"""Write outputs atomically: to a temporary file beside the target, then rename.

This is the one module that writes data files. A crash at any point leaves either the
previous file or the new one, never a half-written file, because `os.replace` is atomic
on the same filesystem.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only on success.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "out.txt").read_text()
    'done'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_frame(frame: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write `frame` to Parquet or CSV (chosen by the suffix of `target`), atomically."""
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise ValueError(f"{target}: output must end in .parquet or .csv")
    with atomic_path(target) as tmp:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
    return target


def write_text(text: str, target: str | os.PathLike) -> Path:
    """Write `text` (UTF-8) to `target` atomically."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
