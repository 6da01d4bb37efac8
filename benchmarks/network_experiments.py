"""Train network configurations on the NSW2018 split and print their losses.

Each configuration (a JSON object of FNN / CANN options, plus ``kind`` and ``seeds``) is trained
for each seed on the learning data, balance-corrected, and scored in and out of sample (average
Poisson deviance per policy, 10^-2). CANNs sit on SW2019's GLM2.

With ``--save-predictions DIR`` each network's test predictions (expected claim counts) are
saved as ``DIR/<kind>-<embedding_dim>-<seed>.npy``, so mixed ensembles can be scored afterwards.

With ``--nagging`` it also prints, per configuration, the out-of-sample loss of the average of
the first M members (the nagging predictor) for M = 1, 2, ...

Usage::

    python benchmarks/network_experiments.py --data-dir DIR [--nagging] \\
        '[{"seeds": [1, 2, 3]}, {"kind": "cann", "validation_fraction": 0.0, "epochs": 200}]'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", help="JSON list of configurations")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--nagging", action="store_true", help="print the loss by ensemble size")
    parser.add_argument("--save-predictions", default=None, metavar="DIR")
    args = parser.parse_args(argv)

    import numpy as np

    import actnn  # noqa: F401  (TensorFlow backend)
    from actnn import GLM, data, get_preset, poisson_deviance
    from actnn.datasets.presets import sw2019_network_inputs
    from actnn.networks import CANN, FNN
    from actnn.studies import nsw2018_split

    dat = data.prepare_nsw2018(data.load_freq(args.data_dir))
    learn_rows, test_rows = nsw2018_split(len(dat))
    learn, test = dat.iloc[learn_rows], dat.iloc[test_rows]
    glm2 = GLM(get_preset("sw2019_glm2")).fit(learn, "ClaimNb", exposure="Exposure")
    folder = Path(args.save_predictions) if args.save_predictions else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for config in json.loads(args.configs):
        options = dict(config)
        kind = options.pop("kind", "fnn")
        test_predictions = []
        for seed in options.pop("seeds", [1, 2, 3]):
            inputs = sw2019_network_inputs()
            model = (
                CANN(glm2, inputs, seed=seed, verbose=0, **options)
                if kind == "cann"
                else FNN(inputs, seed=seed, verbose=0, **options)
            )
            started = time.perf_counter()
            model.fit(learn, "ClaimNb", exposure="Exposure").balance_correct(learn)
            row = {
                "kind": kind,
                "options": options,
                "seed": seed,
                "epochs": model.history_.epochs,
                "best_epoch": model.history_.best_epoch,
                "seconds": round(time.perf_counter() - started, 1),
                "in_sample": round(poisson_deviance(learn["ClaimNb"], model.predict(learn)), 5),
                "out_of_sample": round(poisson_deviance(test["ClaimNb"], model.predict(test)), 5),
            }
            print(json.dumps(row), flush=True)
            test_predictions.append(model.predict(test))
            if folder is not None:
                dim = options.get("embedding_dim", 2)
                np.save(folder / f"{kind}-{dim}-{seed}.npy", test_predictions[-1])
        if args.nagging:
            running = np.cumsum(test_predictions, axis=0)
            running /= np.arange(1, len(running) + 1)[:, None]
            losses = [round(poisson_deviance(test["ClaimNb"], mu), 5) for mu in running]
            print(json.dumps({"kind": kind, "options": options, "nagging_out_of_sample": losses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
