"""Keras in actnn's training loop: callbacks, optimizers, learning-rate schedules, validation_data.

Most tests train the one-weight network of tests/test_training.py, ``eta = b``, by plain
gradient descent on the Poisson deviance of responses all 1, one batch per epoch, whose weights
are known by hand: ``b_k = b_(k-1) - 2 lr_k (exp(b_(k-1)) - 1)``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import bias_model
from sklearn.metrics import mean_poisson_deviance

from actnn.datasets.presets import sw2019_network_inputs
from actnn.datasets.simulate import simulate_mtpl
from actnn.ensemble import Nagging
from actnn.families import Poisson
from actnn.glm import predict_network
from actnn.networks import FNN
from actnn.training import TrainingStopped, make_optimizer, train

N_ROWS = 4
EPOCHS = 6


def _bias(model: keras.Model) -> float:
    return float(model.get_layer("eta").get_weights()[1][0])


def _bias_path(b0: float, rates: list[float]) -> list[float]:
    """``b_0, b_1, ...`` of gradient descent on ``L(b) = 2 (exp(b) - 1 - b)`` with these rates."""
    path = [b0]
    for lr in rates:
        path.append(path[-1] - 2 * lr * (math.exp(path[-1]) - 1))
    return path


def _train_bias(model, optimizer, *, validation=True, **kwargs):
    inputs, y = {"x": np.zeros((N_ROWS, 1))}, np.ones(N_ROWS)
    options = {"epochs": EPOCHS, "patience": None, "verbose": 0, **kwargs}
    return train(model, inputs, y, Poisson(), validation=(inputs, y, None) if validation else None,
                 batch_size=N_ROWS, optimizer=optimizer, jit_compile=False, **options)  # fmt: skip


class _Recorder(keras.callbacks.Callback):
    """Records the hooks of training, with their arguments; stops the training at ``stop_at``."""

    def __init__(self, stop_at: int | None = None):
        super().__init__()
        self.calls: list[tuple] = []
        self.stop_at = stop_at

    def on_train_begin(self, logs=None):
        self.calls.append(("on_train_begin", logs))

    def on_train_end(self, logs=None):
        self.calls.append(("on_train_end", logs))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("on_epoch_begin", epoch, logs))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("on_train_batch_begin", batch, logs))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("on_train_batch_end", batch, logs))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("on_epoch_end", epoch, logs))
        if epoch + 1 == self.stop_at:
            self.model.stop_training = True


@pytest.fixture(scope="module")
def small():
    return simulate_mtpl(1_500, seed=21), simulate_mtpl(500, seed=22)


def _fnn(**kwargs) -> FNN:
    options = {"hidden": (3,), "epochs": 3, "batch_size": 512, "verbose": 0, "jit_compile": False}
    return FNN(sw2019_network_inputs(), **{**options, **kwargs})


# ------------------------------------------------------------------------------------ callbacks
def test_callbacks_see_every_epoch_in_keras_order_with_the_logs():
    recorder, model = _Recorder(), bias_model(1.0)
    history = _train_bias(model, keras.optimizers.SGD(0.125), callbacks=[recorder], epochs=2)
    assert recorder.model is model and recorder.params == {"epochs": 2, "steps": 1, "verbose": 0}
    names = [call[0] for call in recorder.calls]
    epoch = ["on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_epoch_end"]
    assert names == ["on_train_begin", *epoch, *epoch, "on_train_end"]
    ends = [call for call in recorder.calls if call[0] == "on_epoch_end"]
    for k, (_, epoch_index, logs) in enumerate(ends):
        assert epoch_index == k
        assert logs == {
            "loss": history.loss[k],
            "val_loss": history.val_loss[k],
            "learning_rate": history.learning_rate[k],
        }
    batch_ends = [call for call in recorder.calls if call[0] == "on_train_batch_end"]
    assert [logs["loss"] for _, _, logs in batch_ends] == history.loss


def test_a_callback_that_sets_stop_training_ends_it_with_the_best_weights():
    model = bias_model(1.0)
    history = _train_bias(model, keras.optimizers.SGD(0.125), callbacks=[_Recorder(stop_at=3)])
    path = _bias_path(1.0, [0.125] * 3)
    assert history.epochs == 3 and history.best_epoch == 3
    assert history.stopped_early and history.stop_reason == "by _Recorder"
    assert _bias(model) == pytest.approx(path[3], rel=1e-12)


def test_keras_early_stopping_stops_when_keras_says():
    # min_delta 1: after the first epoch no epoch counts as an improvement for Keras
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1.0, patience=2)
    model = bias_model(1.0)
    history = _train_bias(model, keras.optimizers.SGD(0.125), callbacks=[stopper])
    assert stopper.stopped_epoch > 0  # Keras' own record of the epoch it stopped at
    assert history.epochs == stopper.stopped_epoch + 1 < EPOCHS
    assert history.stop_reason == "by EarlyStopping"
    # actnn keeps its best epoch (the val loss still falls: the last one)
    assert _bias(model) == pytest.approx(_bias_path(1.0, [0.125] * history.epochs)[-1])


def test_terminate_on_nan_ends_the_training_without_an_error():
    # lr 600 throws b to 837 in epoch 2: the training loss of epoch 3 is inf (no validation)
    path = _bias_path(0.001, [600.0] * 2)
    model = bias_model(0.001)
    history = _train_bias(
        model, keras.optimizers.SGD(600.0), validation=False,
        callbacks=[keras.callbacks.TerminateOnNaN()],
    )  # fmt: skip
    assert history.epochs == 2 and history.best_epoch == 1 and history.stopped_early
    assert history.stop_reason.startswith("by TerminateOnNaN: the training loss became")
    assert _bias(model) == pytest.approx(path[1], rel=1e-12)
    with pytest.raises(TrainingStopped):  # without the callback: actnn's error, as before
        _train_bias(bias_model(0.001), keras.optimizers.SGD(600.0), validation=False)


def test_model_checkpoint_saves_the_kept_epoch_and_csv_logger_the_history(small, tmp_path):
    data, held_out = small
    path, log = tmp_path / "best.keras", tmp_path / "log.csv"
    callbacks = [
        keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(log),
    ]
    model = _fnn(epochs=4).fit(data, "ClaimNb", exposure="Exposure", callbacks=callbacks,
                               validation_data=held_out)  # fmt: skip
    saved = keras.saving.load_model(path)
    arrays = model.network_inputs(held_out)
    np.testing.assert_array_equal(
        predict_network(saved, arrays), predict_network(model.keras_model_, arrays)
    )
    logged = pd.read_csv(log)
    assert list(logged["epoch"]) == list(range(model.history_.epochs))
    np.testing.assert_allclose(logged["loss"], model.history_.loss, rtol=1e-12)
    np.testing.assert_allclose(logged["val_loss"], model.history_.val_loss, rtol=1e-12)


def test_callbacks_must_be_keras_callbacks(small):
    with pytest.raises(TypeError, match="callbacks must be keras.callbacks.Callback objects, got"):
        _fnn(epochs=1).fit(small[0], "ClaimNb", exposure="Exposure", callbacks=[print])


def test_nagging_gives_each_member_the_callbacks_and_a_copy_of_the_optimizer(small):
    data, held_out = small
    recorder, optimizer = _Recorder(), keras.optimizers.Adam(0.01)
    nagging = Nagging(lambda s: _fnn(seed=s, epochs=2), [1, 2], progress=None)
    nagging.fit(data, "ClaimNb", exposure="Exposure", callbacks=[recorder], optimizer=optimizer,
                validation_data=held_out)  # fmt: skip
    assert [call[0] for call in recorder.calls].count("on_train_begin") == 2
    assert not optimizer.built  # the instance given is never used itself
    for member in nagging.members_:
        assert member.history_.learning_rate == pytest.approx([0.01] * 2)


# ----------------------------------------------------------------------- optimizer, schedules
def test_optimizer_by_name_takes_the_models_learning_rate_and_an_instance_is_copied():
    adam = make_optimizer("adam", 0.003)
    assert isinstance(adam, keras.optimizers.Adam)
    assert float(adam.learning_rate) == pytest.approx(0.003)
    given = keras.optimizers.SGD(0.5, momentum=0.9)
    copied = make_optimizer(given, 0.003)
    assert copied is not given and copied.get_config() == given.get_config()
    with pytest.raises(ValueError, match="'adamm' is not a Keras optimizer name"):
        make_optimizer("adamm", 0.003)
    with pytest.raises(TypeError, match="optimizer must be a keras.optimizers.Optimizer"):
        make_optimizer(0.1, 0.003)


def test_a_keras_schedule_sets_the_learning_rate_of_each_step():
    # one step per epoch: epoch k (from 0) steps with lr 0.25 * 0.5^k
    schedule = keras.optimizers.schedules.ExponentialDecay(0.25, decay_steps=1, decay_rate=0.5)
    rates = [0.25 * 0.5**k for k in range(EPOCHS)]
    model = bias_model(1.0)
    history = _train_bias(model, keras.optimizers.SGD(schedule))
    assert _bias(model) == pytest.approx(_bias_path(1.0, rates)[-1], rel=1e-6)  # float32 rates
    # recorded after each epoch: the rate of the next step
    assert history.learning_rate == pytest.approx(rates[1:] + [rates[-1] / 2])


@pytest.mark.parametrize("actnns", [{"lr_schedule": "cosine"}, {"lr_patience": 2}])
def test_a_keras_schedule_with_actnns_schedule_is_a_clear_error(small, actnns):
    schedule = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=10)
    name = next(iter(actnns))
    message = f"the optimizer's learning rate is a Keras schedule, and {name}="
    with pytest.raises(ValueError, match=message):
        _fnn(learning_rate=schedule, **actnns).fit(small[0], "ClaimNb", exposure="Exposure")
    with pytest.raises(ValueError, match=message):
        _fnn(**actnns).fit(small[0], "ClaimNb", exposure="Exposure",
                           optimizer=keras.optimizers.SGD(schedule))  # fmt: skip


def test_a_network_with_a_schedule_as_learning_rate_trains_saves_and_loads(small, tmp_path):
    from actnn.persistence import load_model

    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.9)
    model = _fnn(learning_rate=schedule).fit(small[0], "ClaimNb", exposure="Exposure")
    steps = math.ceil(len(small[0]) * 0.9 / 512)  # the learning rows' batches in an epoch
    expected = [0.01 * 0.9 ** (steps * (k + 1)) for k in range(3)]
    assert model.history_.learning_rate == pytest.approx(expected, rel=1e-6)
    loaded = load_model(model.save(tmp_path / "fnn"))
    assert loaded.learning_rate.get_config() == schedule.get_config()


# ------------------------------------------------------------------------------ validation_data
def test_validation_data_is_the_monitored_loss_and_all_rows_are_learnt(small):
    data, held_out = small
    model = _fnn().fit(data, "ClaimNb", exposure="Exposure", validation_data=held_out)
    best = model.history_.best_epoch
    mu = model.predict(held_out)
    # the validation loss is the mean Poisson deviance of the held-out rows (scikit-learn's)
    assert model.history_.val_loss[best - 1] == pytest.approx(
        mean_poisson_deviance(held_out["ClaimNb"], mu), rel=1e-9
    )
    # the tuple form with arrays gives the same training
    as_arrays = _fnn().fit(
        data, "ClaimNb", exposure="Exposure",
        validation_data=(held_out, held_out["ClaimNb"].to_numpy(), held_out["Exposure"].to_numpy()),
    )  # fmt: skip
    assert as_arrays.history_.loss == model.history_.loss
    assert as_arrays.history_.val_loss == model.history_.val_loss
    # without validation_data, validation_fraction carves rows: another training
    carved = _fnn().fit(data, "ClaimNb", exposure="Exposure")
    assert carved.history_.loss != model.history_.loss


def test_validation_data_errors_say_what_to_pass(small):
    data, held_out = small
    y = data["ClaimNb"].to_numpy()
    with pytest.raises(TypeError, match="validation_data must be a DataFrame .* got list"):
        _fnn().fit(data, "ClaimNb", exposure="Exposure", validation_data=[held_out])
    with pytest.raises(ValueError, match="fit got the response as an array: give the validation"):
        _fnn().fit(data, y, exposure="Exposure", validation_data=held_out)
    with pytest.raises(ValueError, match="must have an exposure exactly when fit has one"):
        _fnn().fit(data, "ClaimNb", validation_data=(held_out, "ClaimNb", "Exposure"))
    with pytest.raises(ValueError, match="column"):
        _fnn().fit(data, "ClaimNb", exposure="Exposure",
                   validation_data=held_out.drop(columns="ClaimNb"))  # fmt: skip
