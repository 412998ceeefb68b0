"""Assemble a synthetic B2B CRM: leads, activities, opportunities and the hidden truth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from leadscore.features.synthetic import personas as P
from leadscore.features.synthetic.activity import behaviour_events, channel_of, email_events
from leadscore.features.synthetic.chain import simulate_states, start_states, state_runs, win_probability_table
from leadscore.features.synthetic.lifecycle import STAGES as LIFECYCLE_STAGES
from leadscore.features.synthetic.vocabulary import DECLARATIONS, custom_activities
from leadscore.features.io import write_frame, write_text

_MONTH_WEIGHT = np.array([1.3, 1.2, 1.2, 1.0, 1.0, 0.9, 0.8, 0.6, 1.2, 1.1, 1.0, 0.7])
_DEPT_LABEL = {"it": "IT", "marketing": "Marketing", "sales": "Sales", "finance": "Finance",
               "operations": "Operations", "hr": "HR", "engineering": "Engineering"}
_C_TITLE = {"it": "CIO", "marketing": "CMO", "sales": "CRO", "finance": "CFO", "operations": "COO",
            "hr": "CHRO", "engineering": "CTO"}
_SYLLABLES = np.array(["Acme", "Nova", "Blue", "Peak", "Bright", "Iron", "Swift", "Green", "Delta", "Orbit",
                       "Cedar", "Pioneer", "Summit", "Vertex", "Harbor", "Quantum", "Atlas", "Lumen"])
_SUFFIXES = np.array(["Systems", "Labs", "Group", "Industries", "Logistics", "Health", "Retail", "Analytics"])
_FIRST = np.array(["anna", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "ines", "jonas",
                   "kim", "lena", "marco", "nora", "omar", "priya", "quinn", "rosa", "sven", "tara"])
_LAST = np.array(["smith", "mueller", "garcia", "rossi", "martin", "kowalski", "nguyen", "patel",
                  "jensen", "dubois", "silva", "brown", "schmidt", "lopez", "novak", "tanaka"])


@dataclass
class SyntheticCrm:
    """A generated CRM following the data contract, plus the truth no real CRM has.

    `settings` is the configuration a team scoring it would write (`SETTINGS`, and the
    declarations of its own vocabulary when it speaks one).
    """

    leads: pd.DataFrame
    activities: pd.DataFrame
    opportunities: pd.DataFrame
    truth: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    params: dict
    lifecycle: pd.DataFrame | None = None  # the stage history, when added (`pipeline.synthetic_lifecycle`)
    settings: dict = field(default_factory=lambda: SETTINGS)


SEGMENTS: tuple[str, ...] = ("none", "events")
"""How the generated leads' behaviour differs by segment: not at all, or `events`: leads in the countries
`personas.EVENT_BUYER_COUNTRIES` (DE, FR, NL, ES) show intent at events and webinars, not in email
or on the web (`personas.EVENT_BUYER_RATES`)."""

VOCABULARIES: tuple[str, ...] = ("built-in", "custom")
"""The activity vocabularies the generator speaks: the 14 built-in type names, or 28 names of its own
(`features.synthetic.vocabulary`) with the declarations that say what they mean."""


def generate_crm(n_leads: int, seed: int = 0, start: str = "2024-01-01", months: int = 24,
                 vocabulary: str = "built-in", segments: str = "none") -> SyntheticCrm:
    """Return a deterministic synthetic CRM of `n_leads` leads over `months` months.

    With `vocabulary="custom"` its activities use names of its own and carry no channel, as an
    event-log export gives them; the leads, opportunities and truth are those of the built-in
    CRM of the same seed (the renaming draws from a random stream of its own). With
    `segments="events"` the leads in DE, FR, NL and ES behave differently (`SEGMENTS`); the
    leads and their hidden buying states are those of the same seed without it.

    >>> crm = generate_crm(200, seed=1, months=6)
    >>> sorted(crm.opportunities["outcome"].unique()) <= ["lost", "open", "won"]
    True
    """
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC")
    end = t0 + pd.DateOffset(months=months)
    days = int((end - t0).days)

    persona = rng.choice(len(P.PERSONAS), n_leads, p=P.PERSONA_SHARES)
    created_day = _creation_days(t0, days, n_leads, rng)
    leads = _lead_attributes(persona, rng)
    states = simulate_states(persona, created_day, start_states(leads["lead_source"].to_numpy(), rng), days, rng)
    runs = state_runs(states)
    if segments not in SEGMENTS:
        raise ValueError(f"segments must be one of {', '.join(SEGMENTS)}, not {segments!r}")
    own_rates = own_email = None
    if segments == "events":
        event_buyers = leads["country"].isin(P.EVENT_BUYER_COUNTRIES).to_numpy()
        own_rates = (event_buyers, P.EVENT_BUYER_RATES)
        own_email = (event_buyers, P.EVENT_BUYER_OPEN_PROBABILITY, P.EVENT_BUYER_CLICK_GIVEN_OPEN)

    bad_address = rng.random(n_leads) < P.BAD_ADDRESS_SHARE
    never_opens = rng.random(n_leads) < P.NEVER_OPENS_SHARE[persona]
    events = pd.concat([
        behaviour_events(runs, persona, rng, own_rates=own_rates),
        email_events(states, persona, bad_address, never_opens, t0, rng, own_email=own_email),
    ], ignore_index=True)
    if vocabulary not in VOCABULARIES:
        raise ValueError(f"vocabulary must be one of {', '.join(VOCABULARIES)}, not {vocabulary!r}")
    if vocabulary == "custom":
        events = custom_activities(events, runs, states, persona, np.random.default_rng([seed, 20]))

    created_frac = rng.uniform(0.3, 0.7, n_leads)
    created_at = created_day + created_frac
    closed_at = _closure_day(runs, n_leads, rng)
    event_leads = events["lead"].to_numpy()
    visible = (events["day"].to_numpy() > created_at[event_leads]) & (events["day"].to_numpy() < closed_at[event_leads]) \
        & (events["day"].to_numpy() < days)
    events = events[visible]

    lead_ids = np.char.add("L", np.char.zfill(np.arange(1, n_leads + 1).astype(str), 7))
    leads.insert(0, "lead_id", lead_ids)
    leads.insert(1, "created_at", _timestamps(t0, created_at))
    leads["email"] = np.where(bad_address, np.char.add(leads["email"].to_numpy().astype(str), ".invalid"), leads["email"])
    leads = leads.astype({"lead_id": "string", "email": "string"})
    activities = pd.DataFrame({
        "lead_id": lead_ids[events["lead"].to_numpy()],
        "occurred_at": _timestamps(t0, events["day"].to_numpy()),
        "activity_type": events["activity_type"].to_numpy(),
        "channel": channel_of(events["activity_type"]) if vocabulary == "built-in" else None,
        "value": events["value"].to_numpy(dtype=float),
        "asset_id": events["asset_id"].to_numpy(),
    }).sort_values(["lead_id", "occurred_at"], kind="stable", ignore_index=True)
    activities = activities.astype({"lead_id": "string", "activity_type": "string", "channel": "string", "asset_id": "string"})
    opportunities = _opportunities(runs, lead_ids, leads["company_size"].to_numpy(), closed_at, t0, rng)
    truth = _truth(runs, persona, lead_ids, t0)
    params = {"n_leads": n_leads, "seed": seed, "start": str(t0.date()), "months": months, "end": str(end.date()),
              "vocabulary": vocabulary, **({"segments": segments} if segments != "none" else {})}
    settings = SETTINGS if vocabulary == "built-in" else _merged(SETTINGS, DECLARATIONS)
    return SyntheticCrm(leads, activities, opportunities, truth, t0, end, params, settings=settings)


def write_crm(crm: SyntheticCrm, out_dir: str | Path, fmt: str = "parquet") -> dict[str, Path]:
    """Write the CRM's tables (the lifecycle too when added; and truth.parquet, generator.json, leadscore.yaml) to `out_dir`, each atomically."""
    out = Path(out_dir)
    if fmt not in {"parquet", "csv"}:
        raise ValueError("fmt must be 'parquet' or 'csv'")
    paths = {}
    for name in ("leads", "activities", "opportunities"):
        paths[name] = write_frame(getattr(crm, name), out / f"{name}.{fmt}")
    if crm.lifecycle is not None:
        paths["lifecycle"] = write_frame(crm.lifecycle, out / f"lifecycle.{fmt}")
    paths["truth"] = write_frame(crm.truth, out / "truth.parquet")
    paths["generator"] = write_text(json.dumps(crm.params, indent=2), out / "generator.json")
    settings = crm.settings if crm.lifecycle is None else {**crm.settings, "lifecycle": {"stages": dict(LIFECYCLE_STAGES)}}
    paths["settings"] = write_text(SETTINGS_NOTE + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True),
                                   out / "leadscore.yaml")
    return paths


