"""The ``actnn`` command line: ``demo``, ``reproduce``, ``fit``, ``predict``, ``report``,
``export``.

``actnn fit CONFIG.toml --data FILE --out MODEL_DIR`` fits the model a TOML file describes
(:mod:`actnn.config`) on the user's own data and saves it; ``actnn predict MODEL_DIR --data FILE
--out FILE`` writes the data with the model's predictions; ``actnn export MODEL_DIR --out
FILE.keras`` writes the model as one Keras model on raw columns
(:func:`actnn.export.export_keras`). Errors are one line on stderr and a non-zero exit code;
``--debug`` shows the traceback. Warnings (e.g. exposures above one year,
:class:`actnn.DataWarning`) are one line each on stderr, ``actnn: warning: ...``, each distinct
message once. TensorFlow is imported only by the commands that fit or load a network:
``fit`` of a GLM configuration and ``predict`` or ``report`` of saved GLMs do without it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines ignore every log
    setting (tensorflow/tensorflow#100442); Python errors raised inside still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show each distinct warning once, as one line ``actnn: warning: ...`` on stderr."""
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = _in_cli_words(str(message))
        if text not in shown:
            shown.add(text)
            print(f"actnn: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _start_tensorflow(args: argparse.Namespace) -> None:
    """Import TensorFlow and initialise its devices quietly, before a command that fits or loads a
    network (the CLI's start-up, not the API's); with ``--debug`` TensorFlow says what it says."""
    if args.debug:
        return
    with _native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_logical_devices()


def _data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, the folder of freMTPL2 (the commands that read it)."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with freMTPL2freq / freMTPL2sev (default: $ACTNN_DATA_DIR, then the cache)",
    )


def _data_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--data`` and ``--sep``, the user's data file (fit, predict, report)."""
    parser.add_argument("--data", required=True, help=f"{what}: csv, csv.gz or parquet file")
    parser.add_argument(
        "--sep", default=",", help="column separator of a csv file (default ','; e.g. ';')"
    )


#: Python keywords in the library's messages, and what says the same on the command line.
_CLI_WORDS = (
    (re.compile(r"unseen=['\"]reference['\"]"), "--unseen reference"),
    (re.compile(r"overwrite=True"), "--overwrite"),
    (re.compile(r"\bresponse=\.\.\."), "--response COLUMN"),
    (re.compile(r"\bexposure=\.\.\."), "--exposure COLUMN"),
    (re.compile(r"\bsep=('[^']*'|\.\.\.)"), r"--sep \1"),
)


