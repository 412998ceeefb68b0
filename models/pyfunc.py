"""Wrap a model bundle as an MLflow pyfunc model, so any MLflow tool can serve or batch-score it."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd


class LeadScoringPyfunc(mlflow.pyfunc.PythonModel):
    """Return the calibrated win probability for rows of features (the bundle's feature columns)."""

    def load_context(self, context) -> None:
        """Load the bundle from the run's artifacts, checked against the manifest's sha256 (integrity only).

        An MLflow tool loading this model has already unpickled this class from the same artifact
        store, so that store must be trusted by whoever loads through MLflow; leadscore's own
        scoring never comes here: it checks the file against the registry's recorded hash.
        """
        from leadscore.models.bundle import load_bundle, read_manifest

        folder = context.artifacts["bundle"]
        self.bundle = load_bundle(folder, read_manifest(folder).get("sha256"))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Return a frame with one column, `probability`."""
        self.bundle.check_schema(model_input, "the pyfunc input")
        proba = self.bundle.calibrated.predict_proba(model_input[self.bundle.feature_names])[:, 1]
        return pd.DataFrame({"probability": proba}, index=model_input.index)
