"""Validate only the activity parts that are new or changed since the last run, and reuse the others.

A CRM's history grows by a day between two nightly runs, yet a run that re-reads, re-checks and
re-hashes every activity part pays for all of it again. Given a store folder (the working
folder's `validated/`), each Parquet part of the activities table that passes its checks is
recorded there with its fingerprint (path, size, modification time in ns, BLAKE2b of its bytes),
its row count, its vocabulary counts and its latest timestamp, beside a typed copy of its rows
(the contract's columns, the row's number in its part and the hash of the row that the
exact-duplicate check groups by). The next run checks a part again only if it is new, if its
size or modification time moved and its content hash differs, if the rules that checked it
changed (a digest of the check SQL and the DuckDB version), or if its latest timestamp is in the
future of this run's `now` (an earlier `--as-of`); any other part is read from its copy.

What spans parts runs on every load, on the copies' columns: lead ids that the leads table no
longer holds, and exact duplicates across parts (by the stored row hash). Leads and
opportunities, small next to activities, are validated in full each time. A part that fails
its checks raises the same error as a full load, naming that part and its rows, and nothing of
it is recorded. Copies are written to a temporary name and renamed, and the record is replaced
atomically, so a run killed midway leaves the store as it was or with an unused copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

RECORD = "activities.json"
COPIES = "activities"
_CHUNK = 1 << 20


@dataclass
class PartsOutcome:
    """What a load did with each activity part: reused from the store, validated now, or validated again."""

    reused: list[str] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Return the line a run prints: "activity parts: 1 new validated, 11 reused; 1 changed since validated: <part>"."""
        new = len(self.validated) - len(self.changed)
        words = [f"{new} new validated" if new else "", f"{len(self.reused)} reused" if self.reused else ""]
        line = "activity parts: " + ", ".join(w for w in words if w)
        if self.changed:
            line += f"; {len(self.changed)} changed since validated, checked again: {', '.join(self.changed[:5])}"
            line += " ..." if len(self.changed) > 5 else ""
        if self.forgotten:
            line += f"; {len(self.forgotten)} no longer in the export, forgotten"
        return line


def content_hash(path: Path) -> str:
    """Return the BLAKE2b digest of the file's bytes (hex), read in 1 MiB chunks."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checks_digest(*texts: str) -> str:
    """Return a digest of the SQL that checks and types a part, with the DuckDB version that hashes its rows."""
    return hashlib.blake2b("\x1f".join((duckdb.__version__, *texts)).encode(), digest_size=12).hexdigest()


class PartsStore:
    """The record of validated activity parts and their typed copies under `folder`."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.copies = self.folder / COPIES
        path = self.folder / RECORD
        try:
            self.entries: dict[str, dict] = json.loads(path.read_text())["parts"] if path.exists() else {}
        except (ValueError, KeyError, TypeError):
            self.entries = {}  # an unreadable record costs one full validation, never a wrong reuse

    def reusable(self, part: Path, digest: str, now: pd.Timestamp, limit: pd.Timestamp) -> tuple[dict | None, bool]:
        """Return (the entry to reuse or None, whether the part was recorded and has changed since)."""
        entry = self.entries.get(str(part))
        if entry is None:
            return None, False
        stat = part.stat()
        same_file = entry["size"] == stat.st_size and entry["mtime_ns"] == stat.st_mtime_ns
        if not same_file:
            if entry["size"] != stat.st_size or content_hash(part) != entry["blake2b"]:
                return None, True
            entry["mtime_ns"] = stat.st_mtime_ns  # touched, not changed: the copy stands
        if entry["checks"] != digest or not (self.folder / entry["copy"]).exists():
            return None, False
        if entry["latest"] is not None and pd.Timestamp(entry["latest"]) > limit:
            return None, False  # checked against a later `now`: this run's future check must see its rows
        return entry, False

    def record(self, con: duckdb.DuckDBPyConnection, part: Path, select_sql: str, digest: str, rows: int,
               kinds: list[tuple], latest) -> dict:
        """Write the typed copy of `part` (the rows `select_sql` gives) and record it; return its entry."""
        self.copies.mkdir(parents=True, exist_ok=True)
        stat = part.stat()
        blake = content_hash(part)
        name = f"{COPIES}/{blake}-{digest}.parquet"
        target = self.folder / name
        if not target.exists():
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            con.execute(f"COPY ({select_sql}) TO {sql_literal(temporary)} (FORMAT parquet, COMPRESSION zstd)")
            os.replace(temporary, target)
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "blake2b": blake, "checks": digest, "rows": rows,
                 "kinds": [list(k) for k in kinds], "latest": None if latest is None else pd.Timestamp(latest).isoformat(),
                 "copy": name}
        self.entries[str(part)] = entry
        return entry

    def save(self, parts: list[Path]) -> list[str]:
        """Keep only the entries of `parts`, write the record atomically, delete unused copies; return the forgotten parts."""
        keep = {str(p) for p in parts}
        forgotten = sorted(set(self.entries) - keep)
        self.entries = {k: v for k, v in self.entries.items() if k in keep}
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / RECORD
        temporary = path.with_name(f".{RECORD}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(json.dumps({"parts": self.entries}, indent=1, sort_keys=True))
        os.replace(temporary, path)
        used = {self.folder / e["copy"] for e in self.entries.values()}
        for copy in self.copies.glob("*.parquet") if self.copies.exists() else []:
            if copy not in used:
                copy.unlink(missing_ok=True)
        return forgotten

    def copy_paths(self, parts: list[Path]) -> list[Path]:
        return [self.folder / self.entries[str(p)]["copy"] for p in parts]


def sql_literal(path: Path | str) -> str:
    """Return `path` as a SQL string literal, quotes doubled (a part named o'brien.parquet reads that part)."""
    return "'" + str(path).replace("'", "''") + "'"
