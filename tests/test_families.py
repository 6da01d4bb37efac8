"""Tests of actnn.families: unit deviances in NumPy and Keras ops, the Keras loss, likelihoods."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import fresh_python
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from actnn.families import DevianceLoss, Family, Gamma, Poisson, Tweedie, get_family

LOG2 = math.log(2.0)


def _variance_power(family: Family) -> float:
    """``p`` of the variance function ``V(mu) = mu^p``, written down independently of the code."""
    return {Poisson: 1.0, Gamma: 2.0}.get(type(family)) or family.power


def _loss_kwargs(family: Family) -> dict:
    """Constructor arguments of the DevianceLoss for ``family``."""
    if isinstance(family, Tweedie):
        return {"family": "tweedie", "power": family.power}
    return {"family": family.name}


FAMILIES = [
    pytest.param(Poisson(), id="poisson"),
    pytest.param(Gamma(), id="gamma"),
    pytest.param(Tweedie(1.5), id="tweedie1.5"),
]


def _tensor(x, dtype="float64"):
    return ops.convert_to_tensor(np.asarray(x, dtype=np.float64), dtype=dtype)


def _np(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Hand-computed values
#
# Poisson   d(y, mu) = 2 [mu - y - y log(mu / y)]
# Gamma     d(y, mu) = 2 [(y - mu) / mu - log(y / mu)]
# Tweedie   p = 1.5: d = 2 [y^0.5 / ((-0.5)(0.5)) - y mu^-0.5 / (-0.5) + mu^0.5 / 0.5]
#                      = 2 [-4 sqrt(y) + 2 y / sqrt(mu) + 2 sqrt(mu)]

HAND_VALUES = [
    # d(2, 1) = 2 (1 - 2 - 2 log(1/2)) = 2 (2 log 2 - 1)
    pytest.param(Poisson(), 2.0, 1.0, 2 * (2 * LOG2 - 1), id="poisson-2-1"),
    # d(1, 4) = 2 (4 - 1 - 1 log 4) = 2 (3 - 2 log 2)
    pytest.param(Poisson(), 1.0, 4.0, 2 * (3 - 2 * LOG2), id="poisson-1-4"),
    # d(0, 3) = 2 (3 - 0 - 0) = 6
    pytest.param(Poisson(), 0.0, 3.0, 6.0, id="poisson-0-3"),
    # d(2, 1) = 2 ((2 - 1) / 1 - log 2) = 2 (1 - log 2)
    pytest.param(Gamma(), 2.0, 1.0, 2 * (1 - LOG2), id="gamma-2-1"),
    # d(1, 2) = 2 ((1 - 2) / 2 - log(1/2)) = 2 (log 2 - 1/2)
    pytest.param(Gamma(), 1.0, 2.0, 2 * (LOG2 - 0.5), id="gamma-1-2"),
    # d(4, 1) = 2 (-4 * 2 + 2 * 4 / 1 + 2 * 1) = 4
    pytest.param(Tweedie(1.5), 4.0, 1.0, 4.0, id="tweedie-4-1"),
    # d(1, 4) = 2 (-4 * 1 + 2 * 1 / 2 + 2 * 2) = 2
    pytest.param(Tweedie(1.5), 1.0, 4.0, 2.0, id="tweedie-1-4"),
    # d(0, 4) = 2 (0 - 0 + 2 * 2) = 8
    pytest.param(Tweedie(1.5), 0.0, 4.0, 8.0, id="tweedie-0-4"),
]


@pytest.mark.parametrize(("family", "y", "mu", "expected"), HAND_VALUES)
def test_unit_deviance_hand_computed(family, y, mu, expected):
    assert family.unit_deviance(np.array([y]), np.array([mu]))[0] == pytest.approx(expected)
    keras_d = family.keras_unit_deviance(_tensor([y]), _tensor([math.log(mu)]))
    assert _np(keras_d)[0] == pytest.approx(expected, rel=1e-12)
    loss = DevianceLoss(**_loss_kwargs(family), from_eta=False, dtype="float64")
    assert float(loss(_tensor([[y]]), _tensor([[mu]]))) == pytest.approx(expected, rel=1e-12)


def test_tweedie_other_power_hand_computed():
    # p = 1.2, y = 1, mu = 1: d = 2 [1/((-0.2)(0.8)) - 1/(-0.2) + 1/0.8] = 2 [-6.25 + 5 + 1.25] = 0
    # y = 0, mu = 1: d = 2 [0 - 0 + 1 / 0.8] = 2.5
    d = Tweedie(1.2).unit_deviance(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(d, [0.0, 2.5], atol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_unit_variance_is_power_of_mu(family):
    mu = np.array([1e-3, 0.5, 2.0, 40.0])
    np.testing.assert_allclose(family.unit_variance(mu), mu ** _variance_power(family))


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5, 3.0])
def test_tweedie_power_outside_open_interval(power):
    with pytest.raises(ValueError, match=r"Tweedie power must be in \(1, 2\)"):
        Tweedie(power)


# ---------------------------------------------------------------------------------------------
# Properties: d >= 0, d = 0 exactly at y = mu


def _rounding_tol(y: float, mu: float) -> float:
    # the deviances add terms of size up to (y + mu)(1 + |log y| + |log mu|); allow their rounding
    logs = abs(math.log(y)) if y > 0 else 0.0
    return 1e-12 * (1.0 + y + mu) * (1.0 + logs + abs(math.log(mu)))


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=200, deadline=None)
@given(y=st.floats(1e-6, 1e6), log_ratio=st.floats(-10.0, 10.0))
def test_unit_deviance_nonnegative_and_positive_away_from_mean(family, y, log_ratio):
    mu = y * math.exp(log_ratio)
    d = family.unit_deviance(np.array([y]), np.array([mu]))[0]
    if abs(log_ratio) >= 1e-3:
        assert d > 0
    else:
        assert d >= -_rounding_tol(y, mu)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.id != "gamma"])
@settings(max_examples=50, deadline=None)
@given(mu=st.floats(1e-6, 1e6))
def test_unit_deviance_at_zero_response_is_positive(family, mu):
    # y = 0: Poisson d = 2 mu; Tweedie d = 2 mu^(2-p) / (2-p)
    p = _variance_power(family)
    expected = 2 * mu if p == 1.0 else 2 * mu ** (2 - p) / (2 - p)
    d = family.unit_deviance(np.array([0.0]), np.array([mu]))[0]
    assert d == pytest.approx(expected, rel=1e-12)
    assert d > 0


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=50, deadline=None)
@given(y=st.floats(1e-6, 1e6))
def test_unit_deviance_zero_at_mean(family, y):
    assert abs(family.unit_deviance(np.array([y]), np.array([y]))[0]) <= _rounding_tol(y, y)
    keras_d = _np(family.keras_unit_deviance(_tensor([y]), _tensor([math.log(y)])))[0]
    assert abs(keras_d) <= _rounding_tol(y, y)


# ---------------------------------------------------------------------------------------------
# NumPy and Keras agree


def _grid(family: Family) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of y (with 0 unless Gamma) and mu from 1e-30 to 1e30, flattened."""
    ys = [0.5, 3.0, 17.0] if isinstance(family, Gamma) else [0.0, 0.5, 3.0, 17.0]
    mus = [1e-30, 1e-3, 0.7, 2.0, 1e3, 1e30]
    y, mu = np.meshgrid(ys, mus)
    return y.ravel(), mu.ravel()