def _in_cli_words(message: str) -> str:
    """A message of the library as one line, its Python keywords as command-line options."""
    text = " ".join(message.split())
    for pattern, option in _CLI_WORDS:
        text = pattern.sub(option, text)
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actnn", description="Actuarial GLMs that are Keras networks."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="on a synthetic portfolio: an exact GLM, a CANN that starts at it, the balance "
        "correction, the comparison report and the tariff tables",
    )
    demo.add_argument("--out", default="actnn-demo", help="output folder (default: actnn-demo)")
    demo.add_argument("--n", type=int, default=100_000, help="policies to simulate")
    demo.add_argument("--seed", type=int, default=1, help="simulation seed")
    demo.add_argument(
        "--epochs", type=int, default=None, help="the CANN's maximum epochs (default 60)"
    )

    spl = sub.add_parser(
        "split", help="write a case study's learning and test sets of freMTPL2 as files"
    )
    spl.add_argument("study", choices=["nsw2018", "wm2023"], help="which preparation and split")
    _data_dir_argument(spl)
    spl.add_argument("--out", required=True, help="folder for learn.<format> and test.<format>")
    spl.add_argument("--format", default="csv.gz", choices=["csv", "csv.gz", "parquet"])

    rep = sub.add_parser("reproduce", help="reproduce a published table on freMTPL2")
    rep.add_argument("study", choices=["nsw2018", "severity", "sw2019"], help="which table")
    _data_dir_argument(rep)
    rep.add_argument("--out", required=True, help="output folder for results.json and results.md")
    rep.add_argument(
        "--quick",
        action="store_true",
        help="sw2019: one seed of CANN2 and a 2-member ensemble; severity: a 5-epoch CANN",
    )
    rep.add_argument(
        "--checkpoint-dir",
        default=None,
        help="sw2019: save nagging members here as they finish; a rerun resumes",
    )

    fit = sub.add_parser("fit", help="fit the model a TOML file describes on your data and save it")
    fit.add_argument("config", metavar="CONFIG.toml", help="the model (see actnn.config)")
    _data_arguments(fit, "learning data")
    fit.add_argument("--out", required=True, metavar="MODEL_DIR", help="directory of the model")
    fit.add_argument("--overwrite", action="store_true", help="replace a model saved at --out")
    fit.add_argument(
        "--progress",
        action="store_true",
        help="show the networks' progress line over the epochs (default: on a terminal)",
    )

    predict = sub.add_parser("predict", help="write a data file with a saved model's predictions")
    predict.add_argument("model", metavar="MODEL_DIR", help="saved model directory")
    _data_arguments(predict, "the policies to price")
    predict.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .parquet")
    predict.add_argument("--overwrite", action="store_true", help="replace the file at --out")
    predict.add_argument(
        "--column",
        default="prediction",
        help="column of the expected response mu, exposure included (default: prediction)",
    )
    predict.add_argument(
        "--rate-column",
        default="rate",
        help="column of mu per unit of exposure, for models with exposure (default: rate)",
    )
    predict.add_argument(
        "--unseen",
        choices=["error", "reference"],
        default="error",
        help="category levels not seen at fit: an error (default), or predicted at the "
        "feature's reference level with a warning naming the column, the levels and the rows",
    )

    report = sub.add_parser(
        "report", help="compare saved models on a data set in one HTML (or Markdown) report"
    )
    report.add_argument("models", nargs="+", metavar="MODEL_DIR", help="saved model directories")
    _data_arguments(report, "the data to compare the models on")
    report.add_argument("--out", required=True, help="report file: .html (default) or .md")
    report.add_argument("--overwrite", action="store_true", help="replace the report at --out")
    report.add_argument(
        "--response",
        default=None,
        help="response column (default: the models')",
    )
    report.add_argument(
        "--exposure",
        default=None,
        help="exposure column (default: the models')",
    )
    report.add_argument("--markdown", action="store_true", help="also write the .md variant")
    report.add_argument("--title", default="Tariff comparison")
    report.add_argument(
        "--features",
        nargs="*",
        default=None,
        help="columns for bias and partial dependence (default: the models')",
    )
    export = sub.add_parser(
        "export", help="write a saved model as one Keras model that reads the raw columns"
    )
    export.add_argument("model", metavar="MODEL_DIR", help="saved model directory")
    export.add_argument("--out", required=True, metavar="FILE.keras", help="the Keras file")
    export.add_argument("--overwrite", action="store_true", help="replace the file at --out")
    export.add_argument(
        "--unseen",
        choices=["nan", "reference"],
        default="nan",
        help="category levels not seen at fit: NaN predictions (default), or the feature's "
        "reference level",
    )
    return parser


def _export(args: argparse.Namespace) -> None:
    """``actnn export``: the saved model as one self-contained Keras file."""
    from .persistence import load_model

    _start_tensorflow(args)  # before the export module imports Keras
    from .export import export_keras

    model = load_model(args.model)
    path = export_keras(model, args.out, unseen=args.unseen, overwrite=args.overwrite)
    print(f"wrote the {type(model).__name__} saved in {args.model} to {path}")