SETTINGS: dict = {"features": {"competitor_markers": sorted(name.split()[0].lower() for name in P.COMPETITORS)}}
"""The configuration a team scoring this CRM would write: the names of its competitors, whose
staff the generator's competitor persona is. Without it `is_competitor` never fires (the
packaged default names no real company), and the model cannot tell a competitor from an
ideal fit: they share industry, department and company size (BENCHMARKS.md, model quality)."""

def _merged(base: dict, extra: dict) -> dict:
    """Return the nested dict `base` with `extra` merged over it (neither is changed)."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


SETTINGS_NOTE = "# leadscore settings for this generated CRM: pass with --config (see features/synthetic/generate.py)\n"


def _creation_days(t0: pd.Timestamp, days: int, n: int, rng: np.random.Generator) -> np.ndarray:
    months = (t0 + pd.to_timedelta(np.arange(days), unit="D")).month.to_numpy()
    weekday = (t0 + pd.to_timedelta(np.arange(days), unit="D")).day_of_week.to_numpy()
    weight = _MONTH_WEIGHT[months - 1] * np.where(weekday >= 5, 0.3, 1.0)
    # leads keep arriving, but most of the base exists early, as in a CRM with history
    weight = weight * np.linspace(1.6, 0.8, days)
    return np.sort(rng.choice(days, n, p=weight / weight.sum()))


def _lead_attributes(persona: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(persona)
    seniority = _pick_rows(P.SENIORITIES, P.SENIORITY_MIX[persona], rng)
    department = _pick_rows(P.DEPARTMENTS, P.DEPARTMENT_MIX[persona], rng)
    industry = _pick_rows(P.INDUSTRIES, P.INDUSTRY_MIX[persona], rng)
    source = _pick_rows(P.SOURCES, P.SOURCE_MIX[persona], rng)
    country = np.array(P.COUNTRIES)[rng.choice(len(P.COUNTRIES), n, p=P.COUNTRY_SHARES)]
    mean, spread = P.COMPANY_SIZE_LOG10[persona].T
    company_size = np.maximum(1, np.round(10 ** rng.normal(mean, spread))).astype("int64")
    company = np.char.add(np.char.add(_SYLLABLES[rng.integers(0, len(_SYLLABLES), n)], " "),
                          _SUFFIXES[rng.integers(0, len(_SUFFIXES), n)]).astype(object)
    competitor = persona == P.PERSONAS.index("competitor")
    company[competitor] = np.array(P.COMPETITORS)[rng.integers(0, len(P.COMPETITORS), competitor.sum())]
    company_slug = np.char.lower(np.char.replace(company.astype(str), " ", ""))
    personal = rng.random(n) < P.PERSONAL_EMAIL_SHARE[persona]
    domain = np.where(personal, np.array(P.PERSONAL_DOMAINS)[rng.integers(0, 4, n)], np.char.add(company_slug, ".com"))
    local = np.char.add(np.char.add(_FIRST[rng.integers(0, len(_FIRST), n)], "."), _LAST[rng.integers(0, len(_LAST), n)])
    email = np.char.add(np.char.add(local, "@"), domain)
    company_size = np.where(rng.random(n) < 0.05, -1, company_size)  # some sizes unknown
    frame = pd.DataFrame({
        "email": email,
        "job_title": _job_titles(seniority, department, rng),
        "seniority": seniority,
        "department": np.where(seniority == "student", None, department),
        "company_name": np.where(seniority == "student", None, company),
        "company_size": pd.array(np.where(company_size < 0, pd.NA, company_size), dtype="Int64"),
        "industry": industry,
        "country": country,
        "lead_source": source,
    })
    return frame.astype({c: "string" for c in frame.columns if c != "company_size"})


def _pick_rows(values: tuple[str, ...], probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cumulative = probabilities.cumsum(axis=1)
    draws = rng.random(len(probabilities))[:, None]
    idx = np.minimum((draws > cumulative).sum(axis=1), len(values) - 1)
    return np.array(values)[idx]


def _job_titles(seniority: np.ndarray, department: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dept = np.vectorize(_DEPT_LABEL.get)(department)
    c_title = np.vectorize(_C_TITLE.get)(department)
    role = np.array(["Specialist", "Analyst", "Engineer", "Coordinator"])[rng.integers(0, 4, len(seniority))]
    student = np.array(["Student", "Intern", "PhD Candidate"])[rng.integers(0, 3, len(seniority))]
    return np.select(
        [seniority == "c_level", seniority == "vp", seniority == "director", seniority == "manager", seniority == "student"],
        [c_title, np.char.add("VP ", dept), np.char.add("Director of ", dept), np.char.add(dept, " Manager"), student],
        default=np.char.add(np.char.add(dept, " "), role),
    )


def _closure_day(runs: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return, per lead, the moment (fractional day) it was won or lost; inf while open."""
    closing = runs[runs["state"].isin([P.WON, P.LOST])]
    closed = np.full(n, np.inf)
    closed[closing["lead"].to_numpy()] = closing["first_day"].to_numpy() + rng.uniform(0.35, 0.75, len(closing))
    return closed


