"""The package's lazy exports resolve to the objects of their modules."""

from __future__ import annotations

import importlib
import inspect

import pytest

import actnn
from actnn import _moved


@pytest.mark.parametrize("name", actnn.__all__)
def test_every_export_resolves(name):
    module = importlib.import_module(f"actnn.{actnn._EXPORTS[name]}")
    assert getattr(actnn, name) is getattr(module, name)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'GLM2'"):
        actnn.GLM2  # noqa: B018


def test_version_comes_from_the_package_metadata():
    from importlib import metadata

    assert actnn.__version__ == metadata.version("actnn")


@pytest.mark.parametrize(("old", "new"), sorted(_moved.MOVED.items()))
def test_old_module_names_import_the_moved_modules(old, new):
    # ``import actnn.data`` and ``from actnn.scores import ...`` keep working after the move
    old_module = importlib.import_module(old)
    assert old_module is importlib.import_module(new)
    assert old_module.__name__ == new


def test_old_imports_of_users_keep_working():
    from actnn.data import DataWarning, load_freq, read_table  # noqa: F401
    from actnn.reproduce import nsw2018_split, versions, wm2023_split  # noqa: F401
    from actnn.scores import poisson_deviance

    from actnn.networks import CANN, FNN, LocalGLMnet  # noqa: F401

    assert poisson_deviance is actnn.poisson_deviance
    assert DataWarning is actnn.DataWarning


@pytest.mark.parametrize("name", ["GLM", "FNN", "CANN", "LocalGLMnet", "Nagging"])
def test_every_model_predicts_with_one_signature(name):
    # predict(data, *, exposure=None, offset=None, unseen="error");
    # predict_frequency(data, *, unseen="error")
    cls = getattr(actnn, name)
    predict = inspect.signature(cls.predict).parameters
    assert list(predict) == ["self", "data", "exposure", "offset", "unseen"]
    assert predict["exposure"].kind is inspect.Parameter.KEYWORD_ONLY
    assert (predict["exposure"].default, predict["unseen"].default) == (None, "error")
    frequency = inspect.signature(cls.predict_frequency).parameters
    assert list(frequency) == ["self", "data", "unseen"]
    assert frequency["unseen"].kind is inspect.Parameter.KEYWORD_ONLY
