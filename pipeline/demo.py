"""Run the demo: the whole pipeline on a generated CRM, in one working folder.

generate → validate → features, train and calibrate → evaluate rule vs model → register and
promote the champion → score every open lead as of the day after the data ends.
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


def run_demo(config: Config, leads: int = 50_000, seed: int = 42, months: int = 30, say=print) -> DemoResult:
    """Run every stage on a synthetic CRM of `leads` leads; `say` prints one line per step."""
    from leadscore.features.loaders import load_crm
    from leadscore.features.synthetic import SETTINGS, generate_crm, write_crm
    from leadscore.pipeline.score import score
    from leadscore.pipeline.catalog import Catalog, engine_settings
    from leadscore.pipeline.train import train

    started = time.perf_counter()
    config = with_settings(config, SETTINGS)  # the generated CRM's competitors, as its team would configure them
    data_dir = Catalog.of(config).demo_data
    wanted = {"n_leads": leads, "seed": seed, "months": months}
    if _matches(data_dir / "generator.json", wanted):
        say(f"1/5 reusing the synthetic CRM in {data_dir} ({leads:,} leads, seed {seed})")
    else:
        step = time.perf_counter()
        crm_data = generate_crm(leads, seed=seed, months=months)
        write_crm(crm_data, data_dir)
        say(f"1/5 generated a synthetic B2B CRM: {len(crm_data.leads):,} leads, {len(crm_data.activities):,} activities, "
            f"{len(crm_data.opportunities):,} opportunities over {months} months ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    crm = load_crm(data_dir, engine_settings(config))
    s = crm.summary
    say(f"2/5 validated the data contract: {s['leads_rows']:,} leads, {s['activities_rows']:,} activities, "
        f"{s['opportunities_rows']:,} opportunities, data up to {crm.data_end:%Y-%m-%d} ({time.perf_counter() - step:.0f} s)")
    step = time.perf_counter()
    trained = train(None, config, promote=True, crm=crm)
    m, r = trained.metrics["model"], trained.metrics["rule"]
    say(f"3/5 trained on {trained.split['fit']['rows']:,} snapshots, calibrated ({trained.calibration_method}) on "
        f"{trained.split['calibration']['rows']:,}, tested on {trained.split['test']['rows']:,} "
        f"({trained.split['test']['first_as_of']} to {trained.split['test']['last_as_of']}) ({time.perf_counter() - step:.0f} s)")
    b = trained.metrics["backtest"]
    deployed = trained.training["deployed"]["fitted_on"]
    say(f"4/5 test ROC AUC: model ({trained.core.candidate.name}) {m['roc_auc']:.3f}, points table {r['roc_auc']:.3f}; "
        f"model calibration error {m['ece']:.3f}; backtest mean over {len(trained.core.backtest)} folds {b['model']['roc_auc']:.3f} "
        f"vs {b['rule']['roc_auc']:.3f}; refitted on snapshots up to {deployed['last_as_of']} and registered as "
        f"{config.tracking.model_name} v{trained.model_version}: {trained.promotion.reason}")
    step = time.perf_counter()
    scored = score(None, None, config, crm=crm)
    say(f"5/5 scored {scored.counts['leads']:,} open leads as of {scored.frame['as_of'].iloc[0]:%Y-%m-%d} with the champion "
        f"({scored.counts.get('segment_hot', 0):,} hot, {scored.counts.get('segment_nurture', 0):,} nurture) "
        f"({time.perf_counter() - step:.0f} s)")
    return DemoResult(data_dir, trained, scored, time.perf_counter() - started)


def _matches(path: Path, wanted: dict) -> bool:
    if not path.exists():
        return False
    recorded = json.loads(path.read_text())
    return all(recorded.get(k) == v for k, v in wanted.items()) and all(
        (path.parent / f"{name}.parquet").exists() for name in ("leads", "activities", "opportunities"))
