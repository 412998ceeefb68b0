"""The Python API: the same stages the command line runs, for notebooks and scripts.

>>> from leadscore.features.synthetic import generate_crm, write_crm
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> _ = write_crm(generate_crm(300, seed=1, months=6), folder)
>>> crm = load(folder)
>>> frame = build_features(crm, as_of="2024-06-01")
>>> {"lead_id", "as_of", "web_visit_count_30d", "is_unsubscribed"} <= set(frame.columns)
True
>>> bool((frame["as_of"] == pd.Timestamp("2024-06-01", tz="UTC")).all())
True

Training needs a few thousand leads with two years of history (see notebooks/); the
calls are `train(data, config, promote=True)`, `evaluate(data, config)` and
`score(data, "2026-07-01", config)`.
"""

from __future__ import annotations

import pandas as pd

from leadscore.features.crm import Crm
from leadscore.pipeline.config import Config, load_config
from leadscore.pipeline.evaluate import evaluate
from leadscore.pipeline.flat import train_flat
from leadscore.pipeline.score import score
from leadscore.pipeline.train import fit_models, train

__all__ = ["Config", "build_features", "evaluate", "fit_models", "load", "load_config", "score", "train", "train_flat"]


def load(data, config: Config | None = None) -> Crm:
    """Read and validate a CRM folder or DuckDB file (raises BadInputError naming file, column, rows)."""
    from leadscore.features.loaders import load_crm
    from leadscore.pipeline.catalog import engine_settings

    return load_crm(data, engine_settings(config or load_config()))


def build_features(crm: Crm, as_of=None, config: Config | None = None) -> pd.DataFrame:
    """Return point-in-time features: one row per open lead of the population at `as_of`, or labelled training snapshots if None."""
    from leadscore.features.builder import build_features as _build
    from leadscore.features.dataset import build_training_set
    from leadscore.features.snapshots import scoring_snapshots, split_population
    from leadscore.pipeline.crm_settings import fit_to_crm

    config = fit_to_crm(config or load_config(), crm)
    if as_of is None:
        return build_training_set(crm, config.for_features).frame
    return _build(crm, split_population(scoring_snapshots(crm, as_of), config.population)[0], config.for_features)
