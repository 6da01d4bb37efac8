"""actnn.training.train under faults: a NaN loss, a KeyboardInterrupt (Ctrl-C), in a network and
in a nagging ensemble.

Most tests train a one-weight network, ``eta = b`` (a float64 bias on an input of zeros), by plain
gradient descent on the Poisson deviance of responses all 1, one batch per epoch: the mean
deviance is ``L(b) = 2 (exp(b) - 1 - b)``, so every epoch's weight is known by hand,
``b_k = b_(k-1) - 2 lr (exp(b_(k-1)) - 1)``.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import pytest
from conftest import bias_model

from actnn import training
from actnn.datasets.presets import sw2019_network_inputs
from actnn.datasets.simulate import simulate_mtpl
from actnn.ensemble import Nagging
from actnn.families import Poisson
from actnn.networks import FNN
from actnn.persistence import load_model
from actnn.training import History, TrainingStopped, train

N_ROWS = 4
EPOCHS = 10


def _bias_path(b0: float, lr: float, epochs: int) -> list[float]:
    """``b_0, b_1, ..., b_epochs`` of gradient descent on ``L(b) = 2 (exp(b) - 1 - b)``."""
    path = [b0]
    for _ in range(epochs):
        path.append(path[-1] - 2 * lr * (math.exp(path[-1]) - 1))
    return path


def _train_bias(model: keras.Model, lr: float, **kwargs) -> History:
    inputs, y = {"x": np.zeros((N_ROWS, 1))}, np.ones(N_ROWS)
    return train(model, inputs, y, Poisson(), validation=(inputs, y, None), epochs=EPOCHS,
                 batch_size=N_ROWS, optimizer=keras.optimizers.SGD(lr), patience=None,
                 verbose=0, jit_compile=False, **kwargs)  # fmt: skip


def _bias(model: keras.Model) -> float:
    kernel, bias = model.get_layer("eta").get_weights()
    assert kernel[0, 0] == 0.0  # the input is all zeros: the kernel never moves
    return float(bias[0])


class _InterruptingClock:
    """Stands in for the ``time`` module of actnn.training: ``perf_counter`` raises
    ``KeyboardInterrupt`` at its ``at``-th call (``train`` reads it when an epoch starts and
    when it ends), as a Ctrl-C would at that point."""

    def __init__(self, at: int | None = None):
        self.at, self.calls = at, 0

    def arm(self, at: int) -> None:
        self.at, self.calls = at, 0

    def perf_counter(self) -> float:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return time.perf_counter()


# ---------------------------------------------------------------------------------- NaN loss
def test_the_one_weight_network_follows_the_hand_computed_path():
    # the premise of the tests below: train() takes exactly the steps of _bias_path
    lr = 0.125
    model = bias_model(1.0)
    history = _train_bias(model, lr)
    path = _bias_path(1.0, lr, EPOCHS)
    assert history.best_epoch == EPOCHS  # L falls all the way: the last epoch is the best
    assert _bias(model) == pytest.approx(path[EPOCHS], rel=1e-12)
    val_loss = [2 * (math.exp(b) - 1 - b) for b in path[1:]]
    np.testing.assert_allclose(history.val_loss, val_loss, rtol=1e-12)
    assert not history.interrupted and not history.stopped_early


def test_infinite_validation_loss_stops_with_a_clear_error_and_the_best_epochs_weights():
    # A learning rate of 600 throws b from b_1 = -1.2 to b_2 = 837, beyond log(max float64): the
    # validation loss of epoch 2 is inf, which stops the training with the weights of epoch 1.
    b0, lr = 0.001, 600.0
    path = _bias_path(b0, lr, 2)
    assert path[2] > math.log(np.finfo(np.float64).max)
    model = bias_model(b0)
    with pytest.raises(
        TrainingStopped,
        match=r"the validation loss became (inf|nan) in epoch 2; the weights of epoch 1 \(the "
        r"best so far\) are restored\. Lower the learning rate",
    ):
        _train_bias(model, lr)
    assert _bias(model) == pytest.approx(path[1], rel=1e-12)


def test_infinite_training_loss_stops_with_a_clear_error_and_the_best_epochs_weights():
    # Without validation data the training loss is monitored: epoch 3 starts at b_2 = 837, its
    # loss is inf; the best epoch is 1 (L(b_0) < L(b_1)), whose weights are b_1.
    b0, lr = 0.001, 600.0
    path = _bias_path(b0, lr, 2)
    model = bias_model(b0)
    inputs, y = {"x": np.zeros((N_ROWS, 1))}, np.ones(N_ROWS)
    with pytest.raises(
        TrainingStopped,
        match=r"the training loss became (inf|nan) in epoch 3; the weights of "
        r"epoch 1 \(the best so far\) are restored",
    ):
        train(model, inputs, y, Poisson(), epochs=EPOCHS, batch_size=N_ROWS,
              optimizer=keras.optimizers.SGD(lr), verbose=0, jit_compile=False)  # fmt: skip
    assert _bias(model) == pytest.approx(path[1], rel=1e-12)


def test_nan_validation_loss_stops_instead_of_restoring_the_initial_weights_silently():
    # A validation row whose input is NaN makes the validation loss NaN from epoch 1 on; before,
    # no epoch was "better" than NaN and training ended with the initial weights, unannounced.
    model = bias_model(1.0)
    inputs, y = {"x": np.zeros((N_ROWS, 1))}, np.ones(N_ROWS)
    bad = {"x": np.array([[np.nan], [0.0]])}
    with pytest.raises(
        TrainingStopped,
        match=r"the validation loss became nan in epoch 1; the weights of "
        r"epoch 0 \(the best so far\) are restored",
    ):
        train(model, inputs, y, Poisson(), validation=(bad, np.ones(2), None), epochs=EPOCHS,
              batch_size=N_ROWS, optimizer=keras.optimizers.SGD(0.125), verbose=0,
              jit_compile=False)  # fmt: skip
    assert _bias(model) == 1.0


# ---------------------------------------------------------------------------------- Ctrl-C
@pytest.mark.parametrize(
    ("at", "reached", "finished"),
    [
        pytest.param(2, 1, 0, id="end-of-epoch-1"),
        pytest.param(5, 3, 2, id="start-of-epoch-3"),
        # epoch 3 has taken its step and recorded its losses, not yet its time: it is dropped
        pytest.param(6, 3, 2, id="end-of-epoch-3"),
    ],
)
def test_keyboard_interrupt_returns_the_best_finished_epoch(monkeypatch, at, reached, finished):
    lr = 0.125
    path = _bias_path(1.0, lr, EPOCHS)
    monkeypatch.setattr(training, "time", _InterruptingClock(at))
    model = bias_model(1.0)
    with pytest.warns(
        UserWarning,
        match=rf"training interrupted in epoch {reached} of {EPOCHS}: the weights of epoch "
        rf"{finished} \(the best of the {finished} finished\) are restored",
    ):
        history = _train_bias(model, lr)
    assert history.interrupted and not history.stopped_early
    assert history.epochs == finished
    assert [len(history.val_loss), len(history.seconds), len(history.learning_rate)] == [
        finished
    ] * 3
    assert history.best_epoch == (finished or None)
    # the validation loss falls every epoch, so the best finished epoch is the last one
    assert _bias(model) == pytest.approx(path[finished], rel=1e-12)
    assert History(**history.to_dict()) == history
    assert history.to_dict()["interrupted"] is True


@pytest.fixture(scope="module")
def small_portfolio():
    return simulate_mtpl(2_000, seed=11)


def _small_fnn(seed: int) -> FNN:
    return FNN(sw2019_network_inputs(), seed=seed, hidden=(4,), epochs=3, batch_size=1024,
               verbose=0, jit_compile=False)  # fmt: skip


def test_interrupted_network_fit_returns_a_usable_model(small_portfolio, monkeypatch, tmp_path):
    monkeypatch.setattr(training, "time", _InterruptingClock(at=3))  # at the start of epoch 2
    model = _small_fnn(1)
    with pytest.warns(UserWarning, match="training interrupted in epoch 2 of 3"):
        model.fit(small_portfolio, "ClaimNb", exposure="Exposure")
    assert model.history_.interrupted and model.history_.epochs == 1
    assert np.all(np.isfinite(model.predict(small_portfolio)))
    loaded = load_model(model.save(tmp_path / "fnn"))
    assert loaded.history_ == model.history_


# ---------------------------------------------------------------------------------- nagging
def _interrupt_in_training(monkeypatch):
    """make_member arms a Ctrl-C at the start of the second epoch of seed 2's training."""
    clock = _InterruptingClock()
    monkeypatch.setattr(training, "time", clock)

    def make(seed):
        if seed == 2:
            clock.arm(3)
        return _small_fnn(seed)

    return make


