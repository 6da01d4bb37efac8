"""Small helpers shared across actnn: progress messages and the versions behind a result."""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata

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
