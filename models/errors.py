"""Define the errors the models layer raises beyond the features layer's, for the pipeline to build on."""

from __future__ import annotations

from leadscore.features.errors import BadInputError, InsufficientDataError, LeadscoreError

__all__ = ["BadInputError", "InsufficientDataError", "LeadscoreError", "SchemaMismatchError"]


class SchemaMismatchError(LeadscoreError):
    """Refuse a model whose bundle or feature schema differs from what this leadscore and the data give."""
