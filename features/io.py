"""Write files atomically: to a temporary file beside the target, then rename.

This is the one module that writes data files (generated CRMs, model bundles, feature
frames, scores, reports); it sits in the lowest layer that writes. A crash at any point leaves either the
previous file or the new one, never a half-written file, because `os.replace` is atomic
on the same filesystem.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from leadscore.features.errors import BadInputError

FRAME_SUFFIXES = (".parquet", ".csv")


def ensure_folder(folder: str | os.PathLike) -> Path:
    """Create `folder` (and its parents) if needed; a path through a file or without permission is bad input, not a crash.

    >>> import tempfile, pathlib
    >>> afile = pathlib.Path(tempfile.mkdtemp()) / "afile"
    >>> _ = afile.write_text("x")
    >>> ensure_folder(afile / "sub")
    Traceback (most recent call last):
    ...
    leadscore.features.errors.BadInputError: .../afile/sub: cannot create this folder (NotADirectoryError: ...)
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"{folder}: cannot create this folder ({type(exc).__name__}: {exc.strerror or exc})") from None
    return folder


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
    ensure_folder(target.parent)
    if target.is_dir():
        raise BadInputError(f"{target}: is a folder; name a file to write")
    _remove_orphaned_temp_files(target)
    tmp = None
    try:
        tmp = _new_temp_file(target)
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:  # disk full, read-only folder, no permission: the previous file stays, the temp file goes
        raise BadInputError(f"{target}: cannot be written ({type(exc).__name__}: {exc.strerror or exc}); "
                            f"{'the previous file is unchanged' if target.exists() else 'nothing was written'}") from None
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _remove_orphaned_temp_files(target: Path) -> None:
    """Delete temporary files beside `target` left by writers that were killed (their process is gone).

    A temp file's name carries its writer's pid; a live writer's file, or one from another
    machine sharing the folder under a pid that exists here, is left alone.
    """
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        parts = tmp.name.rsplit(".", 3)
        pid = parts[1] if len(parts) == 4 else ""
        if pid.isdigit() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _new_temp_file(target: Path) -> Path:
    """Create an empty, uniquely named file beside `target`, with the permissions of any new file.

    `tempfile.mkstemp` creates 0600 files and the rename keeps that mode, so every output
    would be private to its owner. Creating with mode 0666 lets the kernel apply the umask
    (and any default ACL) exactly as for a file written in place, without reading the
    process-wide umask, which cannot be read without changing it.
    """
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {target}")


def check_frame_target(target: str | os.PathLike) -> str:
    """Return the format (`parquet` or `csv`) the suffix of `target` asks for, or refuse it.

    Commands call this before any work, so a typo in --out costs nothing and writes nothing.

    >>> check_frame_target("scores.CSV")
    'csv'
    """
    suffix = Path(target).suffix.lower()
    if suffix not in FRAME_SUFFIXES:
        raise BadInputError(f"--out {target}: output must end in .parquet or .csv")
    if Path(target).is_dir():
        raise BadInputError(f"--out {target}: is a folder; name a file to write")
    return suffix.removeprefix(".")


def write_frame(frame: pd.DataFrame, target: str | os.PathLike, for_spreadsheets: bool = False) -> Path:
    """Write `frame` to Parquet or CSV (chosen by the suffix of `target`), atomically.

    `for_spreadsheets`: a CSV people open in Excel or Sheets gets its text cells neutralized
    (`neutralize_formulas`); tables leadscore reads back keep their values exactly.
    """
    target = Path(target)
    suffix = "." + check_frame_target(target)
    with atomic_path(target) as tmp:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            if for_spreadsheets:  # RFC 4180 line ends: a cell holding a bare CR is then quoted, not read as a row break
                neutralize_formulas(frame).to_csv(tmp, index=False, lineterminator="\r\n")
            else:
                frame.to_csv(tmp, index=False)
    return target


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with every text cell that a spreadsheet would run as a formula prefixed by `'`.

    Numbers stay numbers (a negative score is not text); only text columns are touched.

    >>> neutralize_formulas(pd.DataFrame({"lead_id": ["=1+1", "L2", "@SUM(A1)"], "points": [-5, 3, 0]})).to_dict("list")
    {'lead_id': ["'=1+1", 'L2', "'@SUM(A1)"], 'points': [-5, 3, 0]}
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            out[column] = values.astype(object).where(~risky, "'" + text.astype(object))
    return out


def write_text(text: str, target: str | os.PathLike) -> Path:
    """Write `text` (UTF-8) to `target` atomically."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