def _fit(args: argparse.Namespace) -> None:
    """``actnn fit``: config, then data, then the fit, the saved model and a summary line."""
    from .config import fit_from_config, load_config
    from .persistence import _check_target, save_model

    started = time.perf_counter()
    config = load_config(args.config)
    if config.kind != "glm":
        _start_tensorflow(args)
    print(f"config {args.config}: {config.describe()}")
    out = Path(args.out)
    _check_target(out, args.overwrite)  # before the fit, which may take long
    data = _read_data(args.data, args.sep)
    unused = [str(c) for c in data.columns if c not in config.columns]
    print(
        f"read {len(data):,} rows, {data.shape[1]} columns from {args.data}"
        + (f"; not used by the model: {', '.join(unused)}" if unused else "")
    )
    verbose = int(args.progress or sys.stdout.isatty())
    model = fit_from_config(config, data, verbose=verbose, progress=print, data_name=args.data)
    save_model(model, out, overwrite=args.overwrite)
    print(f"saved to {out}")
    deviance = _in_sample_deviance(config, model, data)
    weighted = f", weighted by {config.weights!r}" if config.weights else ""
    print(
        f"done: {config.kind} on {len(data):,} rows, in-sample deviance {deviance:.6g} "
        f"(mean {config.family_name} unit deviance{weighted}), "
        f"{time.perf_counter() - started:.1f} s"
    )


def _refuse_to_overwrite(files: Sequence[Path], overwrite: bool) -> None:
    """A FileExistsError naming the files of ``files`` that exist, unless ``overwrite``."""
    existing = [str(f) for f in files if f.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{', '.join(existing)} exists already: pass --overwrite to replace it, or choose "
            "another --out"
        )


def _read_data(path: str | Path, sep: str = ",") -> pd.DataFrame:
    """The table in ``path``, which must have rows."""
    from .tables import read_table

    data = read_table(path, sep=sep)
    if len(data) == 0:
        raise ValueError(f"{path} has no rows (columns: {list(data.columns)})")
    return data


def _with_predictions(
    model: Any,
    data: pd.DataFrame,
    column: str,
    rate_column: str,
    data_name: str,
    unseen: str = "error",
) -> pd.DataFrame:
    """``data`` with the column ``mu`` (exposure included) and, for exposure models, the rate."""
    fitted = (getattr(model, "members_", None) or [model])[0]  # a Nagging's members hold it
    uses_exposure = getattr(fitted, "uses_exposure_", False)
    new = [column, rate_column] if uses_exposure else [column]
    if len(set(new)) < len(new):
        raise ValueError(f"--column and --rate-column are both {column!r}: choose two names")
    taken = [c for c in new if c in data.columns]
    if taken:
        raise ValueError(
            f"{data_name} already has the column(s) {taken}: choose other names with --column "
            "or --rate-column"
        )
    if uses_exposure and fitted.exposure_ is None:
        raise ValueError(
            "the model was fitted with exposures given as an array, not a column: predict in "
            "Python with model.predict(data, exposure=...)"
        )
    if uses_exposure and fitted.exposure_ not in data.columns:
        raise ValueError(
            f"the model was fitted with the exposure column {fitted.exposure_!r}, which "
            f"{data_name} lacks; it has {list(data.columns)}"
        )
    out = data.copy()
    out[column] = model.predict(data, unseen=unseen)
    if uses_exposure:
        out[rate_column] = model.predict_frequency(data, unseen=unseen)
    return out


def _predict(args: argparse.Namespace) -> None:
    """``actnn predict``: the data file with the model's predictions, in a new file."""
    from .persistence import load_model, read_manifest
    from .tables import writable_table, write_table

    started = time.perf_counter()
    data_file, out_file = Path(args.data), Path(args.out)
    if out_file.resolve() == data_file.resolve() or (
        out_file.exists() and data_file.exists() and out_file.samefile(data_file)
    ):
        raise ValueError(f"--out {out_file} is the input file: choose another file")
    writable_table(out_file)  # before the work
    _refuse_to_overwrite([out_file], args.overwrite)
    if read_manifest(args.model)["kind"] != "glm":
        _start_tensorflow(args)
    model = load_model(args.model)
    print(f"loaded the {type(model).__name__} saved in {args.model}")
    data = _read_data(data_file, args.sep)
    print(f"read {len(data):,} rows from {data_file}")
    out = _with_predictions(
        model, data, args.column, args.rate_column, str(data_file), unseen=args.unseen
    )
    write_table(out, out_file)
    added = ", ".join(out.columns[data.shape[1] :])
    seconds = time.perf_counter() - started
    print(f"wrote {len(out):,} rows with {added} to {out_file} ({seconds:.1f} s)")


