"""Networks and CANNs: start at the GLM, balance correction, determinism, saving, faults."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from actnn.datasets.presets import sw2019_network_inputs
from actnn.glm import predict_network
from actnn.networks import CANN, FNN
from actnn.training import TrainingStopped

FAST = {"epochs": 3, "batch_size": 4096, "verbose": 0}


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


def test_nagging_averages_members_and_resumes_without_retraining(portfolio, tmp_path, monkeypatch):
    from actnn.ensemble import Nagging
    from actnn.metrics import poisson_deviance

    def make(seed):
        return FNN(sw2019_network_inputs(), seed=seed, **FAST)

    lines: list[str] = []
    ensemble = Nagging(make, [1, 2, 3], checkpoint_dir=tmp_path, progress=lines.append)
    ensemble.fit(portfolio, "ClaimNb", exposure="Exposure")
    members = ensemble.member_predictions(portfolio)
    np.testing.assert_allclose(ensemble.predict(portfolio), members.mean(axis=0), rtol=1e-15)
    # every member is balance-corrected, so the average is balanced too
    assert ensemble.predict(portfolio).sum() == pytest.approx(portfolio["ClaimNb"].sum(), rel=1e-10)
    curve = ensemble.loss_by_size(portfolio, "ClaimNb", poisson_deviance)
    assert curve["members"].tolist() == [1, 2, 3]
    assert curve["loss"].iloc[0] == pytest.approx(
        poisson_deviance(portfolio["ClaimNb"], members[0]), rel=1e-12
    )
    assert len(lines) == 3 and "member 3/3 (seed 3): trained" in lines[-1]

    # an interrupted run: the checkpoint of seed 3 is lost; seeds 1 and 2 must not be retrained
    (tmp_path / "member_seed3.weights.h5").unlink()
    trained: list[int] = []
    original_fit = FNN.fit

    def spy(self, *args, **kwargs):
        if self.epochs > 0:
            trained.append(self.seed)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(FNN, "fit", spy)
    again = Nagging(make, [1, 2, 3], checkpoint_dir=tmp_path, progress=None)
    again.fit(portfolio, "ClaimNb", exposure="Exposure")
    assert trained == [3] and again.resumed_ == [1, 2]
    np.testing.assert_array_equal(again.member_predictions(portfolio), members)
    assert again.summary()["seed"].tolist() == [1, 2, 3]


def test_localglmnet_starts_at_its_glm_and_explains_itself(portfolio, tmp_path):
    from actnn.networks import LocalGLMnet

    untrained = LocalGLMnet(sw2019_network_inputs(), epochs=0, verbose=0)
    untrained.fit(portfolio, "ClaimNb", exposure="Exposure")
    x = untrained.network_inputs(portfolio)["x"]
    coef = untrained.glm_coef_.to_numpy()
    glm_mu = np.exp(coef[0] + x @ coef[1:]) * portfolio["Exposure"].to_numpy()
    np.testing.assert_allclose(untrained.predict(portfolio), glm_mu, rtol=1e-12)
    # beta(x) of the untrained model is the GLM's coefficient vector on every row
    np.testing.assert_allclose(untrained.beta(portfolio.head(5)).to_numpy(),
                               np.tile(coef[1:], (5, 1)), rtol=1e-12)  # fmt: skip

    model = LocalGLMnet(sw2019_network_inputs(), **FAST).fit(
        portfolio, "ClaimNb", exposure="Exposure"
    )
    model.balance_correct(portfolio)
    assert model.predict(portfolio).sum() == pytest.approx(portfolio["ClaimNb"].sum(), rel=1e-10)
    importance = model.variable_importance(portfolio)
    assert list(importance.columns) == ["term", "importance"]
    assert set(importance["term"]) == set(model.terms())
    assert importance["importance"].is_monotonic_decreasing
    model.keras_model_.save(tmp_path / "localglmnet.keras")
    loaded = keras.saving.load_model(tmp_path / "localglmnet.keras")
    np.testing.assert_array_equal(
        predict_network(loaded, model.network_inputs(portfolio)), model.predict(portfolio)
    )


def test_learning_rate_is_reduced_on_plateaus(portfolio):
    model = FNN(sw2019_network_inputs(), epochs=40, patience=12, lr_patience=4,
                learning_rate=0.02, batch_size=2048, verbose=0)  # fmt: skip
    model.fit(portfolio, "ClaimNb", exposure="Exposure")
    rates = model.history_.learning_rate
    assert rates[0] == pytest.approx(0.02)
    assert min(rates) <= 0.01 + 1e-9  # halved at least once ...
    assert all(b <= a for a, b in zip(rates, rates[1:], strict=False))  # ... never raised


def test_cosine_schedule_lowers_the_learning_rate_towards_zero(portfolio):
    model = FNN(sw2019_network_inputs(), epochs=8, learning_rate=0.01, lr_schedule="cosine",
                validation_fraction=0.0, batch_size=4096, verbose=0)  # fmt: skip
    model.fit(portfolio, "ClaimNb", exposure="Exposure")
    expected = [0.01 * (1 + math.cos(math.pi * e / 8)) / 2 for e in range(8)]
    assert model.history_.learning_rate == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="lr_schedule"):
        FNN(sw2019_network_inputs(), lr_schedule="step", epochs=1, verbose=0).fit(
            portfolio, "ClaimNb", exposure="Exposure"
        )


def test_dropout_network_is_deterministic_and_saves(portfolio, tmp_path):
    def fit():
        return FNN(sw2019_network_inputs(), dropout=0.2, seed=3, **FAST).fit(
            portfolio, "ClaimNb", exposure="Exposure"
        )

    first, again = fit(), fit()
    np.testing.assert_array_equal(first.predict(portfolio), again.predict(portfolio))
    first.keras_model_.save(tmp_path / "dropout.keras")
    loaded = keras.saving.load_model(tmp_path / "dropout.keras")
    inputs = first.network_inputs(portfolio)
    np.testing.assert_array_equal(predict_network(loaded, inputs), first.predict(portfolio))
