"""Load the bundle a stage scores with, and the config that rebuilds the features it was trained on."""

from __future__ import annotations

from leadscore.models.bundle import ModelBundle, load_bundle
from leadscore.pipeline.catalog import Catalog
from leadscore.pipeline.config import Config, with_feature_settings
from leadscore.pipeline.console import err
from leadscore.pipeline.trust import is_registry_uri, trusted_local_bundle


def resolve_model(config: Config, model: str | None) -> tuple[ModelBundle, str, str, Config]:
    """Load the bundle to score with (the registry's champion by default, or a bundle in the model
    store) and return it with its name, its version and `config` set to build its features.

    Only the places `pipeline.trust` allows are read, and a model file is unpickled only when its
    sha256 matches the one its training run recorded in the tracking store.
    """
    from leadscore.pipeline import tracking

    if is_registry_uri(model):
        uri = model or f"models:/{config.tracking.model_name}@{tracking.CHAMPION}"
        bundle, version = tracking.registered_bundle(config, uri)
        return bundle, version.name, str(version.version), with_model_settings(bundle, config)
    path = trusted_local_bundle(model, Catalog.of(config).model_store)
    bundle = load_bundle(path, tracking.local_bundle_sha256(config, path.name))
    return bundle, bundle.manifest.get("name", "local"), f"local:{path.name}", with_model_settings(bundle, config)


def with_model_settings(bundle: ModelBundle, config: Config) -> Config:
    """Return `config` with the feature settings `bundle` was trained with, warning where they differ.

    A model's features must mean at scoring what they meant in training: a competitor list or
    recent-send count changed in the config since would silently feed it other values. To use
    new settings, retrain.
    """
    config, changed = with_feature_settings(config, bundle.manifest.get("feature_settings"))
    if changed:
        err.print(f"[yellow]warning:[/] building features with the settings model {bundle.manifest.get('name')} was trained "
                  f"with; the config differs in {', '.join(changed)} (retrain to use them)")
    return config