def _interrupt_in_balance_correction(monkeypatch):
    """Seed 2 trains in full and is interrupted in its balance correction."""
    correct = FNN.balance_correct

    def interrupted(self, *args, **kwargs):
        if self.seed == 2:
            raise KeyboardInterrupt
        return correct(self, *args, **kwargs)

    monkeypatch.setattr(FNN, "balance_correct", interrupted)
    return _small_fnn


@pytest.mark.filterwarnings("ignore:training interrupted:UserWarning")  # tested above
@pytest.mark.parametrize("where", [_interrupt_in_training, _interrupt_in_balance_correction])
def test_interrupted_nagging_keeps_finished_members_and_resumes(
    small_portfolio, monkeypatch, tmp_path, where
):
    ensemble = Nagging(where(monkeypatch), [1, 2, 3], checkpoint_dir=tmp_path, progress=None)
    with pytest.raises(
        KeyboardInterrupt,
        match=r"interrupted in member 2/3 \(seed 2, dropped\); members checkpointed in .*: seeds "
        r"\[1\]\. Call fit again with the same checkpoint_dir to resume",
    ):
        ensemble.fit(small_portfolio, "ClaimNb", exposure="Exposure")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "member_seed1.json",
        "member_seed1.weights.h5",
    ]
    assert not hasattr(ensemble, "members_")  # no half ensemble to predict with
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ensemble.predict(small_portfolio)

    monkeypatch.undo()
    again = Nagging(_small_fnn, [1, 2, 3], checkpoint_dir=tmp_path, progress=None)
    again.fit(small_portfolio, "ClaimNb", exposure="Exposure")
    assert again.resumed_ == [1]
    assert [m.history_.epochs for m in again.members_] == [3, 3, 3]
    assert not any(m.history_.interrupted for m in again.members_)


@pytest.mark.filterwarnings("ignore:training interrupted:UserWarning")
def test_interrupted_nagging_without_checkpoints_says_how_to_keep_members(
    small_portfolio, monkeypatch
):
    ensemble = Nagging(_interrupt_in_training(monkeypatch), [1, 2], progress=None)
    with pytest.raises(
        KeyboardInterrupt,
        match=r"member 2/2 \(seed 2, dropped\); the finished members \(seeds \[1\]\) are not "
        r"kept: pass checkpoint_dir=\.\.\. to be able to resume",
    ):
        ensemble.fit(small_portfolio, "ClaimNb", exposure="Exposure")
    assert not hasattr(ensemble, "members_")
