"""Training a CANN from Parquet shards (actnn.streaming) against actnn's in-memory trainer.

A synthetic portfolio of ``--n`` policies (``simulate_mtpl``, one seed per shard, IDpol numbered
across shards) is written as Parquet shards of ``--shard-rows`` rows into ``--work-dir``, shard by
shard, and reused by later runs with the same ``--n``, ``--shard-rows`` and ``--seed``. Then, each
in its own process so that the peak memory (``ru_maxrss``) is that measurement's:

- streaming: the network inputs fitted in one pass over the shards, the GLM (NSW2018 GLM1) fitted
  on a uniform sample of ``--glm-sample`` rows, a CANN (SW2019 inputs, hidden (20, 15, 10),
  embeddings d = 2) trained from the stream for ``--epochs`` epochs (the cache of encoded rows,
  about 60 bytes a row, in a temporary folder of ``--work-dir``);
- in memory: the first ``--in-memory-n`` rows read into a frame, the same GLM fitted on the first
  ``--glm-sample`` of them, the same CANN trained by ``CANN.fit`` (no validation rows, same batch
  size and epochs).

Both run the same batch size and learning rate. The script prints one JSON object::

    {"n", "shards", "streaming": {"epoch_seconds", "rows_per_second", "peak_rss_gib", ...},
     "in_memory": {...}, "throughput_ratio", ...}

``rows_per_second`` is per epoch; ``median_rows_per_second`` is over the epochs after the first
(which traces and compiles). ``throughput_ratio`` is in-memory over streaming throughput (the
target: at most 1.5; and a peak memory under 4 GiB for 20 million policies). The first streaming
epoch also reads and encodes the shards into the cache of encoded rows that the later epochs read
(the in-memory trainer's inputs are encoded before its first epoch). ``load_average`` (1, 5 and 15
minutes, at the end of a measurement) tells whether other work shared the machine: the pipeline
overlaps with the training only on an idle core.

Usage: ``python benchmarks/streaming.py --work-dir DIR [--n 20000000] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _peak_rss_gib() -> float:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _portfolio(args) -> Path:
    """The Parquet shards of the portfolio, written one shard at a time unless already there."""
    from actnn.datasets.simulate import simulate_mtpl

    folder = Path(args.work_dir) / f"mtpl-n{args.n}-rows{args.shard_rows}-seed{args.seed}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    shards = []
    for i, start in enumerate(range(0, args.n, args.shard_rows)):
        rows = min(args.shard_rows, args.n - start)
        part = simulate_mtpl(rows, seed=args.seed + i, severity=False)
        part["IDpol"] += start
        name = f"part-{i:05d}.parquet"
        part.to_parquet(folder / name, index=False)
        shards.append({"file": name, "rows": rows, "seed": args.seed + i})
    manifest.write_text(
        json.dumps({"n": args.n, "seconds": time.perf_counter() - started, "shards": shards})
    )
    return folder


def _rates(seconds: list[float], rows: int) -> dict:
    rates = [rows / s for s in seconds]
    return {
        "epoch_seconds": [round(s, 3) for s in seconds],
        "rows_per_second": [round(r) for r in rates],
        "median_rows_per_second": round(statistics.median(rates[1:] or rates)),
    }


def _glm():
    from actnn import GLM, get_preset

    return GLM(get_preset("nsw2018_glm1"))


def _cann(glm, args):
    from actnn import CANN
    from actnn.datasets.presets import sw2019_network_inputs

    return CANN(glm, sw2019_network_inputs(), epochs=args.epochs, batch_size=args.batch_size,
                validation_fraction=0.0, seed=args.seed, verbose=0)  # fmt: skip


def measure_streaming(args) -> dict:
    """Fit the inputs, sample and fit the GLM, train the CANN: all from the shards."""
    from actnn.datasets.presets import sw2019_network_inputs
    from actnn.streaming import fit_inputs_streaming, sample_shards, train_streaming

    folder = _portfolio(args)
    started = time.perf_counter()
    summary = fit_inputs_streaming(
        sw2019_network_inputs(), folder, response="ClaimNb", exposure="Exposure"
    )
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    glm = _glm()
    columns = [*glm.features.columns, "ClaimNb", "Exposure"]
    sample = sample_shards(summary.shards, args.glm_sample, seed=args.seed, columns=columns)
    glm.fit(sample, "ClaimNb", exposure="Exposure")
    del sample
    glm_seconds = time.perf_counter() - started
    cann = _cann(glm, args)
    history = train_streaming(cann, summary, cache=args.work_dir,
                              progress=lambda line: print(line, file=sys.stderr))  # fmt: skip
    return {
        "n": summary.n_rows,
        "shards": len(summary.shards),
        "fit_inputs_seconds": round(fit_seconds, 2),
        "sample_and_glm_seconds": round(glm_seconds, 2),
        **_rates(history.seconds, summary.n_rows),
        "loss": history.loss,
        "peak_rss_gib": round(_peak_rss_gib(), 3),
        "load_average": os.getloadavg(),
    }


def measure_in_memory(args) -> dict:
    """Read the first rows into memory and train the same CANN with CANN.fit."""
    import pandas as pd

    from actnn.streaming import list_shards

    frames, rows = [], 0
    for path in list_shards(_portfolio(args)):
        if rows >= args.in_memory_n:
            break
        frames.append(pd.read_parquet(path))
        rows += len(frames[-1])
    learn = pd.concat(frames, ignore_index=True).iloc[: args.in_memory_n]
    del frames
    glm = _glm().fit(learn.iloc[: args.glm_sample], "ClaimNb", exposure="Exposure")
    cann = _cann(glm, args).fit(learn, "ClaimNb", exposure="Exposure")
    return {
        "n": len(learn),
        **_rates(cann.history_.seconds, len(learn)),
        "loss": cann.history_.loss,
        "peak_rss_gib": round(_peak_rss_gib(), 3),
        "load_average": os.getloadavg(),
    }


MEASUREMENTS = {"streaming": measure_streaming, "in_memory": measure_in_memory}


def _run(what: str, argv: list[str]) -> dict:
    """One measurement in a fresh process: its last line of output is its JSON result."""
    print(f"{what} ...", file=sys.stderr)
    done = subprocess.run(
        [sys.executable, __file__, *argv, "--measure", what],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", required=True, help="folder of the cached shards")
    parser.add_argument("--n", type=int, default=20_000_000, help="policies in the portfolio")
    parser.add_argument("--shard-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--glm-sample", type=int, default=1_000_000)
    parser.add_argument("--in-memory-n", type=int, default=2_000_000)
    parser.add_argument("--measure", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)

    import actnn  # noqa: F401  (TensorFlow backend, quiet logs)

    if args.measure:
        print(json.dumps(MEASUREMENTS[args.measure](args)))
        return 0
    print("portfolio ...", file=sys.stderr)
    started = time.perf_counter()
    _portfolio(args)
    generate_seconds = time.perf_counter() - started
    streaming = _run("streaming", argv)
    in_memory = _run("in_memory", argv)
    ratio = in_memory["median_rows_per_second"] / streaming["median_rows_per_second"]
    print(
        json.dumps(
            {
                "n": streaming["n"],
                "shards": streaming["shards"],
                "shard_rows": args.shard_rows,
                "batch_size": args.batch_size,
                "epochs": args.epochs,
                "glm_sample": args.glm_sample,
                "generate_seconds": round(generate_seconds, 2),
                "streaming": streaming,
                "in_memory": in_memory,
                "throughput_ratio": round(ratio, 3),
                "cpu_count": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
