"""Training an FNN or CANN from the streamed shards (:func:`train_streaming`).

One device: a compiled step runs the optimiser over a shuffle window of batches; under a
``tf.distribute`` strategy each step takes one global batch. The epochs are run by
:func:`actnn.training.run_epochs`, the loop of the in-memory trainer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from .._base import _warn_not_whole
from .._utils import Progress, _say
from ..families import Poisson
from ..inputs import NetworkInputs
from ..networks import CANN, FNN, eta_model
from ..training import History, check_schedules, make_optimizer, run_epochs
from .dataset import _check_model, streaming_dataset
from .shards import CHUNK_ROWS, PathArg, Shards
from .summary import StreamSummary

__all__ = ["train_streaming"]


# factor of a learning-rate reduction after lr_patience epochs (actnn.training.train's default,
# which the models' fit uses)
_LR_FACTOR = 0.5


class _NadamByDtype:
    """Nadam on variables of several dtypes, one Keras optimizer per dtype.

    The networks' hidden layers are float32 and their output unit float64. Under a
    ``tf.distribute`` strategy a Keras optimizer all-reduces its gradients in one collective
    operation, which packs them into one tensor and fails on mixed dtypes; one optimizer per
    dtype steps exactly as one optimizer over all variables (Nadam updates each variable on its
    own, with the same step count).
    """

    def __init__(self, variables: Sequence[Any], learning_rate: float):
        self.groups: dict[str, list[int]] = {}
        for i, variable in enumerate(variables):
            self.groups.setdefault(str(variable.dtype), []).append(i)
        self.variables = list(variables)
        self.optimizers = {dtype: keras.optimizers.Nadam(learning_rate) for dtype in self.groups}
        for dtype, rows in self.groups.items():
            self.optimizers[dtype].build([self.variables[i] for i in rows])

    def apply(self, gradients: Sequence[Any]) -> None:
        for dtype, rows in self.groups.items():
            self.optimizers[dtype].apply(
                [gradients[i] for i in rows], [self.variables[i] for i in rows]
            )

    @property
    def learning_rate(self) -> float:
        return float(next(iter(self.optimizers.values())).learning_rate.numpy())

    def set_learning_rate(self, value: float) -> None:
        for optimizer in self.optimizers.values():
            optimizer.learning_rate.assign(value)


def _same_declaration(a: NetworkInputs, b: NetworkInputs) -> bool:
    """Whether two NetworkInputs declare the same features, fitted or not."""

    def declared(inputs: NetworkInputs):
        numeric = [dataclasses.replace(f, fitted_range=None) for f in inputs.numeric]
        categorical = [dataclasses.replace(f, fitted_levels=None) for f in inputs.categorical]
        return numeric, categorical, inputs.scaling

    return declared(a) == declared(b)


def train_streaming(
    model: FNN | CANN,
    summary: StreamSummary,
    *,
    validation: Shards | None = None,
    epochs: int | None = None,
    shuffle_buffer: int = 200_000,
    cache: bool | PathArg = True,
    strategy: tf.distribute.Strategy | None = None,
    chunk_rows: int = CHUNK_ROWS,
    csv_dtype: Mapping[str, Any] | None = None,
    progress: Progress | None = print,
) -> History:
    """Train an FNN or CANN on the shards of ``summary``, streamed batch by batch.

    The network is built from ``summary`` (:meth:`~actnn.networks.FNN.build_from_statistics`,
    with the model's seed: the start of :meth:`~actnn.networks.FNN.fit`) and trained on the mean
    deviance of the model's family with Nadam, the model's ``batch_size``, ``learning_rate``,
    ``lr_schedule`` and ``lr_patience``, one compiled step per batch (XLA as the model's
    ``jit_compile`` says). The weights of the best epoch are kept: by the validation loss if
    there is ``validation``, else by the training loss. Afterwards the model predicts and saves
    as a fitted one; ``model.history_`` is the returned history.

    Parameters
    ----------
    model : FNN or CANN
        Unfitted or fitted (it is rebuilt). A CANN's GLM must be fitted, e.g. on
        :func:`sample_shards`.
    summary : StreamSummary
        From :func:`fit_inputs_streaming` of the model's ``inputs`` on the learning shards, with
        the response (and exposure and weights) columns.
    validation : shards, optional
        Learning rows held out (other shards) for early stopping after the model's ``patience``
        epochs without a better validation loss. The model's ``validation_fraction`` is not used.
    epochs : int, optional
        Passes over the shards (default the model's ``epochs``).
    shuffle_buffer : int
        Rows shuffled together (see :func:`streaming_dataset`).
    cache : bool or path
        Keep the encoded rows of the first epoch on disk for the later ones (see
        :func:`streaming_dataset`), in a temporary folder of the system's temporary directory
        (True) or of the given folder, removed at the end; False encodes the shards in every
        epoch.
    strategy : tf.distribute.Strategy, optional
        Train on several devices or machines: the network and the optimizer are created in
        ``strategy.scope()``, each global batch is split between the replicas
        (``strategy.experimental_distribute_dataset``) and each replica's loss is its part of
        the global batch's mean deviance, so the summed gradients are those of one device.
    chunk_rows, csv_dtype
        See :func:`read_shard`.
    progress : callable, optional
        Called with a line per epoch (loss, seconds, rows per second).

    Returns
    -------
    History
        Loss per epoch (mean unit deviance over all rows, during the epoch), validation loss,
        seconds, learning rate, best epoch.

    Raises
    ------
    TrainingStopped
        If the loss turns NaN or infinite; the model then holds the best weights seen before.
    """
    _check_model(model)
    if not isinstance(summary, StreamSummary):
        raise TypeError(f"summary must be a StreamSummary, got {type(summary).__name__}")
    if summary.response is None:
        raise ValueError("summary has no response: pass response=... to fit_inputs_streaming")
    if not _same_declaration(summary.inputs, model.inputs):
        raise ValueError("summary.inputs were fitted from other features than the model's inputs")
    check_schedules(
        make_optimizer(None, model.learning_rate),
        lr_schedule=model.lr_schedule,
        lr_patience=model.lr_patience,
    )
    started = time.perf_counter()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model.build_from_statistics(
            summary.inputs,
            summary.response,
            exposure=summary.exposure,
            weights=summary.weights,
            mean_response=summary.mean_response,
        )
        network = eta_model(model.keras_model_)
        optimizer = _NadamByDtype(network.trainable_variables, model.learning_rate)
    if isinstance(model.family_, Poisson) and summary.response_not_whole is not None:
        _warn_not_whole(summary.response_not_whole)  # as the in-memory fit does
    with contextlib.ExitStack() as stack:
        folder = None
        if cache is not False:
            parent = None if cache is True else cache
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=parent)))
        steps = _Steps(model, network, optimizer, strategy, shuffle_buffer)
        options: dict[str, Any] = {
            "batch_size": model.batch_size, "batches_per_element": steps.batches_per_element,
            "chunk_rows": chunk_rows, "csv_dtype": csv_dtype,
        }  # fmt: skip
        learning = streaming_dataset(
            model, summary.shards, shuffle=True, shuffle_buffer=shuffle_buffer, seed=model.seed,
            cache=folder and folder / "learning", **options,
        )  # fmt: skip
        held_out = None
        if validation is not None:
            held_out = streaming_dataset(
                model, validation, cache=folder and folder / "validation", **options
            )
        history = steps.run(
            learning, held_out, epochs=model.epochs if epochs is None else epochs,
            n_rows=summary.n_rows, progress=progress,
        )  # fmt: skip
    model.history_ = history
    model.balance_corrected_ = False
    model.fit_seconds_ = time.perf_counter() - started
    return history


class _Steps:
    """The compiled training and evaluation steps of a network, and the loop over the epochs.

    On one device, each call of the compiled training function takes a shuffle window of rows
    (a multiple of the batch size) and runs its optimiser steps in a loop, as
    :func:`actnn.training.train` runs an epoch: no Python between the batches. Under a
    strategy, each call takes one global batch, which the strategy splits between the replicas.
    """

    def __init__(self, model, network, optimizer, strategy, shuffle_buffer: int):
        self.model, self.network, self.optimizer = model, network, optimizer
        self.strategy = strategy
        family = model.family_
        variables = network.trainable_variables
        batch_size = model.batch_size
        #: batches in an element of the dataset
        self.batches_per_element = 1

        def replica_deviance(inputs, y, w):
            """Sums of the weighted unit deviances of this replica's rows and of their weights."""
            deviance = family.keras_unit_deviance(y, network(inputs, training=False))
            return tf.reduce_sum(w * deviance), tf.reduce_sum(w)

        def replica_step(inputs, y, w):
            """One optimiser step; the loss is this replica's part of the global batch's mean."""
            context = tf.distribute.get_replica_context()
            total_weight = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(w))
            with tf.GradientTape() as tape:
                deviance = family.keras_unit_deviance(y, network(inputs, training=True))
                deviance = tf.reduce_sum(w * deviance)
                loss = deviance / total_weight
            optimizer.apply(tape.gradient(loss, variables))
            return deviance, tf.reduce_sum(w)

        def window_steps(inputs, y, w):
            """The optimiser steps over an element's batches, up to the filling of weight 0."""
            # the data's rows come first and weigh > 0 (validated); the filling weighs 0
            rows = tf.math.count_nonzero(w, dtype=tf.int32)
            steps = (rows + batch_size - 1) // batch_size

            def batches(tensor):
                shape = tf.concat([[-1, batch_size], tf.shape(tensor)[1:]], axis=0)
                return tf.reshape(tensor, shape)

            inputs, y, w = tf.nest.map_structure(batches, (inputs, y, w))
            deviance = weight = tf.constant(0.0, tf.float64)
            for step in tf.range(steps):
                batch = {name: tensor[step] for name, tensor in inputs.items()}
                batch_deviance, batch_weight = replica_step(batch, y[step], w[step])
                deviance, weight = deviance + batch_deviance, weight + batch_weight
            return deviance, weight

        if strategy is None:
            self.batches_per_element = max(shuffle_buffer // batch_size, 1)
            jit = not model.dropout if model.jit_compile is None else model.jit_compile
            self.train_step = tf.function(window_steps, jit_compile=jit)
            self.deviance_of = tf.function(replica_deviance, jit_compile=jit)
        else:
            self.train_step = _on_replicas(strategy, replica_step)
            self.deviance_of = _on_replicas(strategy, replica_deviance)

    def mean_deviance(self, dataset, step) -> float:
        """The weighted mean unit deviance over the dataset, running ``step`` on each batch."""
        if self.strategy is not None:
            dataset = _distribute(self.strategy, dataset)
        deviance = weight = tf.constant(0.0, tf.float64)
        for batch in dataset:
            batch_deviance, batch_weight = step(*batch)
            deviance, weight = deviance + batch_deviance, weight + batch_weight
        return float(deviance / weight)

    def run(self, learning, held_out, *, epochs: int, n_rows: int, progress) -> History:
        """Train for ``epochs`` epochs by :func:`actnn.training.run_epochs`, the loop that the
        in-memory trainer runs too; the network keeps the weights of the best epoch.
        """
        model, network, optimizer = self.model, self.network, self.optimizer
        rows_per_second = [0.0]  # of the last epoch's training pass

        def train_epoch(epoch: int) -> float:
            started = time.perf_counter()
            loss = self.mean_deviance(learning, self.train_step)
            rows_per_second[0] = n_rows / (time.perf_counter() - started)
            return loss

        def report(epoch: int, history: History) -> None:
            val = f", val_loss {history.val_loss[-1]:.6f}" if history.val_loss else ""
            speed = f"{history.seconds[-1]:.1f} s, {rows_per_second[0]:,.0f} rows/s"
            _say(
                progress,
                f"epoch {epoch + 1}/{epochs}: loss {history.loss[-1]:.6f}{val}, {speed}",
            )

        return run_epochs(
            train_epoch,
            None if held_out is None else lambda: self.mean_deviance(held_out, self.deviance_of),
            get_weights=network.get_weights,
            set_weights=network.set_weights,
            get_learning_rate=lambda: optimizer.learning_rate,
            set_learning_rate=optimizer.set_learning_rate,
            epochs=epochs,
            patience=model.patience,
            lr_patience=model.lr_patience,
            lr_factor=_LR_FACTOR,
            lr_schedule=model.lr_schedule,
            on_epoch_end=report,
            stacklevel=3,
        )


def _distribute(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """The dataset's global batches split between the strategy's replicas.

    Every worker reads all the shards and keeps its part of each batch (``DATA`` sharding): a
    Python generator cannot be split by file, and equal parts keep the workers in step.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _on_replicas(strategy: tf.distribute.Strategy, replica_fn):
    """A compiled function running ``replica_fn`` on every replica and summing the results."""

    @tf.function
    def run(inputs, y, w):
        per_replica = strategy.run(replica_fn, args=(inputs, y, w))
        return tuple(
            strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in per_replica
        )

    return run
