"""Record the population a model will score, at the end of its data, as the reference drift is judged against.

Lead ages, days since an event and all-time counts grow with the calendar, so a reference
taken from the labelled snapshots (which end a horizon before the data does) makes the very
next night's unchanged leads look drifted. The reference is instead the leads the model
would score the day after its data ends, built exactly as `leadscore score` builds them
(same snapshot rule, same population rule, same features): scoring the unchanged CRM the
next night compares like with like, and a real change in who the leads are shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.snapshots import scoring_snapshots
from leadscore.pipeline.config import Config
from leadscore.pipeline.drift import DriftReference, reference_from_training
from leadscore.pipeline.scoring import population_to_score, scoring_date

REFERENCE_SAMPLE = 50_000
"""The most leads the reference is built from: its decile edges from a random 50,000 are as good as
from a million, and the feature build stays a second or two."""


def scoring_population_reference(crm, config: Config, calibrated, feature_names: list[str],
                                 test: pd.DataFrame, test_proba: np.ndarray) -> DriftReference:
    """Return the drift reference of the leads open the day after `crm`'s data ends.

    A CRM with no such lead falls back to the held-out `test` slice (features and calibrated
    probabilities `test_proba`), the latest labelled population.
    """
    as_of = scoring_date(None, crm.data_end, crm.source)
    snapshots, _ = population_to_score(scoring_snapshots(crm, as_of), config.population)
    if snapshots.empty:
        return reference_from_training(test[feature_names], test_proba, config.grades.hot, config.scoring.drift.bins)
    if len(snapshots) > REFERENCE_SAMPLE:
        rows = np.random.default_rng(config.model.seed).choice(len(snapshots), REFERENCE_SAMPLE, replace=False)
        snapshots = snapshots.iloc[np.sort(rows)]
    features = crm.features(snapshots.reset_index(drop=True), config.for_features)
    X = features[feature_names]
    scores = calibrated.predict_proba(X)[:, 1]
    return reference_from_training(X, np.asarray(scores), config.grades.hot, config.scoring.drift.bins)