def _keras_deviances(family: Family, y: np.ndarray, mu: np.ndarray, dtype: str) -> dict:
    """The unit deviances by each Keras route, as float64 arrays."""
    kwargs = _loss_kwargs(family)
    eta = np.log(mu)
    return {
        "keras_unit_deviance": _np(
            family.keras_unit_deviance(_tensor(y, dtype), _tensor(eta, dtype))
        ),
        "loss_from_eta": _np(
            DevianceLoss(**kwargs, from_eta=True, reduction="none", dtype=dtype)(
                _tensor(y[:, None], dtype), _tensor(eta[:, None], dtype)
            )
        ),
        "loss_from_mu": _np(
            DevianceLoss(**kwargs, from_eta=False, reduction="none", dtype=dtype)(
                _tensor(y[:, None], dtype), _tensor(mu[:, None], dtype)
            )
        ),
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_numpy_and_keras_agree_float64(family):
    y, mu = _grid(family)
    expected = family.unit_deviance(y, mu)
    assert np.all(np.isfinite(expected))
    for route, got in _keras_deviances(family, y, mu, "float64").items():
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0, err_msg=route)


@pytest.mark.parametrize("family", FAMILIES)
def test_numpy_and_keras_agree_float32(family):
    # Compared with the float64 deviance of the float32-rounded inputs, so that only float32
    # arithmetic is measured. The deviance cancels terms larger than itself (Tweedie d(3, 2) =
    # 0.29 from terms near 7), which costs up to 8e-7 relative here: 7 float32 epsilons. 2e-6
    # leaves room for another CPU's float32 exp and still catches any wrong term.
    y, mu = _grid(family)
    y32, mu32 = y.astype(np.float32).astype(np.float64), mu.astype(np.float32).astype(np.float64)
    expected = family.unit_deviance(y32, mu32)
    for route, got in _keras_deviances(family, y32, mu32, "float32").items():
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=0, err_msg=route)


