"""Property-based tests (hypothesis) of the invariants actnn relies on.

Each property and where it is tested (properties already covered elsewhere are not repeated):

- Unit deviances are >= 0, 0 at ``y = mu`` and > 0 away from it (Poisson, Gamma, Tweedie):
  ``tests/test_families.py`` (``test_unit_deviance_nonnegative_and_positive_away_from_mean``,
  ``test_unit_deviance_zero_at_mean``, ``test_unit_deviance_at_zero_response_is_positive``).
- The NumPy deviances (reporting) and the Keras/TensorFlow ones (training) agree to float64
  precision on random inputs, ``y = 0`` included where the family allows it: element by element
  and through ``DevianceLoss`` in :func:`test_numpy_and_keras_unit_deviances_agree`, and the
  weighted mean deviance that :func:`actnn.training.train` minimises in
  :func:`test_training_mean_deviance_agrees_with_numpy`.
- ``r_split`` returns disjoint learn and test rows without duplicates, together all rows, learn of
  size ``round(frac * n)`` (R's rounding): ``tests/test_rsplit.py``
  (``test_r_split_partition_property``, random ``n``, ``frac``, seed and sample kind).
- Preprocessing is invertible where it should be: category level codes and dummy columns decode
  to the original values (:func:`test_categorical_codes_and_dummies_decode_to_the_values`); the
  scaling of the network inputs inverts to the transformed values, and a logged feature back to
  the data (:func:`test_network_input_scaling_inverts_to_the_data`); fitted network inputs read
  back from JSON as the same object with the same arrays
  (:func:`test_fitted_network_inputs_survive_json`).
- Exact GLMs satisfy their score equations ``sum_i w_i (y_i - mu_i) / V(mu_i) mu_i x_ij = 0``
  on the fitting data, computed from the Keras network's predictions: for Poisson with exposure
  (canonical log link) that is the balance property ``sum mu = sum y`` and, per categorical level,
  the same on the level's rows (:func:`test_poisson_glm_balance_and_score_equations`); for Gamma
  and Tweedie with weights (log link not canonical) it is ``sum w (y - mu) mu^(1-p) x_j = 0``, so
  ``sum w (y - mu) / mu = 0`` for Gamma, while ``sum w mu = sum w y`` does not hold in general
  (:func:`test_noncanonical_glm_score_equations_with_weights`, sizes within a factor 4 of each
  other at any scale, not fitted exactly).

Regressions of two failures hypothesis found in ``actnn.glm`` (fixed by Newton steps and a
rounding floor in ``irls``): a Gamma GLM on widely spread sizes did not converge
(:func:`test_gamma_glm_converges_with_widely_spread_sizes`), and data that a log-link GLM
reproduces exactly (deviance 0) made the Gamma and Tweedie fits fail
(:func:`test_glm_fits_data_it_can_reproduce_exactly`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actnn import GLM
from actnn.families import DevianceLoss, Family, Gamma, Poisson, Tweedie
from actnn.features import Categorical, Continuous, FeatureSpec
from actnn.inputs import NUMERIC, NetworkInputs
from actnn.training import _mean_deviance

EPS = np.finfo(np.float64).eps
EPS32 = float(np.finfo(np.float32).eps)
TINY32 = float(np.finfo(np.float32).tiny)
#: Roundings allowed per term of a deviance (a term passes through exp, log, pow, a product and
#: a sum in either implementation): "float64 precision" means within this many epsilons of the
#: sum of the absolute values of the terms.
ROUNDINGS = 8
#: Relative accuracy of an exact GLM's score equations (IRLS converges to 1e-11 and better).
SCORE_RTOL = 1e-8
#: Root mean square of the residuals of log(y) on the design below which data count as fitted
#: (nearly) exactly by a log-link GLM.
NOT_EXACT = 1e-2

FAMILIES = [
    pytest.param(Poisson(), id="poisson"),
    pytest.param(Gamma(), id="gamma"),
    pytest.param(Tweedie(1.5), id="tweedie1.5"),
    pytest.param(Tweedie(1.2), id="tweedie1.2"),
]


def _term_scale(family: Family, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Sum of the absolute values of the terms of ``d(y, mu)`` (formulas in actnn.families).

    A power ``x^a = exp(a log x)`` is computed from ``log x`` or ``eta`` in one implementation and
    from ``x`` in the other: its relative rounding grows with ``|a log x|``, which weights the
    Tweedie terms.
    """
    mu = np.exp(eta)
    if isinstance(family, Poisson):
        y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        return 2 * (mu + y + np.abs(y * eta) + np.abs(y_log_y))
    if isinstance(family, Gamma):
        return 2 * (y / mu + 1 + np.abs(np.log(y)) + np.abs(eta))
    p = family.power
    log_y = np.log(np.where(y > 0, y, 1.0))
    return 2 * (
        y ** (2 - p) * (1 + abs(2 - p) * np.abs(log_y)) / abs((1 - p) * (2 - p))
        + y * mu ** (1 - p) * (1 + abs(1 - p) * np.abs(eta)) / abs(1 - p)
        + mu ** (2 - p) * (1 + abs(2 - p) * np.abs(eta)) / (2 - p)
    )


