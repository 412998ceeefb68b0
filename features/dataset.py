"""Assemble a training set: snapshots on the schedule, their labels and their features, on any engine."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.labels import label_snapshots
from leadscore.features.registry import feature_names
from leadscore.features.settings import FeatureSettings
from leadscore.features.snapshots import moment_text, split_population, training_snapshots


@dataclass
class TrainingSet:
    """Labelled snapshots with every feature; `summary` says what was built and dropped.

    `left_out` holds the labelled snapshots the population rule leaves out (lead_id, as_of,
    label; no features are built for them), so a report can say how they convert.
    """

    frame: pd.DataFrame
    feature_names: list[str]
    summary: dict = field(default_factory=dict)
    left_out: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["lead_id", "as_of", "label"]))


def build_training_set(crm: FeatureEngine, settings: FeatureSettings | None = None) -> TrainingSet:
    """Return the labelled, uncensored training snapshots of the population with their features."""
    settings = settings or FeatureSettings()
    labelled, summary = label_snapshots(crm, training_snapshots(crm, settings.windows), settings.windows)
    labelled, left_out = split_population(labelled, settings.population)
    features = crm.features(labelled, settings)
    frame = labelled.merge(features, on=["lead_id", "as_of"], how="left", validate="one_to_one")
    summary = {**summary, "snapshots": int(len(frame)), "positives": int(frame["label"].sum()),
               "in_sales_pipeline_left_out": int(len(left_out)), "in_sales_pipeline_left_out_wins": int(left_out["label"].sum()),
               "first_as_of": moment_text(frame["as_of"].min()), "last_as_of": moment_text(frame["as_of"].max())}
    return TrainingSet(frame=frame, feature_names=feature_names(settings), summary=summary,
                       left_out=left_out[["lead_id", "as_of", "label"]])
