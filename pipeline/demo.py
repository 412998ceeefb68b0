"""Run the demo: the whole pipeline on a generated CRM, in one working folder.

generate → validate → features, train and calibrate → evaluate rule vs model → register and
promote the champion → score every open lead at three past dates and as of the day after the
data ends → monitor those scores against what the synthetic CRM says happened next.
A rerun reuses the generated CRM when its parameters match and replaces everything else.
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
    say(f"4/6 test ROC AUC: model {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; model calibration error {m['ece']:.3f}; "
        f"registered as {config.tracking.model_name} v{trained.model_version}: {trained.promotion.reason}")
    step = time.perf_counter()
    today = scoring_date(None, crm.data_end, crm.source)
    past = [today - pd.Timedelta(days=days) for days in PAST_RUNS_DAYS]
    for as_of in past:
        score(None, as_of, config, crm=crm, show_progress=False)
    scored = score(None, None, config, crm=crm)
    say(f"5/6 scored {scored.counts['leads']:,} open leads as of {scored.frame['as_of'].iloc[0]:%Y-%m-%d} with the champion "
        f"({scored.counts.get('segment_hot', 0):,} hot, {scored.counts.get('segment_nurture', 0):,} nurture), and at "
        f"{', '.join(f'{d:%Y-%m-%d}' for d in past)} ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    watched, paths, _ = run_monitor(None, config, since=past[0], crm=crm, raise_on_alert=False)
    matured = watched.runs[watched.runs["matured"]]
    say(f"6/6 monitored {len(watched.runs)} scoring runs against what happened next: {len(matured)} matured, predicted "
        f"{matured['predicted'].mean():.1%} and realized {matured['realized'].mean():.1%} conversion, "
        f"{len(watched.alerts)} alert{'s' if len(watched.alerts) != 1 else ''} ({time.perf_counter() - step:.0f} s)")
    return DemoResult(data_dir, trained, scored, time.perf_counter() - started, watched, paths)


def _matches(path: Path, wanted: dict) -> bool:
    if not path.exists():
        return False
    recorded = json.loads(path.read_text())
    return all(recorded.get(k) == v for k, v in wanted.items()) and all(
        (path.parent / f"{name}.parquet").exists() for name in ("leads", "activities", "opportunities"))