@st.composite
def _deviance_inputs(draw, family: Family):
    """Responses (with 0 unless Gamma), linear predictors and weights of 1 to 20 rows."""
    n = draw(st.integers(1, 20))
    positive = st.floats(1e-6, 1e6)
    response = positive if isinstance(family, Gamma) else st.one_of(st.just(0.0), positive)
    y = draw(st.lists(response, min_size=n, max_size=n))
    eta = draw(st.lists(st.floats(-30.0, 30.0), min_size=n, max_size=n))
    w = draw(st.lists(st.floats(1e-2, 1e2), min_size=n, max_size=n))
    return np.array(y), np.array(eta), np.array(w)


def _float64(x) -> tf.Tensor:
    return tf.constant(np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_numpy_and_keras_unit_deviances_agree(family, data):
    y, eta, _ = data.draw(_deviance_inputs(family))
    expected = family.unit_deviance(y, np.exp(eta))
    tol = ROUNDINGS * EPS * _term_scale(family, y, eta)
    loss = DevianceLoss(
        family.name,
        power=getattr(family, "power", None),
        from_eta=True,
        reduction="none",
        dtype="float64",
    )
    routes = {
        "keras_unit_deviance": family.keras_unit_deviance(_float64(y), _float64(eta)),
        "DevianceLoss": loss(_float64(y[:, None]), _float64(eta[:, None])),
    }
    for route, got in routes.items():
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == expected.shape, route
        assert np.all(np.abs(got - expected) <= tol), (route, got - expected, tol)


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_training_mean_deviance_agrees_with_numpy(family, data):
    y, eta, w = data.draw(_deviance_inputs(family))
    expected = family.mean_deviance(y, np.exp(eta), weights=w)
    got = float(_mean_deviance(family, _float64(y[:, None]), _float64(eta[:, None]),
                               _float64(w[:, None])))  # fmt: skip
    # each unit deviance within ROUNDINGS epsilons of its terms, plus the rounding of the sums
    scale = np.sum(w * _term_scale(family, y, eta)) / np.sum(w)
    assert abs(got - expected) <= (ROUNDINGS + len(y)) * EPS * scale


# ---------------------------------------------------------------------------------- preprocessing
_LEVELS = st.one_of(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30),
    st.lists(st.integers(-3, 3), min_size=1, max_size=30),
)


@settings(max_examples=60, deadline=None)
@given(values=_LEVELS, as_category=st.booleans(), data=st.data())
def test_categorical_codes_and_dummies_decode_to_the_values(values, as_category, data):
    observed = sorted(set(values))
    column = pd.Series(values, dtype=object)
    if as_category:
        # categories in a drawn order, with an unused one that must not become a level
        order = data.draw(st.permutations(observed))
        unused = "zz" if isinstance(values[0], str) else 99
        column = column.astype(pd.CategoricalDtype([*order, unused]))
    df = pd.DataFrame({"X": column})
    reference = data.draw(st.sampled_from(observed))
    fitted = Categorical("X", reference=reference).fit(df)
    assert sorted(fitted.levels) == observed

    # level codes index the levels
    assert [fitted.levels[code] for code in fitted.codes(df)] == values
    # dummy rows: all zero for the reference level, else a single 1 in the level's term
    dummies = fitted.encode(df)
    level_of_term = {term: level for level, term in fitted.levels_table() if term is not None}
    decoded = [
        reference if not row.any() else level_of_term[fitted.terms[int(np.argmax(row))]]
        for row in dummies
    ]
    assert decoded == values
    assert np.all(dummies.sum(axis=1) <= 1)


