"""Failed or killed writes leave the previous output and no temporary files behind."""

from __future__ import annotations

import errno
import os

import pandas as pd
import pytest

from leadscore.features.errors import BadInputError
from leadscore.features.io import atomic_path, write_frame


def test_a_disk_full_mid_write_keeps_the_previous_file_and_no_temp_file(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("previous scores\n")
    with pytest.raises(BadInputError, match=r"scores.csv: cannot be written \(OSError: No space left on device\); the previous file is unchanged"):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert target.read_text() == "previous scores\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_an_output_that_is_a_folder_is_named_before_anything_is_written(tmp_path):
    (tmp_path / "scores.csv").mkdir()
    with pytest.raises(BadInputError, match="scores.csv: is a folder"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "scores.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_temp_files_of_killed_writers_are_removed_by_the_next_write_and_live_ones_kept(tmp_path):
    target = tmp_path / "scores.parquet"
    dead_pid = 2 ** 22 + 12345  # above the kernel's pid_max default: no such process
    orphan = tmp_path / f".scores.parquet.{dead_pid}.0123456789ab.tmp"
    live = tmp_path / f".scores.parquet.{os.getppid()}.ba9876543210.tmp"
    for path in (orphan, live):
        path.write_bytes(b"x" * 1024)
    write_frame(pd.DataFrame({"lead_id": ["L1"]}), target)
    assert not orphan.exists() and live.exists() and target.exists()
