"""Decide which places a model bundle may be loaded from: model files are code, so only two are trusted.

The two places are the configured MLflow registry (a `models:/` URI) and the working
folder's own model store. Either way `load_bundle` checks the file's sha256 against its
manifest before it is unpickled.
"""

from __future__ import annotations

from pathlib import Path

from leadscore.pipeline.errors import SchemaMismatchError


def is_registry_uri(model: str | None) -> bool:
    """Return whether `model` names a registered model (None means the registry's champion).

    >>> is_registry_uri(None), is_registry_uri("models:/leadscore@champion"), is_registry_uri("work/models/x")
    (True, True, False)
    """
    return model is None or model.startswith("models:/")


def trusted_local_bundle(model: str, store: Path) -> Path:
    """Return the resolved folder `model` names if it lies inside the model `store`, else refuse it.

    >>> import tempfile
    >>> store = Path(tempfile.mkdtemp())
    >>> trusted_local_bundle(str(store / "20260101T000000"), store) == (store / "20260101T000000").resolve()
    True
    >>> trusted_local_bundle("/tmp/elsewhere", store)
    Traceback (most recent call last):
    ...
    leadscore.models.errors.SchemaMismatchError: /tmp/elsewhere: refusing to load a model from outside the configured store ...
    """
    path = Path(model).resolve()
    store = store.resolve()
    if store not in path.parents:
        raise SchemaMismatchError(f"{model}: refusing to load a model from outside the configured store {store} "
                                  "(model files are code); use a models:/ URI or a bundle under that folder")
    return path