@st.composite
def _network_frame(draw) -> pd.DataFrame:
    """Rows with a plain number, a positive number (to be logged) and a category."""
    n = draw(st.integers(2, 30))
    plain = draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))
    positive = draw(st.lists(st.floats(1e-3, 1e6), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from(["u", "v", "w"]), min_size=n, max_size=n))
    # fit rejects a column whose spread is 0 in float64 (a standard deviation can underflow)
    assume(np.std(plain) > 0 and np.std(np.log(positive)) > 0)
    return pd.DataFrame({"plain": plain, "positive": positive, "group": group})


def _inputs(scaling: str) -> NetworkInputs:
    return NetworkInputs(
        (Continuous("plain"), Continuous("positive", log=True)), (Categorical("group"),), scaling
    )


@pytest.mark.parametrize("scaling", ["minmax", "standard"])
@settings(max_examples=40, deadline=None)
@given(df=_network_frame())
def test_network_input_scaling_inverts_to_the_data(scaling, df):
    fitted = _inputs(scaling).fit(df)
    arrays = fitted.transform(df)
    scaled = arrays[NUMERIC].astype(np.float64)
    centers, scales = np.asarray(fitted.centers), np.asarray(fitted.scales)
    unscaled = scaled * scales + centers
    values = np.column_stack([f.values(df) for f in fitted.numeric])
    # the scaled values are float32: half an epsilon of each (or all of a value below float32's
    # normal range), carried back by the scale, plus float64 roundings of the subtraction and
    # the product
    tol = (EPS32 * np.abs(scaled) + TINY32) * scales + 4 * EPS * (np.abs(values) + np.abs(centers))
    assert np.all(np.abs(unscaled - values) <= tol)
    # the logged feature goes back to the data: exp turns the absolute error into a relative one
    log_column = fitted.numeric_names.index("positive")
    relative = np.abs(np.exp(unscaled[:, log_column]) / df["positive"].to_numpy() - 1)
    assert np.all(relative <= np.expm1(tol[:, log_column]) + 4 * EPS)
    levels = fitted.categorical[0].levels
    assert [levels[code] for code in arrays["group"]] == df["group"].tolist()


@settings(max_examples=30, deadline=None)
@given(df=_network_frame(), scaling=st.sampled_from(["minmax", "standard"]))
def test_fitted_network_inputs_survive_json(df, scaling):
    fitted = _inputs(scaling).fit(df)
    again = NetworkInputs.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again == fitted
    for name, array in fitted.transform(df).items():
        np.testing.assert_array_equal(again.transform(df)[name], array)


# ---------------------------------------------------------------------------------- exact GLMs
_SPEC = FeatureSpec([Continuous("x"), Categorical("g")])
_GLM_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def _score_equations(glm: GLM, df: pd.DataFrame, y: np.ndarray, w: np.ndarray):
    """``X' [w (y - mu) mu / V(mu)]`` from the network's ``mu``, and the sums of its magnitudes."""
    mu = glm.predict(df)
    x = glm.features_.design_matrix(df, intercept=True)
    factor = w * mu / glm.family_.unit_variance(mu)
    return x.T @ (factor * (y - mu)), np.abs(x).T @ (factor * (y + mu)), mu


