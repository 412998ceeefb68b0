"""Assemble a training set: snapshots on the schedule, their labels and their features, on any engine."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from leadscore.features.engines import FeatureEngine
from leadscore.features.labels import label_snapshots, label_snapshots_by_stage
from leadscore.features.registry import feature_names
from leadscore.features.settings import FeatureSettings, LabelSettings, LifecycleSettings
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


def build_training_set(crm: FeatureEngine, settings: FeatureSettings | None = None, label: LabelSettings | None = None,
                       lifecycle: LifecycleSettings | None = None) -> TrainingSet:
    """Return the labelled, uncensored training snapshots of the population with their features.

    The label is a win within the horizon, or with `label.stage` reaching that lifecycle
    stage within it (`labels.label_snapshots_by_stage`, reading the lifecycle table with `lifecycle`).
    """
    settings = settings or FeatureSettings()
    snapshots = training_snapshots(crm, settings.windows)
    if label is not None and label.stage is not None:
        labelled, summary = label_snapshots_by_stage(crm, snapshots, settings.windows, label.stage, lifecycle or LifecycleSettings())
    else:
        labelled, summary = label_snapshots(crm, snapshots, settings.windows)
    labelled, left_out = split_population(labelled, settings.population)
    features = crm.features(labelled, settings)
    frame = labelled.merge(features, on=["lead_id", "as_of"], how="left", validate="one_to_one")
    summary = {**summary, "snapshots": int(len(frame)), "positives": int(frame["label"].sum()),
               "in_sales_pipeline_left_out": int(len(left_out)), "in_sales_pipeline_left_out_wins": int(left_out["label"].sum()),
               "first_as_of": moment_text(frame["as_of"].min()), "last_as_of": moment_text(frame["as_of"].max())}
    return TrainingSet(frame=frame, feature_names=feature_names(settings), summary=summary,
                       left_out=left_out[["lead_id", "as_of", "label"]])
