"""Seconds per epoch of the SW2019 embedding network: actnn's trainer against ``keras.Model.fit``.

The network: numeric inputs as SW2019 (MinMax-scaled), VehBrand and Region embedded in d = 2,
hidden layers (20, 15, 10) tanh, exposure offset, Poisson deviance, Nadam, batch size 10,000, on
the 610,212 learning policies of the NSW2018 split. Both trainers start from the same weights and
run in the same process one after the other; the script prints one JSON object::

    {"actnn": {"seconds_per_epoch"}, "keras_fit": {"seconds_per_epoch"}, "speedup", ...}

``seconds_per_epoch`` is the median over the epochs after the first (which traces the graph).

Usage: ``python benchmarks/epoch_time.py --data-dir DIR [--epochs 6]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder of freMTPL2freq")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args(argv)

    import keras

    import actnn  # noqa: F401  (TensorFlow backend, quiet logs)
    from actnn import datasets as data
    from actnn.datasets.presets import sw2019_network_inputs
    from actnn.families import DevianceLoss, Poisson
    from actnn.networks import build_network, eta_model
    from actnn.studies import nsw2018_split
    from actnn.training import train

    dat = data.prepare_nsw2018(data.load_freq(args.data_dir))
    learn = dat.iloc[nsw2018_split(len(dat))[0]].reset_index(drop=True)
    inputs = sw2019_network_inputs().fit(learn)
    arrays = inputs.transform(learn)
    arrays["offset"] = np.log(learn["Exposure"].to_numpy())[:, None]
    y = learn["ClaimNb"].to_numpy(float)

    keras.utils.set_random_seed(1)
    model = build_network(inputs, embedding_dim=2, output_bias=float(np.log(y.sum() / len(y))))
    start_weights = model.get_weights()

    print("actnn trainer ...", file=sys.stderr)
    history = train(
        eta_model(model), arrays, y, Poisson(), epochs=args.epochs,
        batch_size=args.batch_size, optimizer=keras.optimizers.Nadam(0.002), patience=None,
        verbose=0,
    )  # fmt: skip
    actnn_seconds = statistics.median(history.seconds[1:])

    print("keras.Model.fit ...", file=sys.stderr)
    model.set_weights(start_weights)
    net = eta_model(model)
    net.compile(
        optimizer=keras.optimizers.Nadam(0.002),
        loss=DevianceLoss("poisson", from_eta=True, dtype="float64"),
    )
    seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)

    net.fit(arrays, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
            callbacks=[EpochTimer()])  # fmt: skip
    keras_seconds = statistics.median(seconds[1:])

    print(
        json.dumps(
            {
                "actnn": {"seconds_per_epoch": round(actnn_seconds, 3)},
                "keras_fit": {"seconds_per_epoch": round(keras_seconds, 3)},
                "speedup": round(keras_seconds / actnn_seconds, 2),
                "n_learn": len(y),
                "batch_size": args.batch_size,
                "epochs": args.epochs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
