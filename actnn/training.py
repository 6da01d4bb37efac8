"""Training of actnn's networks: a compiled epoch, early stopping on a validation set, history.

:func:`train` fits a Keras network whose output is the linear predictor ``eta`` by minimising the
family's deviance. It holds the data as tensors, runs a whole epoch (shuffle, every mini-batch,
every optimiser step) inside one XLA-compiled ``tf.function`` and evaluates the validation loss
in one call, so the per-batch cost of ``keras.Model.fit`` (Python callbacks, data adapters,
host-to-device copies) is not paid. Early stopping keeps the weights of the best validation epoch.
Keras callbacks see each epoch as ``keras.Model.fit`` with ``steps_per_execution`` equal to the
epoch's steps shows it: one call of the batch hooks per epoch, then ``on_epoch_end`` with the logs.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from ._display import LOSS_UNITS, frame_html, html_block, number, text_block
from ._utils import LiveLine
from .families import Family

__all__ = [
    "History",
    "train",
    "run_epochs",
    "TrainingStopped",
    "check_schedules",
    "make_optimizer",
    "progress_text",
    "summary_line",
]


class TrainingStopped(FloatingPointError):
    """The loss became NaN or infinite; the model holds the best weights seen before."""


@dataclass
class History:
    """What happened in training: losses per epoch (mean unit deviance), times, best epoch.

    ``stopped_early`` is True when early stopping ended the training (actnn's ``patience``, or a
    Keras callback that set ``model.stop_training``) and ``stop_reason`` says which;
    ``interrupted`` is True when a ``KeyboardInterrupt`` (Ctrl-C) ended it; the lists then hold
    the epochs finished before it.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    stop_reason: str | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.loss)

    def to_dict(self) -> dict:
        """The history as a JSON-ready dict of its fields."""
        return {
            "loss": self.loss,
            "val_loss": self.val_loss,
            "seconds": self.seconds,
            "learning_rate": self.learning_rate,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "interrupted": self.interrupted,
            "stop_reason": self.stop_reason,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch run, indexed by ``epoch`` (from 1).

        Columns: ``loss`` and ``val_loss`` (the weighted mean unit deviance on the training and
        validation rows; ``val_loss`` is NaN without validation rows), ``learning_rate`` (at the
        end of the epoch), ``seconds``. ``attrs["units"]`` names the units of each column.
        """
        n = self.epochs
        frame = pd.DataFrame(
            {
                "loss": self.loss,
                "val_loss": self.val_loss if self.val_loss else [math.nan] * n,
                "learning_rate": self.learning_rate,
                "seconds": self.seconds,
            },
            index=pd.RangeIndex(1, n + 1, name="epoch"),
        )
        frame.attrs["units"] = {"loss": LOSS_UNITS, "val_loss": LOSS_UNITS, "seconds": "seconds"}
        return frame

    def _rows(self, max_epochs: int | None = None) -> list[tuple[str, str]]:
        """Epochs run (of ``max_epochs``), the best epoch, how training ended, its losses."""
        if self.interrupted:
            ended = "interrupted"
        else:
            ended = "stopped early" if self.stopped_early else "not stopped early"
        run = f"{self.epochs:,} of at most {max_epochs:,}" if max_epochs else f"{self.epochs:,}"
        rows = [("training", f"{run} epochs run, best epoch {self.best_epoch or '-'}, {ended}")]
        if self.best_epoch:
            k = self.best_epoch - 1
            losses = f"loss {number(self.loss[k])}"
            losses += f", val_loss {number(self.val_loss[k])}" if self.val_loss else ""
            rows.append(("best epoch", f"{losses} ({LOSS_UNITS})"))
        return rows

    def __repr__(self) -> str:
        return text_block("History", self._rows())

    def _repr_html_(self) -> str:
        return html_block("History", self._rows(), frame_html(self.to_frame()))

    def plot(self, ax: Any = None) -> Any:
        """Draw ``loss`` and ``val_loss`` by epoch, the best epoch marked; returns the Axes.

        Drawn by :func:`actnn.report.plotting.plot_history` (``ax=None``: a new figure).
        """
        from .report.plotting import plot_history  # the plotting module holds matplotlib

        return plot_history(self.to_frame(), best_epoch=self.best_epoch, ax=ax)


def _record_interrupt(
    history: History, finished: int, epochs: int, best_epoch: int | None, *, stacklevel: int
) -> None:
    """Mark ``history`` as interrupted after ``finished`` epochs, and warn which are restored.

    An interrupt can fall between two appends of an epoch: only the epochs recorded in full are
    kept. The caller restores the best epoch's weights; ``stacklevel`` is the warning's, counted
    from the caller.
    """
    for values in (history.loss, history.val_loss, history.seconds, history.learning_rate):
        del values[finished:]
    history.interrupted = True
    warnings.warn(
        f"training interrupted in epoch {finished + 1} of {epochs}: the weights of epoch "
        f"{best_epoch or 0} (the best of the {history.epochs} finished) are restored",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
    return {k: tf.constant(v) for k, v in arrays.items()}


def _mean_deviance(family: Family, y, eta, w):
    d = family.keras_unit_deviance(y, eta)
    # a batch whose rows all weigh 0 adds nothing (and no NaN gradient)
    return tf.math.divide_no_nan(tf.reduce_sum(w * d), tf.reduce_sum(w))


def train(
    eta_model: keras.Model,
    inputs: dict[str, np.ndarray],
    y: np.ndarray,
    family: Family,
    *,
    weights: np.ndarray | None = None,
    validation: tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None] | None = None,
    epochs: int = 100,
    batch_size: int = 10_000,
    optimizer: keras.optimizers.Optimizer | None = None,
    patience: int | None = 20,
    seed: int = 0,
    verbose: int = 1,
    jit_compile: bool = True,
    lr_patience: int | None = None,
    lr_factor: float = 0.5,
    lr_schedule: str | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    callback_model: keras.Model | None = None,
    title: str = "training",
) -> History:
    """Train ``eta_model`` (output ``eta``, shape ``(n, 1)``, float64) on the family's deviance.

    Parameters
    ----------
    eta_model : keras.Model
        Network from the input dict to the linear predictor, offset included.
    inputs, y, weights : arrays
        Learning data: the network's inputs, the response and case weights (default 1).
    validation : (inputs, y, weights), optional
        Data for early stopping, carved from the learning data by the caller (never the test
        data). Without it, training runs all epochs and keeps the epoch with the lowest
        training loss.
    epochs, batch_size : int
        Passes over the data and rows per optimiser step.
    optimizer : keras Optimizer, optional
        Default ``keras.optimizers.Nadam()``. Its learning rate may be a Keras
        ``LearningRateSchedule`` (of the optimiser step), but not together with ``lr_patience``
        or ``lr_schedule``: that is a ``ValueError``.
    patience : int, optional
        Stop after this many epochs without a better validation loss; the weights of the best
        epoch are restored. None: never stop early (the best weights are still restored).
    seed : int
        Seed of the shuffling (the weights' initialisation is the builder's).
    verbose : int
        0 silent; 1 one line of progress updated in place (see :class:`actnn._utils.LiveLine`),
        ending with the epochs run, the epoch kept and why training stopped; 2 a plain line per
        epoch and that last line.
    lr_patience : int, optional
        Multiply the learning rate by ``lr_factor`` after this many epochs without a better
        validation loss (and again after as many more); None keeps it constant.
    lr_factor : float
        Factor of each learning-rate reduction.
    lr_schedule : {None, "cosine"}
        ``"cosine"``: the learning rate of epoch ``e`` (from 0) is the optimiser's initial rate
        times ``(1 + cos(pi * e / epochs)) / 2``, falling smoothly towards 0 by the last epoch.
    jit_compile : bool
        Compile the epoch with XLA (about twice as fast on CPU; the first epoch pays about a
        second for the compilation).
    callbacks : sequence of keras.callbacks.Callback
        Called as :func:`run_epochs` says, with ``callback_model`` (default ``eta_model``) as
        their model.
    title : str
        The name the progress line starts with (e.g. ``"CANN"``).

    Returns
    -------
    History
        Also after a ``KeyboardInterrupt`` (Ctrl-C, e.g. in a notebook): the epoch in progress is
        dropped, the model holds the weights of the best finished epoch (the initial weights if
        none finished) and ``History.interrupted`` is True.

    Raises
    ------
    TrainingStopped
        If the training or validation loss turns NaN or infinite; the model then holds the best
        weights.

    Warns
    -----
    UserWarning
        After a ``KeyboardInterrupt``, naming the epoch reached and the best epoch.
    """
    optimizer = optimizer or keras.optimizers.Nadam()
    check_schedules(optimizer, lr_schedule=lr_schedule, lr_patience=lr_patience)
    n = len(y)
    dtype = eta_model.outputs[0].dtype
    data = _tensors(inputs)
    y_t = tf.constant(np.asarray(y, dtype=dtype).reshape(-1, 1))
    w_t = tf.constant(
        (np.ones(n) if weights is None else np.asarray(weights)).astype(dtype).reshape(-1, 1)
    )
    steps = math.ceil(n / batch_size)
    variables = eta_model.trainable_variables
    optimizer.build(variables)
    # Every epoch is `steps` batches of exactly `batch_size` rows: the last batch is filled up with
    # rows of weight 0, so all shapes are static and the epoch compiles once (XLA).
    pad = steps * batch_size - n
    mask = np.concatenate([np.ones(n), np.zeros(pad)]).astype(dtype)
    mask = tf.constant(mask.reshape(steps, batch_size, 1))

    def batches(tensor, order):
        """The tensor's rows in the epoch's order, shaped (steps, batch_size, ...)."""
        return tf.reshape(tf.gather(tensor, order), [steps, batch_size, *tensor.shape[1:]])

    @tf.function(jit_compile=jit_compile)
    def run_epoch(order):
        shuffled = {k: batches(v, order) for k, v in data.items()}
        y_s, w_s = batches(y_t, order), batches(w_t, order) * mask
        total = tf.constant(0.0, dtype=dtype)
        for step in tf.range(steps):
            batch = {k: v[step] for k, v in shuffled.items()}
            y_b, w_b = y_s[step], w_s[step]
            with tf.GradientTape() as tape:
                loss = _mean_deviance(family, y_b, eta_model(batch, training=True), w_b)
            optimizer.apply(tape.gradient(loss, variables), variables)
            total += loss * tf.reduce_sum(w_b)
        return total / tf.reduce_sum(w_t)

    evaluate = None
    if validation is not None:
        v_inputs, v_y, v_w = validation
        v_data = _tensors(v_inputs)
        v_y_t = tf.constant(np.asarray(v_y, dtype=dtype).reshape(-1, 1))
        v_w_t = tf.constant(
            (np.ones(len(v_y)) if v_w is None else np.asarray(v_w)).astype(dtype).reshape(-1, 1)
        )

        @tf.function
        def evaluate():
            return _mean_deviance(family, v_y_t, eta_model(v_data, training=False), v_w_t)

    rng = np.random.default_rng(seed)
    line = LiveLine(lines=verbose >= 2) if verbose else None

    def train_epoch(epoch: int) -> float:
        # the permutation, continued cyclically to fill the last batch (those rows weigh 0)
        order = np.resize(rng.permutation(n).astype(np.int32), steps * batch_size)
        return float(run_epoch(tf.constant(order)))

    def report(epoch: int, history: History) -> None:
        if line is not None:
            line(progress_text(title, history, epochs))

    try:
        history = run_epochs(
            train_epoch,
            None if evaluate is None else lambda: float(evaluate()),
            get_weights=lambda: [w.copy() for w in eta_model.get_weights()],
            set_weights=eta_model.set_weights,
            get_learning_rate=lambda: float(optimizer.learning_rate),
            set_learning_rate=lambda rate: optimizer.learning_rate.assign(rate),
            epochs=epochs,
            patience=patience,
            lr_patience=lr_patience,
            lr_factor=lr_factor,
            lr_schedule=lr_schedule,
            on_epoch_end=report,
            callbacks=callbacks,
            callback_model=eta_model if callback_model is None else callback_model,
            steps=steps,
            stacklevel=2,
        )
    except BaseException:
        if line is not None:
            line.close()  # the last epoch's line stays; the error says the rest
        raise
    if line is not None:
        line.close(summary_line(title, history, epochs))
    return history


def run_epochs(
    train_epoch: Callable[[int], float],
    validate: Callable[[], float] | None,
    *,
    get_weights: Callable[[], list[np.ndarray]],
    set_weights: Callable[[list[np.ndarray]], None],
    get_learning_rate: Callable[[], float],
    set_learning_rate: Callable[[float], None],
    epochs: int,
    patience: int | None,
    lr_patience: int | None,
    lr_factor: float,
    lr_schedule: str | None,
    on_epoch_end: Callable[[int, History], None] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    callback_model: keras.Model | None = None,
    steps: int = 1,
    stacklevel: int = 1,
) -> History:
    """The loop over the epochs that every actnn trainer runs (in memory and streaming).

    Each epoch: the cosine learning rate (``lr_schedule="cosine"``), ``train_epoch(epoch)`` (the
    mean training loss), ``validate()`` (the loss monitored for early stopping; without it, the
    training loss), the record in :class:`History`, the best weights so far, the learning-rate
    reduction after ``lr_patience`` epochs without a better monitored loss, ``on_epoch_end`` (the
    progress), and early stopping after ``patience`` such epochs (only with ``validate``). At the
    end the weights of the best epoch are restored.

    A NaN or infinite training or validation loss restores the best weights and raises
    :class:`TrainingStopped`. A ``KeyboardInterrupt`` drops the epoch in progress, restores the
    best weights, marks ``History.interrupted`` and warns (``stacklevel`` counted from the
    caller of this function's caller).

    Keras ``callbacks`` get ``callback_model`` (``set_model``; its ``stop_training`` starts
    False) and the params ``epochs``, ``steps`` (optimiser steps per epoch) and ``verbose`` 0.
    Each epoch they see ``on_epoch_begin``, then, as ``keras.Model.fit`` shows an epoch run in
    one execution (``steps_per_execution``), ``on_train_batch_begin(0)`` before it and
    ``on_train_batch_end(steps - 1, {"loss": ...})`` after it, then ``on_epoch_end`` with the
    logs ``loss``, ``val_loss`` (with ``validate``) and ``learning_rate``; ``on_train_begin``
    first and ``on_train_end`` after the best weights are restored (a callback that sets weights
    there, e.g. ``EarlyStopping(restore_best_weights=True)``, has the last word). A callback
    that sets ``stop_training`` ends the training after that epoch (``History.stop_reason``
    names it); one that sets it on a NaN or infinite training loss (``TerminateOnNaN``) ends it
    without :class:`TrainingStopped`, with the best weights.
    """
    history = History()
    initial_lr = get_learning_rate()
    # (monitored loss, weights, epoch): replaced in one assignment, after the epoch is recorded
    best = (math.inf, get_weights(), None)
    waited = finished = 0
    calls = _Callbacks(callbacks, callback_model, epochs=epochs, steps=steps)
    calls("on_train_begin", None)

    def stop(what: str, value: float, epoch: int) -> TrainingStopped:
        set_weights(best[1])
        return TrainingStopped(
            f"the {what} loss became {value} in epoch {epoch + 1}; the weights of epoch "
            f"{best[2] or 0} (the best so far) are restored. Lower the learning rate or check "
            "the inputs for extreme values."
        )

    try:
        for epoch in range(epochs):
            started = time.perf_counter()
            calls("on_epoch_begin", epoch, None)
            if lr_schedule == "cosine":
                set_learning_rate(initial_lr * (1 + math.cos(math.pi * epoch / epochs)) / 2)
            calls("on_train_batch_begin", 0, None)
            loss = train_epoch(epoch)
            calls("on_train_batch_end", steps - 1, {"loss": loss})
            if not math.isfinite(loss):
                if calls.stopped_by is None:
                    raise stop("training", loss, epoch)
                history.stopped_early = True
                history.stop_reason = (
                    f"by {calls.stopped_by}: the training loss became {loss} in epoch {epoch + 1}"
                )
                break
            monitored = loss if validate is None else validate()
            if not math.isfinite(monitored):
                raise stop("validation", monitored, epoch)
            history.loss.append(loss)
            if validate is not None:
                history.val_loss.append(monitored)
            history.seconds.append(time.perf_counter() - started)
            history.learning_rate.append(get_learning_rate())
            finished = epoch + 1
            if monitored < best[0]:
                best = (monitored, get_weights(), epoch + 1)
                waited = 0
            else:
                waited += 1
                if lr_patience is not None and waited % lr_patience == 0:
                    set_learning_rate(get_learning_rate() * lr_factor)
            logs = {"loss": loss, "learning_rate": history.learning_rate[-1]}
            if validate is not None:
                logs["val_loss"] = monitored
            calls("on_epoch_end", epoch, logs)
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if validate is not None and patience is not None and waited >= patience:
                history.stopped_early = True
                history.stop_reason = f"no improvement in {patience} epochs"
                break
            if calls.stopped_by is not None:
                history.stopped_early = True
                history.stop_reason = f"by {calls.stopped_by}"
                break
    except KeyboardInterrupt:
        _record_interrupt(history, finished, epochs, best[2], stacklevel=stacklevel + 1)
    set_weights(best[1])
    history.best_epoch = best[2]
    calls("on_train_end", calls.last_logs)
    return history


class _Callbacks:
    """Keras callbacks called in turn; records the first that set ``model.stop_training``."""

    def __init__(
        self,
        callbacks: Sequence[keras.callbacks.Callback],
        model: keras.Model | None,
        *,
        epochs: int,
        steps: int,
    ):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    f"callbacks must be keras.callbacks.Callback objects, got "
                    f"{type(callback).__name__}"
                )
        if self.callbacks and model is None:
            raise ValueError("Keras callbacks need the model they see: pass callback_model")
        self.model = model
        self.stopped_by: str | None = None
        self.last_logs: dict | None = None
        if model is not None:
            model.stop_training = False
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params({"epochs": epochs, "steps": steps, "verbose": 0})

    def __call__(self, hook: str, *args) -> None:
        if hook == "on_epoch_end":
            self.last_logs = args[-1]
        for callback in self.callbacks:
            getattr(callback, hook)(*args)
            if self.stopped_by is None and self.model.stop_training:
                self.stopped_by = type(callback).__name__


def check_schedules(
    optimizer: keras.optimizers.Optimizer, *, lr_schedule: str | None, lr_patience: int | None
) -> None:
    """Refuse two learning-rate schedules at once: a Keras schedule in the optimizer and actnn's.

    ``lr_schedule="cosine"`` and ``lr_patience`` set the optimizer's learning rate each epoch,
    which a Keras ``LearningRateSchedule`` computes from the step itself.
    """
    if lr_schedule not in (None, "cosine"):
        raise ValueError(f"lr_schedule must be None or 'cosine', got {lr_schedule!r}")
    if hasattr(optimizer.learning_rate, "assign"):  # a variable: a constant rate actnn may set
        return
    for name, value in (("lr_schedule", lr_schedule), ("lr_patience", lr_patience)):
        if value is not None:
            raise ValueError(
                f"the optimizer's learning rate is a Keras schedule, and {name}={value!r} would "
                f"set it too: choose one (use {name}=None with a Keras schedule, or a constant "
                "learning rate with actnn's)"
            )


def make_optimizer(
    optimizer: keras.optimizers.Optimizer | str | None,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
) -> keras.optimizers.Optimizer:
    """A fresh, unbuilt optimizer for one training.

    None: Nadam with ``learning_rate``; a name (``"adam"``): that Keras optimizer with
    ``learning_rate``; an optimizer: a copy made from its config (its own learning rate), so the
    one given is never built and can serve several trainings (e.g. an ensemble's members).
    """
    if optimizer is None:
        return keras.optimizers.Nadam(learning_rate)
    if isinstance(optimizer, str):
        try:
            return keras.optimizers.get(
                {"class_name": optimizer, "config": {"learning_rate": learning_rate}}
            )
        except ValueError:
            raise ValueError(
                f"optimizer {optimizer!r} is not a Keras optimizer name (e.g. 'adam', 'nadam', "
                "'sgd', 'rmsprop')"
            ) from None
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"optimizer must be a keras.optimizers.Optimizer or its name, got "
            f"{type(optimizer).__name__}"
        )
    return type(optimizer).from_config(optimizer.get_config())


def progress_text(title: str, history: History, epochs: int) -> str:
    """The progress line of an epoch: the epoch, a bar, the losses and the best epoch so far."""
    done = history.epochs
    filled = round(20 * done / epochs) if epochs else 20
    bar = "━" * filled + "─" * (20 - filled)
    monitored = history.val_loss or history.loss
    best = int(np.argmin(monitored))
    val = f", val loss {history.val_loss[-1]:.6g}" if history.val_loss else ""
    return (
        f"{title}: epoch {done}/{epochs} {bar} loss {history.loss[-1]:.6g}{val} "
        f"(best {monitored[best]:.6g}, epoch {best + 1}), {_seconds(history.seconds[-1])}/epoch"
    )


def summary_line(title: str, history: History, epochs: int) -> str:
    """The last progress line: epochs run, whether and why training stopped, the epoch kept.

    E.g. ``"CANN: 180/200 epochs, stopped early (no improvement in 20 epochs); kept epoch 160,
    val loss 0.30521; 14 s"``.
    """
    text = f"{title}: {history.epochs}/{epochs} epochs"
    if history.interrupted:
        text += ", interrupted (Ctrl-C)"
    elif history.stopped_early:
        text += f", stopped early ({history.stop_reason})"
    if history.best_epoch is None:
        text += "; kept the initial weights"
    else:
        which = "val loss" if history.val_loss else "loss"
        value = (history.val_loss or history.loss)[history.best_epoch - 1]
        text += f"; kept epoch {history.best_epoch}, {which} {value:.6g}"
    return text + f"; {_seconds(sum(history.seconds))}"


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
