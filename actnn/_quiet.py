"""TensorFlow's start-up lines, kept off the user's stderr unless the user asked for them.

TensorFlow writes a few lines to the process's stderr (file descriptor 2, below Python) when it
is imported and when it first looks for devices: absl's "All log messages before
absl::InitializeLog() ...", "Could not find cuda drivers ...", "failed call to cuInit ..." on a
machine without a GPU. Some come before ``TF_CPP_MIN_LOG_LEVEL`` is read, so the variable alone
does not silence them. When the user has not set ``TF_CPP_MIN_LOG_LEVEL``, :func:`install` sets it
to 2 and puts a finder on ``sys.meta_path`` that runs TensorFlow's import and its first device
query with file descriptor 2 in a temporary file; the lines that are not such start-up chatter
(errors, Python warnings) are written back to ``sys.stderr`` afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator

__all__: list[str] = []

#: Start-up chatter: absl's note, INFO and WARNING lines of absl's format, and the errors every
#: machine without a GPU gets.
CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} "
    r"|E\d{4} .*(cuInit|Unable to register cu(DNN|FFT|BLAS) factory)"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


def install() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL=2`` and quiet TensorFlow's import, unless the user set it."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:  # the user chose what TensorFlow may say
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _QuietFinder())


@contextlib.contextmanager
def _stderr_filtered() -> Iterator[None]:
    """Run the block with file descriptor 2 in a temporary file; write back what is not chatter."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (e.g. a windowed process): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not CHATTER.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with a loader that imports it quietly; then leaves."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with stderr filtered; the module keeps its own loader."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        with _stderr_filtered():
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # the device search writes its lines now
