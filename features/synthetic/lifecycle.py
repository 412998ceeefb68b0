"""Write the synthetic CRM's lifecycle table: handoffs to Sales, and what Sales did with them.

It follows the world the generator simulated, as a team's CRM would record it:

- every lead is a `Subscriber` from its creation;
- it becomes an `MQL` when the team's points table crosses its MQL threshold (the moments are
  computed by the caller, which owns the points table: `pipeline.synthetic_lifecycle`);
- a few days later Sales reviews the handoff and accepts it (`SQL`) or hands it back, judging
  the lead's hidden readiness: a lead truly hot (or already in a deal) is usually accepted, a
  cold one usually `Recycled` ("not ready"); students and competitors are `Disqualified`;
- accepted leads open opportunities: every opportunity is an `Opportunity` entry (with `SQL`
  just before it when Sales had not accepted the lead yet), and a won deal a `Customer` entry.

Each lead is handed over at most once: a recycled lead stays in nurture.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.synthetic import personas as P

STAGES: dict[str, str] = {"Subscriber": "lead", "MQL": "mql", "SQL": "sql", "Opportunity": "opportunity",
                          "Customer": "customer", "Recycled": "recycled", "Disqualified": "disqualified"}
"""The generated CRM's stage names and their roles (its `lifecycle.stages` setting)."""

ACCEPT_PROBABILITY = {P.COLD: 0.08, P.WARM: 0.35, P.HOT: 0.85, P.OPPORTUNITY: 0.95}
"""How often Sales accepts a handoff, by the lead's hidden state at the review: imperfect judgement, not a rule."""

REVIEW_DAYS = (0.5, 5.0)
"""Sales reviews a handoff this many days (uniformly) after it arrives."""


def lifecycle_table(crm, mql_at: pd.Series, seed: int = 0) -> pd.DataFrame:
    """Return the lifecycle entries (lead_id, stage, entered_at, reason) of a `SyntheticCrm`.

    `mql_at` holds, per lead id (its index), the moment the lead first crossed the MQL threshold.
    """
    rng = np.random.default_rng([seed, 23])
    leads = crm.leads[["lead_id", "created_at"]].set_index("lead_id")
    opps = crm.opportunities.sort_values("created_at")
    first_opp = opps.groupby("lead_id")["created_at"].min()
    closed = opps.loc[opps["outcome"].isin(["won", "lost"])].groupby("lead_id")["closed_at"].min()
    entries = [pd.DataFrame({"lead_id": leads.index, "stage": "Subscriber", "entered_at": leads["created_at"].to_numpy()})]

    mql = pd.DataFrame({"lead_id": mql_at.index.astype(str), "entered_at": pd.to_datetime(mql_at.to_numpy(), utc=True)})
    opp_at = mql["lead_id"].map(first_opp)
    closed_at = mql["lead_id"].map(closed)
    # a lead already in a deal or closed is past marketing qualification
    mql = mql[~(opp_at <= mql["entered_at"]) & ~(closed_at <= mql["entered_at"]) & (mql["entered_at"] < crm.end)]
    mql = mql.reset_index(drop=True)
    entries.append(mql.assign(stage="MQL"))

    review = mql["entered_at"] + pd.to_timedelta(rng.uniform(*REVIEW_DAYS, len(mql)), unit="D")
    review = review.dt.round("s")
    opp_at, closed_at = mql["lead_id"].map(first_opp), mql["lead_id"].map(closed)
    decided = ~(opp_at <= review) & ~(closed_at <= review) & (review < crm.end)
    state = hidden_state_at(crm.truth, mql["lead_id"], review)
    persona = mql["lead_id"].map(crm.truth.drop_duplicates("lead_id").set_index("lead_id")["persona"])
    accept = rng.random(len(mql)) < pd.Series(state).map(ACCEPT_PROBABILITY).fillna(0.0).to_numpy()
    unfit = persona.isin(["student", "competitor"]).to_numpy()
    stage = np.select([unfit, accept], ["Disqualified", "SQL"], default="Recycled")
    reason = np.select([unfit, accept], [persona.to_numpy(dtype=object), None], default="not ready")
    entries.append(pd.DataFrame({"lead_id": mql["lead_id"], "stage": stage, "entered_at": review, "reason": reason})[decided.to_numpy()])
    accepted = set(mql.loc[decided.to_numpy() & (stage == "SQL"), "lead_id"])

    first = opps.drop_duplicates("lead_id")
    sales_sourced = first[~first["lead_id"].isin(accepted)]
    entries.append(pd.DataFrame({"lead_id": sales_sourced["lead_id"], "stage": "SQL",
                                 "entered_at": sales_sourced["created_at"] - pd.Timedelta(seconds=1)}))
    entries.append(pd.DataFrame({"lead_id": opps["lead_id"], "stage": "Opportunity", "entered_at": opps["created_at"]}))
    won = opps[opps["outcome"] == "won"]
    entries.append(pd.DataFrame({"lead_id": won["lead_id"], "stage": "Customer", "entered_at": won["closed_at"]}))
    table = pd.concat(entries, ignore_index=True)
    table["entered_at"] = pd.to_datetime(table["entered_at"], utc=True).astype("datetime64[us, UTC]")
    order = table["stage"].map({name: i for i, name in enumerate(STAGES)})
    table = table.assign(_order=order).sort_values(["lead_id", "entered_at", "_order"], kind="stable", ignore_index=True)
    return table.drop(columns="_order").astype({"lead_id": "string", "stage": "string", "reason": "string"})


def hidden_state_at(truth: pd.DataFrame, lead_ids: pd.Series, moments: pd.Series) -> np.ndarray:
    """Return each lead's hidden state index at `moments` (-1 where the truth has no run then)."""
    probe = pd.DataFrame({"lead_id": lead_ids.astype(str).to_numpy(), "moment": moments.to_numpy(),
                          "order": np.arange(len(lead_ids))}).sort_values("moment")
    runs = truth.assign(lead_id=truth["lead_id"].astype(str), moment=truth["valid_from"]).sort_values("moment")
    probe["moment"] = probe["moment"].astype(runs["moment"].dtype)
    matched = pd.merge_asof(probe, runs[["lead_id", "moment", "state"]], on="moment", by="lead_id").sort_values("order")
    return matched["state"].map({s: i for i, s in enumerate(P.STATES)}).fillna(-1).astype(int).to_numpy()
