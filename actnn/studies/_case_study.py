"""What every case study in ``case_studies/`` shares: its settings and how it shows results.

A case study is a jupytext percent-format script that runs as a script and as a notebook. Its
settings (quick mode, data folder, output folder) come from the command line in a script and
from the environment in a notebook, where the kernel's own arguments mean nothing
(:func:`case_study`). Its tables, figures and results Markdown are shown by :func:`show` and
:func:`show_markdown`: rendered inline in a Jupyter kernel, printed as text by a script.

Nothing here imports matplotlib: figures arrive as PNG bytes (``actnn.report.plotting.
figure_png``), which a kernel displays as they are.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CaseStudy", "case_study", "show", "show_markdown"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}
#: A Markdown line that is only a relative image link (``![lorenz](lorenz.png)``).
_RELATIVE_IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\((?![a-z][a-z0-9+.-]*:|/)[^)]*\)\s*$", re.I)


def _kernel() -> Any | None:
    """The running Jupyter kernel's IPython shell, or None (a script, or terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


@dataclass(frozen=True)
class CaseStudy:
    """The settings of one run of a case study, as :func:`case_study` resolved them."""

    name: str
    quick: bool
    data_dir: Path | None
    out: Path
    uses_data: bool = True

    @property
    def command(self) -> str:
        """The command line that runs the same case study as a script (data folder as DIR)."""
        parts = [f"python case_studies/{self.name}.py"]
        parts += ["--data-dir DIR"] if self.uses_data else []
        parts += ["--quick"] if self.quick else []
        return " ".join(parts)


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(f"{name} must be 1 or 0 (or true / false); got {os.environ[name]!r}")
    return value in _TRUE


def _repository_folder(name: str, start: Path) -> Path | None:
    """The ``case_studies`` folder holding ``NAME.py``, at `start` or above it, or None."""
    for folder in (start, *start.parents):
        for candidate in (folder, folder / "case_studies"):
            if candidate.name == "case_studies" and (candidate / f"{name}.py").is_file():
                return candidate
    return None


def _default_out(name: str, quick: bool) -> Path:
    """Where the results go when nobody said: beside the script, found without the cwd."""
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    start = Path(script).resolve().parent if script and not _kernel() else Path.cwd().resolve()
    folder = _repository_folder(name, start)
    if folder is None:
        return Path.cwd().resolve() / f"{name}_results"
    return folder / "results" / ("quick" if quick else "") / name


def case_study(
    name: str,
    *,
    quick: bool | None = None,
    data_dir: str | Path | None = None,
    out: str | Path | None = None,
    uses_data: bool = True,
    description: str = "",
    argv: Sequence[str] | None = None,
) -> CaseStudy:
    """Resolve the settings of the case study `name` for this run, as script or as notebook.

    Each argument that is not None wins. In a script, the command line comes next
    (``--quick``, ``--data-dir``, ``--out``; unknown options are an error); in a Jupyter kernel
    the command line is the kernel's and is not read. Then the environment: ``ACTNN_QUICK=1``
    (quick mode), ``ACTNN_DATA_DIR`` (the freMTPL2 folder) and ``ACTNN_OUT`` (a folder in which
    the results go to ``ACTNN_OUT/NAME``).

    Parameters
    ----------
    name : str
        The case study: the script ``case_studies/NAME.py``.
    quick : bool, optional
        The CI-sized run (few epochs, small ensembles).
    data_dir : str or Path, optional
        The folder of freMTPL2freq and freMTPL2sev.
    out : str or Path, optional
        The folder of the results.
    uses_data : bool, default True
        False for a case study that needs no data (no ``--data-dir`` option).
    description : str, default ""
        The command line's help text.
    argv : sequence of str, optional
        The script's arguments (default: ``sys.argv[1:]``); not read in a kernel.

    Returns
    -------
    CaseStudy
        Its ``out`` folder exists. Without an output folder from any source it is
        ``case_studies/results/NAME`` (``case_studies/results/quick/NAME`` in quick mode, so a
        quick run never overwrites the committed results) of the repository that holds the
        script: found from the script's path, or in a kernel from the working directory and
        its parents; outside a repository ``NAME_results`` in the working directory.

    Raises
    ------
    ValueError
        If ``ACTNN_QUICK`` is set to something other than 1 / 0 / true / false / yes / no.
    """
    if _kernel() is None:
        parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
        if uses_data:
            parser.add_argument("--data-dir", help="freMTPL2 folder (default: ACTNN_DATA_DIR)")
        parser.add_argument("--out", help="results folder (default: beside the script)")
        parser.add_argument("--quick", action="store_true", help="the CI-sized run")
        args = parser.parse_args(argv)
        quick = (args.quick or None) if quick is None else quick
        data_dir = getattr(args, "data_dir", None) if data_dir is None else data_dir
        out = args.out if out is None else out
    quick = _env_flag("ACTNN_QUICK") if quick is None else bool(quick)
    if data_dir is None and uses_data:
        data_dir = os.environ.get("ACTNN_DATA_DIR") or None
    if out is None:
        parent = os.environ.get("ACTNN_OUT")
        out = Path(parent) / name if parent else _default_out(name, quick)
    folder = Path(out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    study = CaseStudy(name, quick, Path(data_dir) if data_dir else None, folder, uses_data)
    here = Path.cwd().resolve()
    shown = folder.relative_to(here) if folder.is_relative_to(here) else folder
    print(f"{name}: {'quick' if quick else 'full'} run, results in {shown}")
    return study


def show(obj: Any) -> None:
    """Show a table or a figure: rendered in a Jupyter kernel, as text in a script.

    Parameters
    ----------
    obj : pandas.DataFrame, pandas.Series, bytes or object
        A table is displayed as HTML in a kernel and printed whole (no wrapping) in a script;
        PNG bytes (a figure, as ``actnn.report.plotting.figure_png`` returns them) are
        displayed inline in a kernel and not shown by a script (which writes the file); any
        other object is displayed in a kernel and printed in a script.
    """
    is_png = isinstance(obj, bytes) and obj.startswith(_PNG_SIGNATURE)
    if _kernel() is not None:
        from IPython.display import Image, display

        display(Image(data=obj, format="png") if is_png else obj)
    elif isinstance(obj, pd.DataFrame | pd.Series):
        print(obj.to_string())
    elif not is_png:
        print(obj)


def show_markdown(text: str) -> None:
    """Show Markdown: rendered in a Jupyter kernel, printed in a script.

    In a kernel, lines that are only a relative image link (``![lorenz](lorenz.png)``, a file
    beside the results) are left out: the notebook shows those figures inline, and the link
    could not be resolved from the notebook's folder.
    """
    if _kernel() is None:
        print(text)
        return
    from IPython.display import Markdown, display

    lines = [line for line in text.splitlines() if not _RELATIVE_IMAGE_LINE.match(line)]
    display(Markdown("\n".join(lines)))
