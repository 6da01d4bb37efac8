"""Small helpers shared across actnn: progress messages, the versions behind a result and a
seeded block that leaves the global random state as it found it."""

from __future__ import annotations

import math
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import TextIO

import numpy as np

__all__ = ["versions", "LiveLine"]


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


def _notebook_shell() -> bool:
    """True in a Jupyter kernel (an IPython shell with a kernel), where displays update in place.

    IPython is asked only if something imported it already: a kernel always has.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class _Text:
    """A text shown as it is (no quotes) by IPython's display."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class LiveLine:
    """A line of progress that fits the place: a :data:`Progress` that updates in place.

    Call it with the current text (e.g. once per epoch) and :meth:`close` it with the last line.
    In a Jupyter notebook it is one display, updated in place (the saved notebook keeps one
    line); on a terminal one line rewritten with a carriage return; elsewhere (a pipe, a log
    file) a plain line at most every ``interval`` seconds, and the last line.

    Parameters
    ----------
    lines : bool
        Write a plain line at every call instead (Keras' ``verbose=2``), wherever it is.
    interval : float
        Seconds between two plain lines where the line cannot be rewritten.
    stream : text stream, optional
        Where the terminal line goes; default ``sys.stdout`` at the first call.
    """

    def __init__(
        self, *, lines: bool = False, interval: float = 30.0, stream: TextIO | None = None
    ):
        self.interval = 0.0 if lines else interval
        self._stream = stream
        self._lines = lines
        self._mode: str | None = None  # "notebook", "terminal" or "lines", at the first call
        self._handle = None  # the notebook's display
        self._width = 0  # of the terminal line shown
        self._last = 0.0  # time of the last line or update written
        self._text = ""
        self._written = ""  # the last plain line written

    def _start(self) -> None:
        if self._stream is None:
            self._stream = sys.stdout
        if self._lines:
            self._mode = "lines"
        elif _notebook_shell():
            self._mode = "notebook"
        elif getattr(self._stream, "isatty", lambda: False)():
            self._mode = "terminal"
        else:
            self._mode = "lines"
        # a plain line first after `interval` seconds; a line in place at once
        self._last = time.monotonic() if self._mode == "lines" else -math.inf

    def __call__(self, text: str) -> None:
        if self._mode is None:
            self._start()
        self._text = text
        now = time.monotonic()
        if self._mode == "lines":
            if now - self._last >= self.interval:
                self._write_line(text)
                self._last = now
        elif now - self._last >= 0.1:
            self._show(text)  # at most ten updates a second: each one is a message to the front
            self._last = now

    def close(self, text: str | None = None) -> None:
        """Show ``text`` (default the last text) as the final line and end the line."""
        if self._mode is None:
            self._start()
        text = self._text if text is None else text
        if self._mode == "lines":
            if text and text != self._written:
                self._write_line(text)
        elif text:  # nothing to show if training failed before its first epoch
            self._show(text)
            if self._mode == "terminal":
                self._stream.write("\n")
                self._stream.flush()

    def _show(self, text: str) -> None:
        if self._mode == "notebook":
            from IPython.display import display  # a notebook's kernel has imported it

            if self._handle is None:
                self._handle = display(_Text(text), display_id=True)
            else:
                self._handle.update(_Text(text))
        else:
            self._stream.write("\r" + text.ljust(self._width))
            self._stream.flush()
            self._width = max(self._width, len(text))

    def _write_line(self, text: str) -> None:
        self._written = text
        self._stream.write(text + "\n")
        self._stream.flush()


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
