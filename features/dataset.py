"""Assemble a training set: snapshots on the schedule, their labels and their features, on any engine."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.labels import label_snapshots
from leadscore.features.registry import feature_names
from leadscore.features.snapshots import training_snapshots
from leadscore.pipeline.config import Config


@dataclass
class TrainingSet:
    """Labelled snapshots with every feature; `summary` says what was built and dropped."""

    frame: pd.DataFrame
    feature_names: list[str]
    summary: dict = field(default_factory=dict)


def build_training_set(crm: FeatureEngine, config: Config) -> TrainingSet:
    """Return the labelled, uncensored training snapshots with their features."""
    labelled, summary = label_snapshots(crm, training_snapshots(crm, config), config)
    features = crm.features(labelled, config)
    frame = labelled.merge(features, on=["lead_id", "as_of"], how="left", validate="one_to_one")
    summary = {**summary, "first_as_of": str(frame["as_of"].min().date()), "last_as_of": str(frame["as_of"].max().date())}
    return TrainingSet(frame=frame, feature_names=feature_names(config), summary=summary)
