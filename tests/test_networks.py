"""Networks and CANNs: start at the GLM, balance correction, determinism, saving, faults."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from actnn import GLM, get_preset
from actnn.glm import predict_network
from actnn.networks import CANN, FNN
from actnn.presets import sw2019_network_inputs
from actnn.training import TrainingStopped

FAST = {"epochs": 3, "batch_size": 4096, "verbose": 0}


@pytest.fixture(scope="module")
def glm(portfolio):
    return GLM(get_preset("sw2019_glm2")).fit(portfolio, "ClaimNb", exposure="Exposure")


@pytest.fixture(scope="module")
def claims(portfolio):
    return portfolio[portfolio["ClaimNb"] > 0].reset_index(drop=True)


@pytest.mark.parametrize("nested", [False, True])
def test_untrained_cann_predicts_exactly_the_glm(portfolio, glm, nested):
    cann = CANN(glm, sw2019_network_inputs(), nested=nested, epochs=0, verbose=0)
    cann.fit(portfolio, "ClaimNb", exposure="Exposure")
    np.testing.assert_allclose(cann.predict(portfolio), glm.predict(portfolio), rtol=1e-12)


def test_trained_cann_moves_away_from_the_glm_and_keeps_it_frozen(portfolio, glm):
    cann = CANN(glm, sw2019_network_inputs(), nested=True, **FAST).fit(
        portfolio, "ClaimNb", exposure="Exposure"
    )
    assert not np.allclose(cann.predict(portfolio), glm.predict(portfolio), rtol=1e-6)
    kernel, bias = cann.keras_model_.get_layer("glm_linear_predictor").get_weights()
    np.testing.assert_array_equal(kernel[:, 0], glm.coef_.iloc[1:])
    np.testing.assert_array_equal(bias, glm.coef_.iloc[:1])


@pytest.mark.parametrize("kind", ["fnn", "cann"])
def test_balance_correction_restores_the_balance_property(portfolio, glm, kind):
    inputs = sw2019_network_inputs()
    model = FNN(inputs, **FAST) if kind == "fnn" else CANN(glm, inputs, **FAST)
    model.fit(portfolio, "ClaimNb", exposure="Exposure")
    observed = portfolio["ClaimNb"].sum()
    before = model.predict(portfolio).sum() / observed - 1
    model.balance_correct(portfolio)
    after = model.predict(portfolio).sum() / observed - 1
    assert abs(before) > 1e-6  # early-stopped networks are not balanced ...
    assert abs(after) < 1e-10  # ... the corrected one is, exactly
    assert model.balance_corrected_


def test_gamma_balance_correction_moves_the_intercept(claims):
    model = FNN(sw2019_network_inputs(), "gamma", **FAST).fit(
        claims, "ClaimAmount", weights="ClaimNb"
    )
    kernel_before = model.keras_model_.get_layer("output").get_weights()[0].copy()
    model.balance_correct(claims)
    w = claims["ClaimNb"].to_numpy()
    total = np.sum(w * model.predict(claims))
    assert total == pytest.approx(np.sum(w * claims["ClaimAmount"]), rel=1e-10)
    np.testing.assert_array_equal(model.keras_model_.get_layer("output").get_weights()[0],
                                  kernel_before)  # fmt: skip


def test_same_seed_same_weights_bit_for_bit(portfolio):
    def weights(seed):
        model = FNN(sw2019_network_inputs(), seed=seed, **FAST)
        return model.fit(portfolio, "ClaimNb", exposure="Exposure").keras_model_.get_weights()

    first, again, other = weights(5), weights(5), weights(6)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("nested", [False, True])
def test_saved_network_predicts_the_same(portfolio, glm, tmp_path, nested):
    model = CANN(glm, sw2019_network_inputs(), nested=nested, **FAST)
    model.fit(portfolio, "ClaimNb", exposure="Exposure")
    model.keras_model_.save(tmp_path / "cann.keras")
    loaded = keras.saving.load_model(tmp_path / "cann.keras")
    inputs = model.network_inputs(portfolio)
    np.testing.assert_array_equal(predict_network(loaded, inputs), model.predict(portfolio))


def test_nan_loss_stops_with_a_clear_error_and_the_best_weights(portfolio):
    model = FNN(sw2019_network_inputs(), learning_rate=1e6, epochs=50, batch_size=512, verbose=0)
    with pytest.raises(TrainingStopped, match=r"training loss became (nan|inf) in epoch \d+"):
        model.fit(portfolio, "ClaimNb", exposure="Exposure")
    assert np.isfinite(model.predict(portfolio)).all()


def test_early_stopping_restores_the_best_validation_epoch(portfolio):
    model = FNN(sw2019_network_inputs(), epochs=60, patience=3, batch_size=2048,
                learning_rate=0.02, verbose=0)  # fmt: skip
    model.fit(portfolio, "ClaimNb", exposure="Exposure")
    history = model.history_
    assert history.stopped_early and history.epochs < 60
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert history.epochs - history.best_epoch == 3
