"""The model trust policy: a local bundle is read only from inside the working folder's model store."""

from __future__ import annotations

import pytest

from leadscore.pipeline.errors import SchemaMismatchError
from leadscore.pipeline.trust import is_registry_uri, trusted_local_bundle


def test_a_bundle_inside_the_store_is_trusted_and_one_that_climbs_out_is_refused(tmp_path):
    store = tmp_path / "models"
    (store / "20260701T000000").mkdir(parents=True)
    assert trusted_local_bundle(str(store / "20260701T000000"), store) == (store / "20260701T000000").resolve()
    with pytest.raises(SchemaMismatchError, match=r"refusing to load a model from outside the configured store .*models:/ URI"):
        trusted_local_bundle(str(store / ".." / "elsewhere"), store)
    with pytest.raises(SchemaMismatchError, match="outside the configured store"):
        trusted_local_bundle(str(store), store)  # the store itself is no bundle


def test_a_link_in_the_store_to_a_folder_outside_it_is_refused(tmp_path):
    store, outside = tmp_path / "models", tmp_path / "downloads"
    store.mkdir()
    outside.mkdir()
    (store / "innocent").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SchemaMismatchError, match=r"models/innocent: refusing to load a model from outside"):
        trusted_local_bundle(str(store / "innocent"), store)


def test_registry_uris_and_the_default_champion_go_to_the_registry():
    assert is_registry_uri(None) and is_registry_uri("models:/leadscore/3")
    assert not is_registry_uri("leadscore-work/models/20260701T000000")
