"""Errors a user can act on, each with the exit code the command line returns.

The command line catches `LeadscoreError` and prints its message as one paragraph,
never a traceback: the message itself must name the file, column and rows at fault.
"""

from __future__ import annotations


class LeadscoreError(Exception):
    """Report a problem the user can fix; `exit_code` is what the CLI exits with."""

    exit_code = 1


class BadInputError(LeadscoreError):
    """Reject input data or configuration that breaks the contract (exit code 2)."""

    exit_code = 2


class InsufficientDataError(BadInputError):
    """Refuse to train or evaluate on too little data to mean anything (exit code 2)."""


class SchemaMismatchError(LeadscoreError):
    """Refuse to score with a model whose feature schema differs from the data (exit code 3)."""

    exit_code = 3


class DriftError(LeadscoreError):
    """Stop a scoring run whose inputs drifted beyond limits under --fail-on-drift (exit code 4)."""

    exit_code = 4


class TrackingError(LeadscoreError):
    """Report an unreachable or inconsistent MLflow store (exit code 5)."""

    exit_code = 5
