"""The ``actnn`` command line: ``actnn demo``, ``actnn reproduce`` and ``actnn report``.

Errors are one line on stderr and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence


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


def _start_tensorflow() -> None:
    """Import TensorFlow and initialise its devices quietly (the CLI's start-up, not the API's)."""
    with _native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_logical_devices()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actnn", description="Actuarial GLMs that are Keras networks."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="fit GLMs on the embedded synthetic portfolio and write the results"
    )
    demo.add_argument("--out", default="actnn-demo", help="output folder (default: actnn-demo)")
    demo.add_argument("--n", type=int, default=200_000, help="policies to simulate")
    demo.add_argument("--seed", type=int, default=1, help="simulation seed")

    rep = sub.add_parser("reproduce", help="reproduce a published table on freMTPL2")
    rep.add_argument("study", choices=["nsw2018", "severity", "sw2019"], help="which table")
    rep.add_argument(
        "--data-dir",
        default=None,
        help="folder with freMTPL2freq / freMTPL2sev (default: $ACTNN_DATA_DIR, then the cache)",
    )
    rep.add_argument("--out", required=True, help="output folder for results.json and results.md")
    rep.add_argument(
        "--quick", action="store_true", help="sw2019: one seed of CANN2 and a 2-member ensemble"
    )
    rep.add_argument(
        "--checkpoint-dir",
        default=None,
        help="sw2019: save nagging members here as they finish; a rerun resumes",
    )

    report = sub.add_parser(
        "report", help="compare saved models on a data set in one HTML (or Markdown) report"
    )
    report.add_argument("models", nargs="+", metavar="MODEL_DIR", help="saved model directories")
    report.add_argument("--data", required=True, help="csv, csv.gz or parquet file")
    report.add_argument("--out", required=True, help="report file: .html (default) or .md")
    report.add_argument("--markdown", action="store_true", help="also write the .md variant")
    report.add_argument("--title", default="Tariff comparison")
    report.add_argument(
        "--features",
        nargs="*",
        default=None,
        help="columns for bias and partial dependence (default: the models')",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if not args.debug:
            _start_tensorflow()
        if args.command == "demo":
            from .demo import run_demo

            run_demo(args.out, n=args.n, seed=args.seed)
        elif args.command == "report":
            from .report import write_report

            write_report(args.models, args.data, args.out, title=args.title,
                         markdown=args.markdown, features=args.features)  # fmt: skip
        else:
            from . import reproduce

            if args.study == "sw2019":
                from .case_sw2019 import reproduce_sw2019

                reproduce_sw2019(
                    args.data_dir, args.out, quick=args.quick, checkpoint_dir=args.checkpoint_dir
                )
            else:
                run = {
                    "nsw2018": reproduce.reproduce_nsw2018,
                    "severity": reproduce.reproduce_severity,
                }
                run[args.study](args.data_dir, args.out)
            print(f"results written to {args.out}/results.json and {args.out}/results.md")
    except KeyboardInterrupt:
        print("actnn: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for users; the traceback with --debug
        if args.debug:
            raise
        print(f"actnn: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
