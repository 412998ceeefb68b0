"""Run the docstring examples of every installed `leadscore` module as tests.

The examples are collected from the installed namespace, not from the folders at the
repository root, so they run against the same modules users import.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import leadscore.features
import leadscore.models
import leadscore.pipeline

LAYERS = (leadscore.features, leadscore.models, leadscore.pipeline)
OPTIONAL = {"leadscore.features.spark": "pyspark", "leadscore.pipeline.spark_score": "pyspark"}


def _modules() -> list[str]:
    # each layer is walked on its own: an editable install's `leadscore` has no folder to list
    return sorted([layer.__name__ for layer in LAYERS]
                  + [info.name for layer in LAYERS for info in pkgutil.walk_packages(layer.__path__, layer.__name__ + ".")])


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"


def test_the_namespace_holds_every_layer() -> None:
    names = set(_modules())
    assert {"leadscore.features", "leadscore.models", "leadscore.pipeline"} <= names
    assert "leadscore.pipeline.cli" in names
