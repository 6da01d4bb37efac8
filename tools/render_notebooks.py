"""Execute the case studies as notebooks in quick mode and write them, outputs included.

Each ``case_studies/NAME.py`` (jupytext percent format) is converted to a notebook, executed by
nbclient in a fresh kernel from the ``case_studies/`` folder (as Jupyter would run it) with
``ACTNN_QUICK=1``, and written to ``docs/notebooks/NAME.ipynb`` for readers. ``readme_session``
is the README's notebook session (its first Python block, a cell per paragraph), executed in a
temporary folder and written to ``docs/notebooks/readme_session.ipynb``. The results of
these runs go to ``case_studies/results/quick/NAME/`` (not committed). The tests execute the
notebooks with :func:`execute` too (``tests/test_notebooks.py``).

Usage::

    ACTNN_DATA_DIR=../shared/data python tools/render_notebooks.py [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
CASE_STUDIES = REPO / "case_studies"
RENDERED = REPO / "docs" / "notebooks"
NAMES = sorted(path.stem for path in CASE_STUDIES.glob("*.py"))
README_SESSION = "readme_session"


def execute(
    name: str, *, env: Mapping[str, str] | None = None, timeout: int = 1800
) -> nbformat.NotebookNode:
    """Return the case study `name` as a notebook executed in quick mode from ``case_studies/``.

    The kernel sees the environment `env` (default: this process's), with ``ACTNN_QUICK=1``,
    this repository first on ``PYTHONPATH`` and this Python's folder first on ``PATH`` (the
    ``python3`` kernel runs the ``python`` found there). A cell that raises stops the run with
    ``nbclient.exceptions.CellExecutionError``; `timeout` is in seconds per cell.
    """
    if name == README_SESSION:
        with tempfile.TemporaryDirectory() as folder:  # the session writes its report here
            return _run(readme_session(), Path(folder), env, timeout)
    return _run(jupytext.read(CASE_STUDIES / f"{name}.py"), CASE_STUDIES, env, timeout)


def readme_session() -> nbformat.NotebookNode:
    """The README's first Python block as a notebook, a cell per paragraph."""
    block = re.search(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    cells = [nbformat.v4.new_code_cell(part.strip()) for part in block.group(1).split("\n\n")]
    return nbformat.v4.new_notebook(cells=cells)


def _run(
    notebook: nbformat.NotebookNode,
    folder: Path,
    env: Mapping[str, str] | None,
    timeout: int,
) -> nbformat.NotebookNode:
    kernel_env = dict(os.environ if env is None else env)
    kernel_env["ACTNN_QUICK"] = "1"
    for variable, first in (("PYTHONPATH", str(REPO)), ("PATH", str(Path(sys.executable).parent))):
        kernel_env[variable] = os.pathsep.join(p for p in (first, kernel_env.get(variable)) if p)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=kernel_env)
    return notebook


#: Outputs larger than this (bytes of JSON) are left out of the rendered copies, e.g. the whole
#: report of ``comparison.show()`` with its figures: the repository stays small.
LARGEST_OUTPUT = 400_000


def _shrunk(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` with each output above :data:`LARGEST_OUTPUT` replaced by a note."""
    for cell in notebook.cells:
        for k, output in enumerate(cell.get("outputs", [])):
            size = len(json.dumps(output))
            if size > LARGEST_OUTPUT:
                note = (
                    f"[an output of {size / 1e6:.1f} MB, shown when the notebook runs, is left "
                    "out of this rendered copy to keep the repository small]"
                )
                cell.outputs[k] = nbformat.v4.new_output("stream", name="stdout", text=note)
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    every = [*NAMES, README_SESSION]
    parser.add_argument("names", nargs="*", default=every, help=f"of {', '.join(every)}")
    args = parser.parse_args(argv)
    RENDERED.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "ACTNN_OUT"}
    for name in args.names:
        started = time.perf_counter()
        notebook = _shrunk(execute(name, env=env))
        path = RENDERED / f"{name}.ipynb"
        nbformat.write(notebook, path)
        seconds = time.perf_counter() - started
        print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1e3:.0f} kB, {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