# ---------------------------------------------------------------------------------------------
# Gradients: finite at extremes, equal to the analytic and to the numerical derivative


def _eta_gradient(family: Family, y, eta, dtype="float64"):
    """Value and d/d eta of the per-row loss from eta (DevianceLoss(from_eta=True))."""
    loss = DevianceLoss(**_loss_kwargs(family), from_eta=True, reduction="sum", dtype=dtype)
    eta_t = tf.Variable(np.asarray(eta, dtype=np.float64)[:, None], dtype=dtype)
    with tf.GradientTape() as tape:
        value = loss(_tensor(np.asarray(y)[:, None], dtype), eta_t)
    return _np(value), _np(tape.gradient(value, eta_t))[:, 0]


def _mu_gradient(family: Family, y, mu, dtype="float64"):
    """Value and d/d mu of the per-row loss from mu (DevianceLoss(from_eta=False))."""
    loss = DevianceLoss(**_loss_kwargs(family), from_eta=False, reduction="sum", dtype=dtype)
    mu_t = tf.Variable(np.asarray(mu, dtype=np.float64)[:, None], dtype=dtype)
    with tf.GradientTape() as tape:
        value = loss(_tensor(np.asarray(y)[:, None], dtype), mu_t)
    return _np(value), _np(tape.gradient(value, mu_t))[:, 0]


def _keras_unit_gradient(family: Family, y, eta):
    """d/d eta of ``family.keras_unit_deviance`` (float64)."""
    eta_t = tf.Variable(np.asarray(eta, dtype=np.float64))
    with tf.GradientTape() as tape:
        value = ops.sum(family.keras_unit_deviance(_tensor(y), eta_t))
    return _np(tape.gradient(value, eta_t))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("dtype", "eta_max"), [("float64", 80.0), ("float32", 30.0)])
def test_values_and_gradients_finite_at_extremes(family, dtype, eta_max):
    # float32 overflows beyond |eta| ~ 40 for the Gamma gradient in mu (y / mu^2), so its
    # extremes are mu = exp(+-30), 1e-13 to 1e13: far beyond any frequency or severity.
    ys = [1e-3, 3.0] if isinstance(family, Gamma) else [0.0, 3.0]
    y, eta = (a.ravel() for a in np.meshgrid(ys, [-eta_max, 0.0, eta_max]))
    for value, grad in (
        _eta_gradient(family, y, eta, dtype),
        _mu_gradient(family, y, np.exp(eta), dtype),
    ):
        assert np.isfinite(value)
        assert np.all(np.isfinite(grad)), grad


