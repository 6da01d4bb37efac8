"""Wall time of ``actnn predict`` and ``actnn fit`` of GLM1, beside a bare ``import tensorflow``.

A GLM needs no TensorFlow (issue 11, item 4), so the commands that fit or price one should cost
well under the time TensorFlow takes to import. In one run, each command in a fresh process,
``--repeats`` times (the median is reported):

- ``import_tensorflow``: ``python -c "import tensorflow"``, the cost a GLM no longer pays;
- ``predict``: ``actnn predict MODEL --data portfolio.csv --out priced.csv`` with GLM1 (NSW2018,
  49 parameters) saved once before the timing, on ``--rows`` rows (the first rows of the learning
  set; the target: under 2 s);
- ``fit``: ``actnn fit case_studies/configs/fremtpl2_glm1.toml --data learn.<format> --out MODEL
  --overwrite`` on the 610,212 learning policies of the NSW2018 split written by ``actnn split
  nsw2018`` (reading the file, the exact fit, saving, the in-sample deviance; the target: under
  5 s).

Set-up (the split, the portfolio, the saved GLM1) is not timed and is reused from ``--work-dir``
on a rerun. Every command runs as a user runs it: the ``actnn`` console script beside the Python
running this script (``python -m actnn.cli`` if there is none), so ``PYTHONPATH`` chooses the
actnn measured. One further, untimed run of each actnn command with ``PYTHONPROFILEIMPORTTIME``
says whether it imported TensorFlow (``imports_tensorflow``). The script prints one JSON object::

    {"import_tensorflow": {"median_seconds", "seconds"}, "predict": {..., "target_seconds",
     "meets_target", "imports_tensorflow"}, "fit": {...}, "load_average": {...}, ...}

``load_average`` (1, 5 and 15 minutes, before and after) tells whether other work shared the
machine; ``thread_env`` shows the BLAS thread settings the commands inherited (NumPy's OpenBLAS
runs the IRLS's products on every core unless told otherwise, which on a machine whose cores are
busy with other work can cost the fit far more than it saves).

Usage: ``python benchmarks/cli_glm.py --data-dir DIR [--repeats 5] [--work-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "case_studies" / "configs" / "fremtpl2_glm1.toml"


def _actnn_command() -> list[str]:
    script = Path(sys.executable).with_name("actnn")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "actnn.cli"]


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stderr[-2000:]}")
    return run


def _timed(command: list[str], repeats: int, before=None) -> dict[str, object]:
    """Median and all wall times of ``command`` in a fresh process; ``before()`` runs untimed."""
    seconds = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        _run(command)
        seconds.append(time.perf_counter() - start)
    return {
        "median_seconds": round(statistics.median(seconds), 3),
        "seconds": [round(s, 3) for s in seconds],
    }


def _profiled(command: list[str], before=None) -> dict[str, object]:
    """Whether ``command`` imports tensorflow or keras (Python's import-time profile), and the
    number of rows it says it read."""
    if before is not None:
        before()
    run = _run(command, env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    modules = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
               if line.startswith("import time:")}  # fmt: skip
    rows = re.search(r"read ([\d,]+) rows", run.stdout)
    return {
        "rows": int(rows[1].replace(",", "")) if rows else None,
        "imports_tensorflow": bool(modules & {"tensorflow", "keras"}),
    }


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _set_up(work: Path, data_dir: str | None, fmt: str, rows: int, actnn: list[str]) -> dict:
    """The split, the portfolio to price and the saved GLM1 (kept in ``work`` for reruns)."""
    learn = work / "fremtpl2" / f"learn.{fmt}"
    if not learn.is_file():
        command = [*actnn, "split", "nsw2018", "--out", str(work / "fremtpl2"), "--format", fmt]
        _run(command + (["--data-dir", data_dir] if data_dir else []))
    portfolio = work / f"portfolio_{rows}.csv"
    if not portfolio.is_file():
        from actnn.data import read_table, write_table

        frame = read_table(learn)
        if len(frame) < rows:
            raise SystemExit(f"--rows {rows} is more than the {len(frame):,} learning rows")
        write_table(frame.head(rows), portfolio)
    model = work / "GLM1"
    if not (model / "actnn_model.json").is_file():
        _run([*actnn, "fit", str(CONFIG), "--data", str(learn), "--out", str(model), "--overwrite"])
    return {"learn": learn, "portfolio": portfolio, "model": model}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder of freMTPL2freq")
    parser.add_argument("--work-dir", default=None, help="set-up files (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000, help="rows priced by actnn predict")
    parser.add_argument(
        "--format",
        default="csv.gz",
        choices=["csv", "csv.gz", "parquet"],
        help="of the learning data actnn fit reads (default: actnn split's, csv.gz)",
    )
    args = parser.parse_args(argv)

    actnn = _actnn_command()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        print("setting up (split, portfolio, GLM1) ...", file=sys.stderr)
        files = _set_up(work, args.data_dir, args.format, args.rows, actnn)
        priced, fitted = work / "priced.csv", work / "GLM1_refit"

        def no_output() -> None:
            priced.unlink(missing_ok=True)

        predict = [*actnn, "predict", str(files["model"]), "--data", str(files["portfolio"]),
                   "--out", str(priced)]  # fmt: skip
        fit = [*actnn, "fit", str(CONFIG), "--data", str(files["learn"]), "--out", str(fitted),
               "--overwrite"]  # fmt: skip
        load_before = _load_average()
        print("timing import tensorflow ...", file=sys.stderr)
        tensorflow = _timed([sys.executable, "-c", "import tensorflow"], args.repeats)
        print("timing actnn predict ...", file=sys.stderr)
        predicted = _timed(predict, args.repeats, before=no_output)
        print("timing actnn fit ...", file=sys.stderr)
        fitting = _timed(fit, args.repeats)
        load_after = _load_average()
        predicted.update(
            target_seconds=2.0,
            meets_target=predicted["median_seconds"] < 2.0,
            data=files["portfolio"].name,
            **_profiled(predict, before=no_output),
        )
        fitting.update(
            target_seconds=5.0,
            meets_target=fitting["median_seconds"] < 5.0,
            data=files["learn"].name,
            **_profiled(fit),
        )
    import actnn as package

    print(
        json.dumps(
            {
                "import_tensorflow": tensorflow,
                "predict": predicted,
                "fit": fitting,
                "repeats": args.repeats,
                "command": " ".join(actnn),
                "actnn": str(Path(package.__file__).parent),
                "cpus": os.cpu_count(),
                "load_average": {"before": load_before, "after": load_after},
                "thread_env": {
                    name: os.environ.get(name)
                    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                },
                "python": platform.python_version(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
