"""Give the pipeline the one atomic writer, `leadscore.features.io`, under the name its stages import."""

from __future__ import annotations

from leadscore.features.io import FRAME_SUFFIXES, atomic_path, check_frame_target, write_frame, write_text

__all__ = ["FRAME_SUFFIXES", "atomic_path", "check_frame_target", "write_frame", "write_text"]