def _report(args: argparse.Namespace) -> None:
    """``actnn report``: the models, then the data, checked as at fit, then the report."""
    from .persistence import load_model, read_manifest
    from .report import write_report

    out = Path(args.out)
    written = [out] + ([out.with_suffix(".md")] if args.markdown and out.suffix != ".md" else [])
    _refuse_to_overwrite(written, args.overwrite)
    dirs = [Path(d) for d in args.models]
    names = [d.resolve().name for d in dirs]
    if len(set(names)) != len(names):
        raise ValueError(f"model directories must have distinct names, got {names}")
    if any(read_manifest(d)["kind"] != "glm" for d in dirs):
        _start_tensorflow(args)
    models = {name: load_model(d) for name, d in zip(names, dirs, strict=True)}
    print(f"loaded {', '.join(names)}")
    data = _read_data(args.data, args.sep)
    print(f"read {len(data):,} rows from {args.data}")
    # evaluate checks the response, exposure and weights as fit does, each warning given once
    write_report(models, data, args.out, title=args.title, markdown=args.markdown,
                 features=args.features, data_name=Path(args.data).name,
                 response=args.response, exposure=args.exposure)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    with _warnings_as_lines():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "demo" or (args.command == "reproduce" and args.study != "nsw2018"):
            _start_tensorflow(args)  # networks (the demo trains a CANN)
        if args.command == "demo":
            from .studies.demo import run_demo

            run_demo(args.out, n=args.n, seed=args.seed, epochs=args.epochs)
        elif args.command == "fit":
            _fit(args)
        elif args.command == "predict":
            _predict(args)
        elif args.command == "report":
            _report(args)
        elif args.command == "export":
            _export(args)
        elif args.command == "split":
            from .datasets.splits import write_split

            for path in write_split(args.study, args.data_dir, args.out, suffix="." + args.format):
                print(f"wrote {path}")
        else:
            from . import studies as reproduce

            if args.study == "sw2019":
                from .studies.sw2019 import reproduce_sw2019

                reproduce_sw2019(
                    args.data_dir, args.out, quick=args.quick, checkpoint_dir=args.checkpoint_dir
                )
            elif args.study == "severity":
                reproduce.reproduce_severity(args.data_dir, args.out, quick=args.quick)
            else:
                reproduce.reproduce_nsw2018(args.data_dir, args.out)
            print(f"results written to {args.out}/results.json and {args.out}/results.md")
    except KeyboardInterrupt:
        print("actnn: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for users; the traceback with --debug
        if args.debug:
            raise
        message = _in_cli_words(str(exc)) or type(exc).__name__
        print(f"actnn: error: {message}", file=sys.stderr)
        return 1
    return 0


def _in_sample_deviance(config: Any, model: Any, data: pd.DataFrame) -> float:
    """Mean unit deviance of ``model`` on ``data`` (weighted by ``config.weights`` if given).

    For Poisson counts with exposure, 100 times it is the average Poisson deviance per policy
    in Wüthrich's units of 10^-2 (:func:`actnn.metrics.poisson_deviance`).
    """
    import pandas as pd

    w = None if config.weights is None else data[config.weights].to_numpy(dtype=float)
    if hasattr(model, "deviance_"):  # a GLM knows its deviance on its learning data
        return model.deviance_ / (len(data) if w is None else float(w.sum()))
    y = pd.to_numeric(data[config.response]).to_numpy(dtype=float)
    return model.family_.mean_deviance(y, model.predict(data), w)


if __name__ == "__main__":
    sys.exit(main())
