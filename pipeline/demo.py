"""Run the demo: the whole pipeline on a generated CRM, in one working folder.

generate → validate → features, train and calibrate → evaluate rule vs model → register and
promote the champion → score every open lead at three past dates and as of the day after the
data ends → monitor those scores against what the synthetic CRM says happened next. Then the
open vocabulary, on every run: a small CRM whose activity types all have names of their own is
validated and trained with the declarations the generator writes for it, in a working folder
of its own (`own_vocabulary/`: nothing is registered, so the champion is the B2B model). A
rerun reuses the generated CRMs when their parameters match and replaces everything else.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from leadscore.pipeline.config import Config, with_settings


@dataclass
class DemoResult:
    """Where the demo put things, and what it found."""

    data_dir: Path
    train: object
    score: object
    seconds: float
    monitor: object = None
    monitor_paths: dict | None = None
    own_vocabulary: object = None


PAST_RUNS_DAYS = (180, 120, 60)
"""The demo's past scoring dates, in days before the day after the data ends: two whose 90-day
horizon has passed (realized figures) and one that has not (an estimate). They fall in the
model's held-out test period, so monitoring judges it on leads it did not learn from."""

def run_demo(config: Config, leads: int = 50_000, seed: int = 42, months: int = 30, say=print,
             lifecycle: bool = False) -> DemoResult:
    """Run every stage on a synthetic CRM of `leads` leads; `say` prints one line per step.

    `lifecycle` also generates the CRM's lifecycle table (its handoffs to Sales), which the
    report's handoff audit and monitoring read; it scores every open lead once a week of the
    CRM's history with the packaged points table, so it costs time.
    """
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import SETTINGS, generate_crm, write_crm
    import pandas as pd

    from leadscore.pipeline.monitor import run_monitor
    from leadscore.pipeline.score import score
    from leadscore.pipeline.scoring import scoring_date
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.train import train

    started = time.perf_counter()
    config = with_settings(config, SETTINGS)  # the generated CRM's competitors, as its team would configure them
    data_dir = Catalog.of(config).demo_data
    wanted = {"n_leads": leads, "seed": seed, "months": months}
    if _matches(data_dir / "generator.json", wanted) and (data_dir / "lifecycle.parquet").exists() == lifecycle:
        say(f"1/6 reusing the synthetic CRM in {data_dir} ({leads:,} leads, seed {seed})")
    else:
        step = time.perf_counter()
        crm_data = generate_crm(leads, seed=seed, months=months)
        if lifecycle:
            from leadscore.pipeline.synthetic_lifecycle import with_lifecycle

            crm_data = with_lifecycle(crm_data)
        (data_dir / "lifecycle.parquet").unlink(missing_ok=True)
        write_crm(crm_data, data_dir)
        say(f"1/6 generated a synthetic B2B CRM: {len(crm_data.leads):,} leads, {len(crm_data.activities):,} activities, "
            f"{len(crm_data.opportunities):,} opportunities over {months} months ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    crm = load_crm(data_dir, engine_settings(config))
    s = crm.summary
    say(f"2/6 validated the data contract: {s['leads_rows']:,} leads, {s['activities_rows']:,} activities, "
        f"{s['opportunities_rows']:,} opportunities, data up to {crm.data_end:%Y-%m-%d} ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    trained = train(None, config, promote=True, crm=crm)
    m, r = trained.metrics["model"], trained.metrics["rule"]
    say(f"3/6 trained on {trained.split['fit']['rows']:,} snapshots, calibrated ({trained.calibration_method}) on "
        f"{trained.split['calibration']['rows']:,}, tested on {trained.split['test']['rows']:,} "
        f"({trained.split['test']['first_as_of']} to {trained.split['test']['last_as_of']}) ({time.perf_counter() - step:.0f} s)")
    b = trained.metrics["backtest"]
    deployed = trained.training["deployed"]["fitted_on"]
    say(f"4/6 test ROC AUC: model ({trained.core.candidate.name}) {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; "
        f"model calibration error {m['ece']:.3f}; backtest mean over {len(trained.core.backtest)} folds {b['model']['roc_auc']:.3f} "
        f"vs {b['rule']['roc_auc']:.3f}; refitted on snapshots up to {deployed['last_as_of']} and registered as "
        f"{config.tracking.model_name} v{trained.model_version}: {trained.promotion.reason}")
    step = time.perf_counter()
    today = scoring_date(None, crm.data_end, crm.source)
    past = [today - pd.Timedelta(days=days) for days in PAST_RUNS_DAYS]
    for as_of in past:  # a backfill: the deployed model learned these dates' outcomes, the held-out one had not
        score(None, as_of, config, crm=crm, held_out=True)
    scored = score(None, None, config, crm=crm)
    say(f"5/6 scored {scored.counts['leads']:,} open leads as of {scored.frame['as_of'].iloc[0]:%Y-%m-%d} with the champion "
        f"({scored.counts.get('segment_hot', 0):,} hot, {scored.counts.get('segment_nurture', 0):,} nurture), and at "
        f"{', '.join(f'{d:%Y-%m-%d}' for d in past)} with the held-out model ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    watched, paths, _ = run_monitor(None, config, since=past[0], crm=crm, raise_on_alert=False)
    runs = watched.runs
    matured = runs[runs["matured"] & ~runs["in_sample"]]
    set_aside = f" ({int(runs['in_sample'].sum())} in-sample, set aside)" if runs["in_sample"].any() else ""
    judged = (f"predicted {matured['predicted'].mean():.1%} and realized {matured['realized'].mean():.1%} conversion"
              if len(matured) else "none to judge yet")
    say(f"6/6 monitored {len(runs)} scoring runs against what happened next: {len(matured)} matured{set_aside}, {judged}, "
        f"{len(watched.alerts)} alert{'s' if len(watched.alerts) != 1 else ''} ({time.perf_counter() - step:.0f} s)")
    own = run_own_vocabulary(config, seed=seed, say=say)
    return DemoResult(data_dir, trained, scored, time.perf_counter() - started, watched, paths, own)


OWN_VOCABULARY = {"n_leads": 2000, "months": 24, "vocabulary": "custom"}
"""The small CRM of the demo's open-vocabulary step: enough wins in each time slice to train, a few seconds to run."""


def run_own_vocabulary(config: Config, seed: int = 42, say=print):
    """Validate and train (no registration) on a small CRM in a vocabulary of its own, with its declarations; return the result.

    It works in `own_vocabulary/` under the working folder, so its bundle and report stay apart
    from the B2B model's and the registry never sees it.
    """
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import generate_crm, write_crm
    from leadscore.features.vocabulary import resolve, with_present_types
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.config import load_config
    from leadscore.pipeline.train import fit_models

    step = time.perf_counter()
    workdir = Catalog.of(config).root / "own_vocabulary"
    data_dir = workdir / "data"
    wanted = {**OWN_VOCABULARY, "seed": seed}
    if _matches(data_dir / "generator.json", wanted):
        settings = load_config(data_dir / "leadscore.yaml")
    else:
        crm_data = generate_crm(OWN_VOCABULARY["n_leads"], seed=seed, months=OWN_VOCABULARY["months"], vocabulary="custom")
        write_crm(crm_data, data_dir)
        settings = with_settings(load_config(), crm_data.settings)
    own = config.model_copy(update={"workdir": str(workdir), "features": settings.features})
    crm = load_crm(data_dir, engine_settings(own))
    counts = crm.summary["activity_types"]
    declared = sum(t.origin == "declared" for t in resolve(with_present_types(own.for_features, counts)).types if t.raw in counts)
    result = fit_models(crm, own)
    m, r = result.metrics["model"], result.metrics["rule"]
    say(f"and the open vocabulary: a {crm.summary['leads_rows']:,}-lead CRM with {len(counts)} activity types of its own "
        f"({declared} declared in {data_dir / 'leadscore.yaml'}) validated and trained: test ROC AUC model {m['roc_auc']:.3f}, "
        f"points table {r['roc_auc']:.3f} ({time.perf_counter() - step:.0f} s)")
    return result


def _matches(path: Path, wanted: dict) -> bool:
    if not path.exists():
        return False
    recorded = json.loads(path.read_text())
    return all(recorded.get(k) == v for k, v in wanted.items()) and all(
        (path.parent / f"{name}.parquet").exists() for name in ("leads", "activities", "opportunities"))
