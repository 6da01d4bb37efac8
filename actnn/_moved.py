"""Old module and object names that keep working after the code moved.

``import actnn.data`` or ``from actnn.scores import poisson_deviance`` still work: a finder on
``sys.meta_path`` answers each old name with the module that now holds its contents (the same
module object, not a copy). ``from actnn.families import DevianceLoss`` still works too: a
module ``__getattr__`` imports a name that moved out of a module that stays.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old module -> the module that holds its names now
MOVED = {
    "actnn.data": "actnn.datasets",
    "actnn.schema": "actnn.datasets.schema",
    "actnn.rsplit": "actnn.datasets.rsplit",
    "actnn.simulate": "actnn.datasets.simulate",
    "actnn.presets": "actnn.datasets.presets",
    "actnn.scores": "actnn.metrics.scores",
    "actnn.plotting": "actnn.report.plotting",
    "actnn.reproduce": "actnn.studies",
    "actnn.case_sw2019": "actnn.studies.sw2019",
    "actnn.demo": "actnn.studies.demo",
}


#: module -> {name: the module that defines it now}: names that moved out of a module that stays
MOVED_NAMES = {
    "actnn.families": {"DevianceLoss": "actnn.losses"},
}


def names_of(module: str):
    """A module ``__getattr__`` that imports the names that moved out of ``module``."""
    moved = MOVED_NAMES[module]

    def __getattr__(name: str):
        if name in moved:
            return getattr(importlib.import_module(moved[name]), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        sys.modules[module.__spec__.name if False else module.__name__] = module


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedModules())
