"""Shared helpers for the benchmarks: generated data cached under benchmarks/data (git-ignored), peak memory."""

from __future__ import annotations

import resource
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"


def peak_rss_gb() -> float:
    """Return this process's peak resident memory in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def crm_in_parts(leads: int, parts: int, seed: int = 1, months: int = 24) -> Path:
    """Generate (once) a CRM of `leads` leads as `parts` Parquet parts per table; return its folder."""
    from leadscore.features.synthetic import generate_crm

    folder = DATA / f"crm_{leads}_{parts}_{seed}_{months}"
    if (folder / "done").exists():
        return folder
    per_part = leads // parts
    for part in range(parts):
        crm = generate_crm(per_part, seed=seed * 1000 + part, months=months)
        prefix = f"P{part:03d}-"
        for name in ("leads", "activities", "opportunities"):
            frame = getattr(crm, name)
            frame = frame.assign(lead_id=prefix + frame["lead_id"].astype(str))
            if name == "opportunities":
                frame = frame.assign(opportunity_id=prefix + frame["opportunity_id"].astype(str))
            (folder / name).mkdir(parents=True, exist_ok=True)
            frame.to_parquet(folder / name / f"part-{part:03d}.parquet", index=False)
        del crm
    (folder / "done").write_text("ok")
    return folder
