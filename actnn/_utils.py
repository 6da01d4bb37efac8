"""Small helpers shared across actnn: progress messages, the versions behind a result and a
seeded block that leaves the global random state as it found it."""

from __future__ import annotations

import platform
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata

import numpy as np

__all__ = ["versions"]


Progress = Callable[[str], None]


def versions() -> dict[str, str]:
    """Versions of Python and the packages behind a result."""
    out = {"python": platform.python_version()}
    for pkg in ("actnn", "numpy", "pandas", "tensorflow", "keras"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    if out["actnn"] == "not installed":  # run from a source tree
        from . import __version__

        out["actnn"] = f"{__version__} (source tree)"
    return out


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Python's and NumPy's global generators seeded with ``seed`` inside; restored after.

    Keras 3 draws the seeds of initializers and dropout layers from Python's generator when
    they are made, so a network built inside is the same for the same seed, and the caller's
    ``random.random()`` and ``np.random.random()`` go on as if nothing had happened.
    TensorFlow's global seed and Keras' global ``SeedGenerator`` are not touched.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
