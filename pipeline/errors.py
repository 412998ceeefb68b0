"""Collect every error a user can act on: the lower layers' and the pipeline's own.

The command line catches `LeadscoreError` and prints its message as one paragraph, never a
traceback; `leadscore.pipeline.cli.EXIT_CODES` maps each class to its exit code.
"""

from __future__ import annotations

from leadscore.features.errors import BadInputError, DeclarationError, InsufficientDataError, LeadscoreError
from leadscore.models.errors import SchemaMismatchError

__all__ = ["BadInputError", "DeclarationError", "DriftError", "InsufficientDataError", "LeadscoreError",
           "SchemaMismatchError", "TrackingError"]


class DriftError(LeadscoreError):
    """Stop a scoring run whose inputs drifted beyond limits under --fail-on-drift."""


class TrackingError(LeadscoreError):
    """Report an unreachable or inconsistent MLflow store."""
