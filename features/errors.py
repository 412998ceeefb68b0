"""Define the errors a user can act on that the features layer raises, for the layers above to build on.

Each message names the file, column, rows, key or declaration at fault, so the command line
can print it as one paragraph, never a traceback. Which exit code an error class gets is the
command line's decision, not the class's.
"""

from __future__ import annotations


class LeadscoreError(Exception):
    """Report a problem the user can fix; every leadscore error derives from it."""


class BadInputError(LeadscoreError):
    """Reject input data, configuration or a declaration that breaks the contract."""


class InsufficientDataError(BadInputError):
    """Refuse to train or evaluate on too little data to mean anything."""


class DeclarationError(BadInputError):
    """Refuse a feature declaration (built-in or plug-in) that the builder could not compute as declared."""