@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_in_eta_is_analytic(family):
    # Log link: d d / d eta = (d d / d mu) (d mu / d eta) = -2 (y - mu) / V(mu) * mu.
    p = _variance_power(family)
    ys = [0.5, 3.0] if isinstance(family, Gamma) else [0.0, 0.5, 3.0]
    y, eta = (a.ravel() for a in np.meshgrid(ys, [-80.0, -3.0, 0.0, 1.5, 80.0]))
    mu = np.exp(eta)
    expected = -2.0 * (y - mu) / mu**p * mu
    np.testing.assert_allclose(_keras_unit_gradient(family, y, eta), expected, rtol=1e-10)
    np.testing.assert_allclose(_eta_gradient(family, y, eta)[1], expected, rtol=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_in_mu_is_analytic(family):
    # d d / d mu = -2 (y - mu) / V(mu)
    p = _variance_power(family)
    y = np.array([0.5, 3.0, 3.0, 0.5])
    mu = np.array([1e-20, 0.7, 4.0, 1e20])
    expected = -2.0 * (y - mu) / mu**p
    np.testing.assert_allclose(_mu_gradient(family, y, mu)[1], expected, rtol=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_in_eta_equals_numerical_derivative_of_numpy_deviance(family):
    ys = [0.5, 3.0] if isinstance(family, Gamma) else [0.0, 0.5, 3.0]
    y, eta = (a.ravel() for a in np.meshgrid(ys, [-3.0, -0.2, 0.0, 1.1, 4.0]))
    h = 1e-5
    numerical = (
        family.unit_deviance(y, np.exp(eta + h)) - family.unit_deviance(y, np.exp(eta - h))
    ) / (2 * h)
    np.testing.assert_allclose(_keras_unit_gradient(family, y, eta), numerical, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# DevianceLoss: weights, shapes, configuration


@pytest.mark.parametrize("family", FAMILIES)
def test_deviance_loss_sample_weight(family):
    y = np.array([0.5, 2.0, 3.0, 1.0])
    mu = np.array([1.0, 1.5, 2.5, 4.0])
    w = np.array([1.0, 0.0, 2.5, 0.5])
    d = family.unit_deviance(y, mu)
    kwargs = {**_loss_kwargs(family), "from_eta": True, "dtype": "float64"}
    y_t, eta_t, w_t = _tensor(y[:, None]), _tensor(np.log(mu)[:, None]), _tensor(w)
    mean_loss = DevianceLoss(**kwargs)  # sum_over_batch_size: sum_i w_i d_i / n
    assert float(mean_loss(y_t, eta_t, sample_weight=w_t)) == pytest.approx(np.sum(w * d) / 4)
    assert float(mean_loss(y_t, eta_t)) == pytest.approx(np.mean(d))
    sum_loss = DevianceLoss(**kwargs, reduction="sum")
    assert float(sum_loss(y_t, eta_t, sample_weight=w_t)) == pytest.approx(np.sum(w * d))
    # a weight of 2 counts a row twice
    twice = sum_loss(_tensor(y[[0, 0, 1]][:, None]), _tensor(np.log(mu[[0, 0, 1]])[:, None]))
    weighted = sum_loss(
        _tensor(y[[0, 1]][:, None]), _tensor(np.log(mu[[0, 1]])[:, None]), _tensor([2.0, 1.0])
    )
    assert float(weighted) == pytest.approx(float(twice))


@pytest.mark.parametrize("family", FAMILIES)
def test_deviance_loss_accepts_one_dimensional_y_true(family):
    # model.fit(x, y) passes y of shape (n,) against predictions of shape (n, 1).
    y = np.array([0.5, 2.0, 3.0])
    eta = np.log(np.array([1.0, 1.5, 2.5]))
    loss = DevianceLoss(**_loss_kwargs(family), from_eta=True, reduction="none", dtype="float64")
    got = _np(loss(_tensor(y), _tensor(eta[:, None])))
    assert got.shape == (3,)
    np.testing.assert_allclose(got, family.unit_deviance(y, np.exp(eta)), rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("from_eta", [True, False])
def test_deviance_loss_serialization_round_trip(family, from_eta):
    loss = DevianceLoss(
        **_loss_kwargs(family), from_eta=from_eta, name="dev", reduction="sum", dtype="float64"
    )
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is DevianceLoss
    assert restored.get_config() == loss.get_config()
    assert restored.dtype == "float64"
    assert (restored.from_eta, restored.name, restored.reduction) == (from_eta, "dev", "sum")
    y, mu = np.array([[0.5], [2.0]]), np.array([[1.0], [1.5]])
    pred = np.log(mu) if from_eta else mu
    assert float(restored(_tensor(y), _tensor(pred))) == float(loss(_tensor(y), _tensor(pred)))
    assert DevianceLoss.from_config(loss.get_config()).get_config() == loss.get_config()


#: DevianceLoss as a saved Keras model of actnn 8e9764a records it (when it was in families.py).
_SAVED_LOSS = {
    "module": "actnn.families",
    "class_name": "DevianceLoss",
    "config": {"family": "gamma", "power": None, "from_eta": True, "name": "gamma_deviance",
               "reduction": "sum_over_batch_size", "dtype": "float64"},
    "registered_name": "actnn>DevianceLoss",
}  # fmt: skip


@pytest.mark.parametrize(
    "uses_keras",
    ["import actnn.networks", "glm = actnn.GLM(actnn.get_preset('homogeneous'))\n"
     "glm.fit(actnn.simulate_mtpl(500, seed=1), 'ClaimNb').keras_model_"],
    ids=["network", "glm_network"],
)  # fmt: skip
def test_saved_deviance_loss_loads_once_actnn_uses_keras(uses_keras):
    """DevianceLoss is registered with Keras by whatever in actnn imports Keras (a network, a
    GLM's network), as importing actnn.families did before it moved to actnn.losses."""
    script = f"""
import keras
import actnn
{uses_keras}
loss = keras.saving.deserialize_keras_object({_SAVED_LOSS!r})
print(type(loss).__module__, type(loss).__name__, loss.family, loss.from_eta)
"""
    _, printed = fresh_python(script)
    assert printed.splitlines()[-1] == "actnn.losses DevianceLoss gamma True"


@pytest.mark.parametrize("family_name", ["tweedie", "Tweedie", "TWEEDIE"])
def test_deviance_loss_uses_the_tweedie_power(family_name):
    loss = DevianceLoss(family_name, power=1.2, from_eta=False, reduction="none", dtype="float64")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    y, mu = np.array([0.0, 2.0, 5.0]), np.array([1.0, 1.5, 3.0])
    expected = Tweedie(1.2).unit_deviance(y, mu)
    assert not np.allclose(expected, Tweedie(1.5).unit_deviance(y, mu))
    for candidate in (loss, restored):
        got = _np(candidate(_tensor(y[:, None]), _tensor(mu[:, None])))
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_keras_builtin_poisson_loss_is_not_the_deviance():
    # Keras' "poisson" is mean(mu - y log(mu + 1e-7)): the deviance's minimiser, but neither its
    # factor 2 nor its y log y - y term. Hence actnn's own DevianceLoss.
    y, mu = np.array([[2.0], [0.0], [5.0]]), np.array([[1.0], [0.5], [4.0]])
    keras_poisson = _np(keras.losses.poisson(_tensor(y), _tensor(mu)))
    deviance = Poisson().unit_deviance(y[:, 0], mu[:, 0])
    assert not np.allclose(keras_poisson, deviance, rtol=0.1)
    yy = y[:, 0]
    y_log_y = np.where(yy > 0, yy * np.log(np.where(yy > 0, yy, 1.0)), 0.0)
    np.testing.assert_allclose(2 * (keras_poisson - yy + y_log_y), deviance, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# get_family, check_response


def test_get_family_names_and_objects():
    assert isinstance(get_family("poisson"), Poisson)
    assert isinstance(get_family("Gamma"), Gamma)
    assert get_family("tweedie").power == 1.5
    family = Tweedie(1.3)
    assert get_family(family) is family


def test_get_family_unknown_name_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"unknown family 'normal'; valid: gamma, poisson, tweedie"
    ):
        get_family("normal")


def test_get_family_type_error():
    with pytest.raises(TypeError, match="family must be a str or Family, got int"):
        get_family(3)


CHECK_RESPONSE = [
    # family, valid values, invalid values
    pytest.param(Poisson(), [0.0, 1.0, 2.5], [-1.0, np.nan, np.inf], id="poisson"),
    pytest.param(Gamma(), [1e-9, 3.0], [0.0, -1.0, np.nan], id="gamma"),
    pytest.param(Tweedie(1.5), [0.0, 4.2], [-0.5, -np.inf, np.nan], id="tweedie1.5"),
]


@pytest.mark.parametrize(("family", "good", "bad"), CHECK_RESPONSE)
def test_check_response_accepts_support(family, good, bad):
    y = family.check_response(good)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    np.testing.assert_array_equal(y, good)


@pytest.mark.parametrize(("family", "good", "bad"), CHECK_RESPONSE)
def test_check_response_names_count_and_first_rows(family, good, bad):
    # rows 1, 3, 4, 5, 6, 7 are bad; only the first five are listed
    y = [good[-1], bad[0], good[-1], bad[1], bad[2], bad[0], bad[0], bad[0]]
    with pytest.raises(ValueError) as info:
        family.check_response(y, name="ClaimNb")
    msg = str(info.value)
    assert msg.startswith(
        f"ClaimNb: 6 rows have a value outside the support of the {family.name} family"
    )
    assert msg.endswith(", ...)")
    assert f"(first: row 1 = {bad[0]!r}, row 3 = " in msg
    for row in (1, 3, 4, 5, 6):
        assert f"row {row} = " in msg
    assert "row 7 = " not in msg
    assert "row 0 = " not in msg and "row 2 = " not in msg


# ---------------------------------------------------------------------------------------------
# Total and mean deviance, log-likelihood


@pytest.mark.parametrize("family", FAMILIES)
def test_deviance_and_mean_deviance_with_weights(family):
    y = np.array([0.5, 2.0, 3.0, 1.0])
    mu = np.array([1.0, 1.5, 2.5, 4.0])
    w = np.array([1.0, 0.0, 2.5, 0.5])
    d = [
        float(family.unit_deviance(np.array([a]), np.array([b]))[0])
        for a, b in zip(y, mu, strict=True)
    ]
    weighted_sum = sum(wi * di for wi, di in zip(w, d, strict=True))
    assert family.mean_deviance(y, mu, w) == pytest.approx(weighted_sum / sum(w))
    assert family.mean_deviance(y, mu) == pytest.approx(sum(d) / 4)
    assert family.deviance(y, mu, w) == pytest.approx(weighted_sum)
    assert family.deviance(y, mu) == pytest.approx(sum(d))


def test_poisson_loglik_is_sum_of_log_pmf():
    y = [0.0, 1.0, 2.0, 5.0]
    mu = [0.5, 1.2, 2.0, 3.3]
    w = [1.0, 2.0, 0.5, 1.0]
    # log P(Y = y) = y log mu - mu - log(y!)
    log_pmf = [yi * math.log(mi) - mi - math.lgamma(yi + 1) for yi, mi in zip(y, mu, strict=True)]
    fam = Poisson()
    assert fam.loglik(np.array(y), np.array(mu)) == pytest.approx(sum(log_pmf), rel=1e-12)
    weighted = sum(wi * li for wi, li in zip(w, log_pmf, strict=True))
    assert fam.loglik(np.array(y), np.array(mu), np.array(w)) == pytest.approx(weighted, rel=1e-12)
    # P(Y = 2 | mu = 1) = e^-1 / 2
    assert fam.loglik(np.array([2.0]), np.array([1.0])) == pytest.approx(-1 - LOG2, rel=1e-12)


@pytest.mark.parametrize("dispersion", [1.0, 0.7, 2.5])
def test_gamma_loglik_is_sum_of_log_density(dispersion):
    # Gamma with shape k = 1/phi and scale theta = mu phi (mean mu, variance phi mu^2):
    # f(y) = y^(k-1) exp(-y / theta) / (Gamma(k) theta^k)
    y = [0.5, 1.2, 3.0]
    mu = [1.0, 1.0, 2.5]
    w = [2.0, 1.0, 0.5]
    k = 1.0 / dispersion
    log_f = [
        math.log(yi ** (k - 1) * math.exp(-yi / (mi * dispersion)))
        - math.log(math.gamma(k) * (mi * dispersion) ** k)
        for yi, mi in zip(y, mu, strict=True)
    ]
    fam = Gamma()
    got = fam.loglik(np.array(y), np.array(mu), dispersion=dispersion)
    assert got == pytest.approx(sum(log_f), rel=1e-12)
    got_w = fam.loglik(np.array(y), np.array(mu), np.array(w), dispersion=dispersion)
    assert got_w == pytest.approx(sum(wi * li for wi, li in zip(w, log_f, strict=True)), rel=1e-12)


def test_gamma_loglik_with_unit_dispersion_is_exponential():
    # phi = 1: exponential with mean mu, log f = -log mu - y / mu
    assert Gamma().loglik(np.array([2.0]), np.array([4.0])) == pytest.approx(-math.log(4) - 0.5)


def test_tweedie_loglik_not_implemented():
    with pytest.raises(NotImplementedError, match="compare Tweedie models by deviance"):
        Tweedie(1.5).loglik(np.array([1.0]), np.array([1.0]))
