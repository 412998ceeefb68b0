"""Experiment: can a nightly run rebuild features only for the leads with new activity and age the others?

Between two nightly runs a lead with no new activity still moves: its recency and age
features grow by one day, which arithmetic could reproduce, but its windowed counts lose the
events that fall out of the 7-, 30- and 90-day windows, its decayed engagement shrinks, its
per-30-day rates divide by a longer age, and its "recent" email rates can read another window.
This script builds the features of the open leads at two consecutive midnights, takes the
leads with no activity between them, and counts per feature how many of those leads change
by something other than +1 day:

    .venv/bin/python benchmarks/changed_leads.py [--leads 5000] [--months 24]

A design that rebuilds only the changed leads is adopted only if this count is zero for
every feature a cheap rule cannot age (BENCHMARKS.md has the figures).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    from leadscore.features.builder import build_features
    from leadscore.features.crm import crm_from_frames
    from leadscore.features.snapshots import scoring_snapshots
    from leadscore.features.synthetic import SETTINGS, generate_crm
    from leadscore.pipeline.config import load_config, with_settings
    from leadscore.pipeline.crm_settings import fit_to_crm

    generated = generate_crm(args.leads, seed=args.seed, months=args.months)
    crm = crm_from_frames(generated.leads, generated.activities, generated.opportunities)
    config = fit_to_crm(with_settings(load_config(), SETTINGS), crm)
    tonight = crm.data_end.floor("D")
    last_night = tonight - pd.Timedelta(days=1)
    before, after = (build_features(crm, scoring_snapshots(crm, d), config.for_features).set_index("lead_id").drop(columns="as_of")
                     for d in (last_night, tonight))
    moments = pd.to_datetime(generated.activities["occurred_at"], utc=True)
    active = set(generated.activities.loc[(moments >= last_night) & (moments < tonight), "lead_id"])
    both = before.index.intersection(after.index)
    quiet = [lead for lead in both if lead not in active]
    a, b = before.loc[quiet], after.loc[quiet]
    moved_any = pd.Series(False, index=a.index)
    rows = []
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            xf, yf = x.astype(float), y.astype(float)
            same = (xf == yf) | (xf.isna() & yf.isna())
            moved = ~same & ~np.isclose(yf, xf + 1)
        else:
            same = x.astype(str) == y.astype(str)
            moved = ~same
        moved_any |= moved
        if (~same).any():
            rows.append((column, int((~same).sum()), int(moved.sum())))
    print(f"{len(both):,} open leads at {last_night.date()} and {tonight.date()}: {len(both) - len(quiet):,} with new activity, "
          f"{len(quiet):,} without")
    print(f"{int(moved_any.sum()):,} of the {len(quiet):,} leads without new activity have a feature that moved by more than +1 day")
    print("| feature | leads it changed for | of them, not by +1 day |\n|---|---:|---:|")
    for column, changed, moved in sorted(rows, key=lambda r: -r[2]):
        print(f"| `{column}` | {changed:,} | {moved:,} |")


if __name__ == "__main__":
    main()