@_GLM_SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.floats(-2.0, 2.0),
            st.floats(0.05, 1.0),
            st.integers(0, 4),
        ),
        min_size=8,
        max_size=60,
    )
)
def test_poisson_glm_balance_and_score_equations(rows):
    df = pd.DataFrame(rows, columns=["g", "x", "exposure", "claims"])
    y = df["claims"].to_numpy(np.float64)
    # the MLE exists (finite) when the rows with claims alone determine the coefficients
    x = _SPEC.fit(df).design_matrix(df, intercept=True)
    assume(np.linalg.matrix_rank(x[y > 0]) == x.shape[1])
    glm = GLM(_SPEC).fit(df, "claims", exposure="exposure")
    score, size, mu = _score_equations(glm, df, y, np.ones(len(y)))
    assert abs(mu.sum() - y.sum()) <= SCORE_RTOL * y.sum()
    assert np.all(np.abs(score) <= SCORE_RTOL * size)
    for level in glm.features_.features[1].levels:
        rows_of_level = (df["g"] == level).to_numpy()
        assert abs(mu[rows_of_level].sum() - y[rows_of_level].sum()) <= SCORE_RTOL * y.sum()


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.id != "poisson"])
@_GLM_SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.floats(-2.0, 2.0),
            st.floats(0.5, 2.0),
            st.floats(0.1, 10.0),
        ),
        min_size=8,
        max_size=60,
    ),
    scale=st.floats(1e-2, 1e4),
)
def test_noncanonical_glm_score_equations_with_weights(family, rows, scale):
    # sizes within a factor 4 of each other, at any scale, and not (nearly) fitted exactly, so
    # that the score equations hold to SCORE_RTOL (spread and exact cases: the tests below)
    df = pd.DataFrame(rows, columns=["g", "x", "size", "count"])
    df["size"] *= scale
    x = _SPEC.fit(df).design_matrix(df, intercept=True)
    assume(np.linalg.matrix_rank(x) == x.shape[1])
    y, w = df["size"].to_numpy(), df["count"].to_numpy()
    log_y = np.log(y)
    residual = log_y - x @ np.linalg.lstsq(x, log_y, rcond=None)[0]
    assume(np.sqrt(np.mean(residual**2)) > NOT_EXACT)
    glm = GLM(_SPEC, family).fit(df, "size", weights="count")
    score, size, mu = _score_equations(glm, df, y, w)
    assert np.all(np.abs(score) <= SCORE_RTOL * size)
    if isinstance(family, Gamma):
        # the intercept's equation: the weighted mean of y / mu is 1
        assert np.sum(w * y / mu) == pytest.approx(np.sum(w), rel=SCORE_RTOL)


# ---------------------------------------------------------------------------------- regressions
# Counterexamples hypothesis found in actnn.glm, which failed before irls took Newton steps and
# treated deviance changes below rounding as no change.


def test_gamma_glm_converges_with_widely_spread_sizes():
    # found when sizes ranged from 0.01 to 10^4: the Gamma MLE exists (the log-likelihood is
    # strictly concave in eta and tends to -inf at both ends), but Fisher scoring moved towards
    # it by a factor close to 1 per iteration and did not converge; actnn.glm.irls now takes
    # Newton steps (the observed information)
    df = pd.DataFrame(
        [("a", 0.0, 1.0, 1.0), ("a", 0.0, 1.0, 1.0), ("a", 2.0, 1.0, 1.0), ("c", 1.0, 652.0, 9.0),
         ("c", 2.0, 11.0, 10.0), ("c", 2.0, 12.0, 9.5), ("c", 2.0, 12.0, 9.0),
         ("c", 2.0, 9.0, 10.0)],
        columns=["g", "x", "size", "count"],
    )  # fmt: skip
    glm = GLM(_SPEC, "gamma").fit(df, "size", weights="count")
    score, size, _ = _score_equations(glm, df, df["size"].to_numpy(), df["count"].to_numpy())
    assert np.all(np.abs(score) <= SCORE_RTOL * size)


@pytest.mark.parametrize("family", [Gamma(), Tweedie(1.5), Tweedie(1.2)], ids=repr)
def test_glm_fits_data_it_can_reproduce_exactly(family):
    # Sizes all equal: the homogeneous model is exact, mu = y and the deviance is 0 up to
    # rounding. At some scales IRLS rejected every step (it accepted one only if the deviance
    # did not grow by more than 1e-10 of itself, and near 0 the deviance's rounding noise does:
    # FloatingPointError), at others the dispersion came out 0 and the Gamma AIC divided by it
    # (ZeroDivisionError). IRLS now allows for the deviance's rounding, and a Gamma AIC with
    # dispersion 0 is -inf.
    df = pd.DataFrame({"g": ["a"] * 8 + ["b"], "x": [0.0] * 7 + [1.0, 0.5], "count": 1.0})
    for size in (0.1, 0.125, 1.0, 1000.0, 1800.0):
        df["size"] = size
        glm = GLM(_SPEC, family).fit(df, "size", weights="count")
        np.testing.assert_allclose(glm.predict(df), df["size"], rtol=1e-12)