def _opportunities(runs: pd.DataFrame, lead_ids: np.ndarray, company_size, closure: np.ndarray, t0: pd.Timestamp,
                   rng: np.random.Generator) -> pd.DataFrame:
    opp = runs[runs["state"] == P.OPPORTUNITY].reset_index(drop=True)
    following = runs.set_index(["lead", "first_day"])["state"]
    nxt = following.reindex(list(zip(opp["lead"], opp["end_day"]))).to_numpy()
    outcome = np.select([nxt == P.WON, nxt == P.LOST], ["won", "lost"], default="open")
    created = opp["first_day"].to_numpy() + rng.uniform(0.35, 0.75, len(opp))
    size = pd.to_numeric(pd.Series(company_size[opp["lead"].to_numpy()]), errors="coerce").fillna(50).to_numpy()
    amount = np.round(rng.lognormal(np.log(2000 + 40 * np.sqrt(size) * 100), 0.5), -1)
    closed = np.where(outcome == "open", np.nan, closure[opp["lead"].to_numpy()])
    frame = pd.DataFrame({
        "opportunity_id": np.char.add("O", np.char.zfill(np.arange(1, len(opp) + 1).astype(str), 7)),
        "lead_id": lead_ids[opp["lead"].to_numpy()],
        "created_at": _timestamps(t0, created),
        "closed_at": _timestamps(t0, closed),
        "outcome": outcome,
        "amount": amount,
    })
    return frame.astype({"opportunity_id": "string", "lead_id": "string", "outcome": "string"})


def _truth(runs: pd.DataFrame, persona: np.ndarray, lead_ids: np.ndarray, t0: pd.Timestamp) -> pd.DataFrame:
    table = win_probability_table(90)
    lead = runs["lead"].to_numpy()
    state = runs["state"].to_numpy()
    return pd.DataFrame({
        "lead_id": pd.array(lead_ids[lead], dtype="string"),
        "persona": pd.array(np.array(P.PERSONAS)[persona[lead]], dtype="string"),
        "state": pd.array(np.array(P.STATES)[state], dtype="string"),
        "valid_from": _timestamps(t0, runs["first_day"].to_numpy().astype(float)),
        "valid_to": _timestamps(t0, runs["end_day"].to_numpy().astype(float)),
        "p_win_90d": table[persona[lead], state],
    })


def _timestamps(t0: pd.Timestamp, day: np.ndarray) -> pd.Series:
    """Convert fractional days since `t0` to UTC timestamps, rounded to the second (NaN → NaT)."""
    seconds = np.round(np.asarray(day, dtype=float) * 86400.0)
    return pd.Series(pd.to_datetime(seconds, unit="s", origin=t0.tz_localize(None)).tz_localize("UTC")).astype("datetime64[us, UTC]")
