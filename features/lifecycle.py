"""Read the optional lifecycle table: each entry's role, and warnings about rows that do not fit.

A CRM's stage history (HubSpot lifecycle stages, Salesforce lead status history) is how the
people running lead scoring judge it: a lead handed to Sales as an MQL is accepted or recycled.
The table is optional; the features never read it. Stage names are the CRM's own and
`LifecycleSettings.stages` gives each its role (`contract.LIFECYCLE_ROLES`).

Problems a CRM's history commonly has are warnings naming rows, never silent: an entry whose
lead is not in the leads table (it is left out) and an entry out of funnel order (a lead
entering MQL after it was already SQL, with no recycling in between; it is kept as the CRM
recorded it). A stage name the mapping lacks is an error: its handoffs would go uncounted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.contract import FUNNEL_ROLES
from leadscore.features.errors import BadInputError
from leadscore.features.settings import LifecycleSettings

_SHOWN_ROWS = 5
_SHOWN_VALUES = 20
_EXITS = ("recycled", "disqualified")


def has_lifecycle(crm) -> bool:
    """Return whether the CRM holds a lifecycle table (loaded and validated with the other tables)."""
    return "lifecycle_rows" in getattr(crm, "summary", {})


def lifecycle_events(crm, settings: LifecycleSettings | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Return the lifecycle entries of known leads with their `role`, sorted by lead and time, and warnings.

    Columns: lead_id, stage, role, entered_at, reason. Raise BadInputError naming the stage
    names the mapping lacks, with their rows; warn naming the rows of unknown leads (left out)
    and of entries out of funnel order (kept).
    """
    settings = settings or LifecycleSettings()
    origin = crm.summary.get("lifecycle_file", "lifecycle")
    rows = crm.con.execute(
        "SELECT c.lead_id, c.stage, c.entered_at, c.reason, c._file, c._row, l.lead_id IS NOT NULL AS known "
        "FROM lifecycle_copy c LEFT JOIN leads l ON l.lead_id = c.lead_id ORDER BY c.lead_id, c.entered_at, c._file, c._row").df()
    roles = {name: settings.role_of(name) for name in rows["stage"].astype(str).unique()}
    unmapped = sorted(name for name, role in roles.items() if role is None)
    if unmapped:
        counts = rows.loc[rows["stage"].isin(unmapped), "stage"].value_counts()
        shown = ", ".join(f"{name!r} ({n:,} row{'s' if n > 1 else ''})" for name, n in counts.head(_SHOWN_VALUES).items())
        raise BadInputError(f"{origin}: column 'stage' has {len(unmapped)} stage name{'s' if len(unmapped) > 1 else ''} "
                            f"with no role: {shown}{' and more' if len(counts) > _SHOWN_VALUES else ''}; map each to one of "
                            f"lead, mql, sql, opportunity, customer, recycled, disqualified in lifecycle.stages")
    rows["role"] = rows["stage"].astype(str).map(roles)
    warnings = []
    unknown = rows[~rows["known"]]
    if len(unknown):
        warnings.append(f"{origin}: {_count(len(unknown), 'entry', 'entries')} of a lead that is not in the leads table "
                        f"(column 'lead_id'), left out: {_places(crm, unknown)}")
    rows = rows[rows["known"]].reset_index(drop=True)
    late = rows[_out_of_order(rows)]
    if len(late):
        warnings.append(f"{origin}: {_count(len(late), 'entry', 'entries')} out of funnel order (a stage earlier than one the "
                        f"lead had already reached, with no recycling in between), kept as recorded: {_places(crm, late)}")
    frame = rows[["lead_id", "stage", "role", "entered_at", "reason"]].astype({"lead_id": "string", "stage": "string",
                                                                              "role": "string", "reason": "string"})
    frame["entered_at"] = pd.to_datetime(frame["entered_at"], utc=True)
    return frame, warnings


def _out_of_order(rows: pd.DataFrame) -> np.ndarray:
    """Return which entries enter a funnel stage below the furthest one the lead reached since its last exit."""
    rank = rows["role"].map({role: i for i, role in enumerate(FUNNEL_ROLES)})
    exit_ = rows["role"].isin(_EXITS)
    # a new "era" starts after each exit: the running furthest stage counts within a lead's era only
    era = exit_.astype(int).groupby(rows["lead_id"]).cumsum()
    furthest = rank.groupby([rows["lead_id"], era]).cummax()
    before = furthest.groupby([rows["lead_id"], era]).shift(1)
    return (rank.notna() & before.notna() & (rank < before)).to_numpy()


def _places(crm, rows: pd.DataFrame) -> str:
    from leadscore.features.validation import name_rows

    positions = [(None if pd.isna(f) else f, int(r)) for f, r in zip(rows["_file"], rows["_row"])][:_SHOWN_ROWS]
    places = name_rows(crm.con, "lifecycle", positions)  # a row of a table in one part (or of frames) needs no query
    shown = ", ".join(f"{place} ({lead} {stage})" for place, lead, stage in zip(places, rows["lead_id"], rows["stage"]))
    return shown + (", ..." if len(rows) > _SHOWN_ROWS else "")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"

