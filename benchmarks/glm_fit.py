"""Time the NSW2018 GLM1 Poisson fit on the 610,212 learning policies: actnn, glum, statsmodels.

Each library fits the same model (same prepared data, same split, same features and reference
levels) in its own subprocess, three times; the script prints one JSON object::

    {"actnn": {"seconds", "peak_mb", "out_of_sample"}, "glum": {...}, "statsmodels": {...}}

``seconds`` is the median wall time of the fit itself: for actnn ``GLM.fit`` on the data frame
(design matrix, IRLS, Keras network); for glum ``fit`` on a frame of categorical and numeric
columns (glum's fastest input, its own sparse handling of categoricals); for statsmodels ``fit``
on the dense design matrix. Data loading and preparation are not timed. ``peak_mb`` is the peak
resident memory during the fit above the resident memory before it, sampled every 2 ms.
``out_of_sample`` is the test loss in units of 10^-2 (NSW2018: 32.17123).

Usage: ``python benchmarks/glm_fit.py --data-dir DIR [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class PeakMemory:
    """Peak resident memory above the level at entry, sampled in a thread."""

    def __enter__(self):
        self.base = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.extra_mb = self.peak - self.base


def _prepared(data_dir: str):
    from actnn import datasets as data
    from actnn.studies import nsw2018_split

    dat = data.prepare_nsw2018(data.load_freq(data_dir))
    learn, test = nsw2018_split(len(dat))
    return dat.iloc[learn].reset_index(drop=True), dat.iloc[test].reset_index(drop=True)


def _glum_frame(spec, df):
    """GLM1's features as columns glum understands; categorical levels with the reference first."""
    import pandas as pd

    from actnn.features import Binned, Categorical

    out = {}
    for f in spec.features:
        if isinstance(f, Categorical | Binned):
            levels = f.levels
            ref = f.reference_level
            order = [ref] + [lvl for lvl in levels if lvl != ref]
            codes = f.codes(df)
            out[f.label] = pd.Categorical.from_codes(
                np.array([order.index(lvl) for lvl in levels])[codes], categories=order
            )
        else:
            out[f.label] = f.encode(df)[:, 0]
    return pd.DataFrame(out)


def run_one(library: str, data_dir: str, repeats: int) -> dict:
    import actnn  # noqa: F401  (TensorFlow backend, quiet logs)
    from actnn.datasets.presets import get_preset
    from actnn.glm import GLM
    from actnn.metrics import poisson_deviance

    learn, test = _prepared(data_dir)
    y = learn["ClaimNb"].to_numpy(float)
    offset = np.log(learn["Exposure"].to_numpy())
    spec = get_preset("nsw2018_glm1").fit(learn)
    if library == "glum":
        import glum

        x_learn, x_test = _glum_frame(spec, learn), _glum_frame(spec, test)

        def fit():
            model = glum.GeneralizedLinearRegressor(
                family="poisson", link="log", alpha=0, drop_first=True, gradient_tol=1e-8
            )
            return model.fit(x_learn, y, offset=offset)

        def predict(model):
            return model.predict(x_test, offset=np.log(test["Exposure"].to_numpy()))
    elif library == "statsmodels":
        import statsmodels.api as sm

        x_learn = spec.design_matrix(learn, intercept=True)
        x_test = spec.design_matrix(test, intercept=True)

        def fit():
            return sm.GLM(y, x_learn, family=sm.families.Poisson(), offset=offset).fit()

        def predict(model):
            return model.predict(x_test, offset=np.log(test["Exposure"].to_numpy()))
    else:

        def fit():
            return GLM(get_preset("nsw2018_glm1")).fit(learn, "ClaimNb", exposure="Exposure")

        def predict(model):
            return model.predict(test)

    seconds, peaks = [], []
    for _ in range(repeats):
        with PeakMemory() as mem:
            start = time.perf_counter()
            model = fit()
            seconds.append(time.perf_counter() - start)
        peaks.append(mem.extra_mb)
    return {
        "seconds": round(statistics.median(seconds), 3),
        "peak_mb": round(max(peaks), 1),
        "out_of_sample": round(poisson_deviance(test["ClaimNb"], predict(model)), 5),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder of freMTPL2freq")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["actnn", "glum", "statsmodels"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        print(json.dumps(run_one(args.only, args.data_dir, args.repeats)))
        return 0
    results = {}
    for library in ("actnn", "glum", "statsmodels"):
        cmd = [sys.executable, __file__, "--only", library, "--repeats", str(args.repeats)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        print(f"timing {library} ...", file=sys.stderr)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[library] = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
