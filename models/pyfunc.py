"""Wrap a model bundle as an MLflow pyfunc model, so any MLflow tool can serve or batch-score it."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd


class LeadScoringPyfunc(mlflow.pyfunc.PythonModel):
    """Return the calibrated win probability for rows of features (the bundle's feature columns)."""

    def load_context(self, context) -> None:
        """Load the bundle (sha256-checked) from the run's artifacts."""
        from leadscore.models.bundle import load_bundle

        self.bundle = load_bundle(context.artifacts["bundle"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Return a frame with one column, `probability`."""
        self.bundle.check_schema(model_input, "the pyfunc input")
        proba = self.bundle.calibrated.predict_proba(model_input[self.bundle.feature_names])[:, 1]
        return pd.DataFrame({"probability": proba}, index=model_input.index)
