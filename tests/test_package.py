"""The package's lazy exports resolve to the objects of their modules."""

from __future__ import annotations

import importlib

import pytest

import actnn


@pytest.mark.parametrize("name", actnn.__all__)
def test_every_export_resolves(name):
    module = importlib.import_module(f"actnn.{actnn._EXPORTS[name]}")
    assert getattr(actnn, name) is getattr(module, name)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'GLM2'"):
        actnn.GLM2  # noqa: B018
