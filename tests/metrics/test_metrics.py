"""Scores, discrimination and calibration: hand-computed values, identities and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnn import GLM, get_preset
from actnn.families import Poisson, Tweedie
from actnn.metrics import (
    bias_by_feature,
    calibration_bins,
    calibration_isotonic,
    d2_score,
    deviance,
    double_lift,
    gini,
    isotonic_regression,
    lift_by_ratio,
    lorenz_curve,
    murphy_decomposition,
    ordered_gini,
    ordered_lorenz,
    score_table,
)

LOG2 = math.log(2.0)


def _poisson_d(y: float, mu: float) -> float:
    """Poisson unit deviance 2 [mu - y - y log(mu / y)], written out for the hand computations."""
    return 2.0 * (mu - y - (y * math.log(mu / y) if y > 0 else 0.0))


# ---------------------------------------------------------------------------------- scores
@pytest.mark.parametrize(
    "family, y, mu, w, expected",
    [
        # d(0, 1) = 2; d(2, 1) = 2 (1 - 2 - 2 log(1/2)) = 2 (2 log 2 - 1); weights 1 and 3
        ("poisson", [0.0, 2.0], [1.0, 1.0], [1.0, 3.0], (2 + 3 * 2 * (2 * LOG2 - 1)) / 4),
        # d(1, 2) = 2 ((1 - 2) / 2 - log(1/2)) = 2 (log 2 - 1/2); d(2, 2) = 0; weights 3 and 1
        ("gamma", [1.0, 2.0], [2.0, 2.0], [3.0, 1.0], 3 * 2 * (LOG2 - 0.5) / 4),
        # p = 1.5: d(1, 4) = 2 [1/(-0.25) - 4^-0.5/(-0.5) + 4^0.5/0.5] = 2 (-4 + 1 + 4) = 2;
        # d(0, 1) = 2 [1/0.5] = 4; weights 1 and 3: (2 + 12) / 4
        (Tweedie(1.5), [1.0, 0.0], [4.0, 1.0], [1.0, 3.0], 3.5),
    ],
)
def test_deviance_is_the_weighted_mean_unit_deviance(family, y, mu, w, expected):
    assert deviance(y, mu, family, weights=w) == pytest.approx(expected, rel=1e-13)


def test_deviance_takes_a_family_name_or_object():
    y, mu = [0.0, 1.0, 3.0], [0.5, 1.0, 2.0]
    expected = (_poisson_d(0, 0.5) + _poisson_d(1, 1) + _poisson_d(3, 2)) / 3
    assert deviance(y, mu) == pytest.approx(expected, rel=1e-13)
    assert deviance(y, mu, Poisson()) == deviance(y, mu, "Poisson")


def test_d2_against_the_weighted_mean_and_a_given_null():
    y, mu = [0.0, 1.0, 2.0], [0.5, 1.0, 1.5]
    # null: mean(y) = 1; D(null) = d(0,1) + d(1,1) + d(2,1) = 2 + 0 + 2 (2 log 2 - 1)
    null = 2 + 2 * (2 * LOG2 - 1)
    # D(mu) = d(0, 0.5) + d(1, 1) + d(2, 1.5) = 1 + 0 + 2 (-0.5 - 2 log(1.5 / 2))
    fit = 1 + 2 * (-0.5 - 2 * math.log(0.75))
    assert d2_score(y, mu, "poisson") == pytest.approx(1 - fit / null, rel=1e-13)
    assert d2_score(y, [1.0, 1.0, 1.0], "poisson") == pytest.approx(0.0, abs=1e-15)
    # a null model of 2 everywhere: d(0,2) + d(1,2) + d(2,2) = 4 + 2 (1 - log 2) + 0
    assert d2_score(y, mu, "poisson", mu_null=2.0) == pytest.approx(
        1 - fit / (4 + 2 * (1 - LOG2)), rel=1e-13
    )
    assert d2_score(y, mu, "poisson", mu_null=[2.0, 2.0, 2.0]) == pytest.approx(
        d2_score(y, mu, "poisson", mu_null=2.0), rel=1e-15
    )


def test_score_table_with_exposure_in_wuthrich_units():
    claims = np.array([0.0, 1.0, 2.0])
    exposure = np.array([0.5, 1.0, 0.5])
    mu_a = np.array([0.1, 0.5, 1.0])
    # homogeneous model: frequency 3 / 2 = 1.5, mu = exposure * 1.5
    mu_null = exposure * 1.5
    table = score_table(
        {"A": mu_a, "null": mu_null}, claims, exposure=exposure, published={"A": 31.0}
    )
    assert list(table.index) == ["A", "null"]
    assert table.index.name == "model"
    assert list(table.columns) == [
        "deviance", "deviance_per_exposure", "d2", "mae", "mse", "observed", "predicted",
        "balance", "published",
    ]  # fmt: skip
    a = table.loc["A"]
    # d(0, 0.1) = 0.2; d(1, 0.5) = 2 log 2 - 1; d(2, 1) = 4 log 2 - 2: total 6 log 2 - 2.8
    total = 6 * LOG2 - 2.8
    assert a["deviance"] == pytest.approx(100 * total / 3, rel=1e-13)
    assert a["deviance_per_exposure"] == pytest.approx(100 * total / 2.0, rel=1e-13)
    # null: d(0, 0.75) = 1.5; d(1, 1.5) = 1 - 2 log 1.5; d(2, 0.75) = -2.5 + 4 log(8/3)
    null_total = 1.5 + (1 - 2 * math.log(1.5)) + (-2.5 + 4 * math.log(8 / 3))
    assert a["d2"] == pytest.approx(1 - total / null_total, rel=1e-13)
    assert table.loc["null", "d2"] == pytest.approx(0.0, abs=1e-14)
    assert table.loc["null", "deviance"] == pytest.approx(100 * null_total / 3, rel=1e-13)
    # frequencies: observed 0, 1, 4; predicted 0.2, 0.5, 2; errors 0.2, 0.5, 2, exposure-weighted
    assert a["mae"] == pytest.approx((0.5 * 0.2 + 1.0 * 0.5 + 0.5 * 2.0) / 2.0, rel=1e-13)
    assert a["mse"] == pytest.approx((0.5 * 0.04 + 1.0 * 0.25 + 0.5 * 4.0) / 2.0, rel=1e-13)
    assert a["observed"] == 3.0
    assert a["predicted"] == pytest.approx(1.6, rel=1e-15)
    assert a["balance"] == pytest.approx(1.6 / 3, rel=1e-15)
    assert table.loc["null", "balance"] == pytest.approx(1.0, rel=1e-15)
    assert a["published"] == 31.0
    assert np.isnan(table.loc["null", "published"])
    units = table.attrs["units"]
    assert set(units) == set(table.columns)
    assert "per policy, in units of 10^-2" in units["deviance"]
    assert units["published"] == units["deviance"]


def test_score_table_gamma_with_weights_on_the_response_scale():
    y, mu, w = np.array([1.0, 2.0]), np.array([2.0, 2.0]), np.array([3.0, 1.0])
    table = score_table({"m": mu}, y, weights=w, family="gamma")
    assert "deviance_per_exposure" not in table.columns
    assert "published" not in table.columns
    row = table.loc["m"]
    assert row["deviance"] == pytest.approx(3 * 2 * (LOG2 - 0.5) / 4, rel=1e-13)
    # null: weighted mean (3 * 1 + 2) / 4 = 1.25
    assert row["d2"] == pytest.approx(d2_score(y, mu, "gamma", w, mu_null=1.25), rel=1e-15)
    # errors 1 and 0 with weights 3 and 1
    assert row["mae"] == pytest.approx(0.75, rel=1e-15)
    assert row["mse"] == pytest.approx(0.75, rel=1e-15)
    # totals sum w y = 5 and sum w mu = 8
    assert (row["observed"], row["predicted"], row["balance"]) == (5.0, 8.0, 1.6)
    assert "gamma" in table.attrs["units"]["deviance"]


def test_score_table_errors():
    y, v = [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"predictions\['B'\] has length 2 but y has length 3"):
        score_table({"A": [1.0, 1.0, 1.0], "B": [1.0, 1.0]}, y, exposure=v)
    with pytest.raises(ValueError, match=r"published has models that are not in predictions"):
        score_table({"A": [1.0, 1.0, 1.0]}, y, exposure=v, published={"GLM9": 30.0})
    with pytest.raises(ValueError, match="exposure is for Poisson claim counts, not the gamma"):
        score_table({"A": [1.0, 1.0, 1.0]}, [1.0, 2.0, 3.0], exposure=v, family="gamma")
    with pytest.raises(ValueError, match=r"exposure: 1 row has a value <= 0 .*; it must be > 0"):
        score_table({"A": [1.0, 1.0, 1.0]}, y, exposure=[1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="non-empty mapping"):
        score_table({}, y)


def test_validation_names_the_argument_and_the_rows():
    with pytest.raises(ValueError, match="mu has length 2 but y has length 3"):
        deviance([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(
        ValueError,
        match=r"y: 1 row has no value \(NaN\) \(first: row 1 = nan\); "
        r"y: 1 row has an infinite value \(first: row 3 = inf\)",
    ):
        deviance([1.0, np.nan, 2.0, np.inf], [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"pred: 1 row has no value \(NaN\) \(first: row 0 = nan"):
        gini([1.0, 2.0], [np.nan, 1.0])
    with pytest.raises(ValueError, match=r"weights: 1 row has a value <= 0 \(first: row 1 = -1.0"):
        deviance([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], weights=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"exposure: 1 row has a value <= 0 .* row 0 = -0.5"):
        lorenz_curve([1.0, 2.0], [1.0, 2.0], exposure=[-0.5, 1.0])
    with pytest.raises(ValueError, match="outside the support of the gamma family"):
        deviance([0.0, 1.0], [1.0, 1.0], "gamma")
    with pytest.raises(ValueError, match="unknown family 'normal'; valid: gamma, poisson"):
        deviance([1.0], [1.0], "normal")
    with pytest.raises(ValueError, match=r"y: 1 row has a value < 0 \(first: row 0 = -1.0\)"):
        gini([-1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="D2 is undefined"):
        d2_score([1.0, 1.0], [0.5, 2.0])


# ---------------------------------------------------------------------------------- discrimination
def test_gini_of_a_constant_tariff_is_exactly_zero():
    rng = np.random.default_rng(0)
    claims = rng.poisson(0.3, 200).astype(float)
    exposure = rng.uniform(0.1, 1.0, 200)
    curve = lorenz_curve(claims, np.full(200, 0.1), exposure)
    assert curve.to_numpy().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert gini(claims, np.full(200, 0.1), exposure) == 0.0


def test_gini_of_a_perfect_ordering_on_four_points():
    y = np.array([2.0, 0.0, 3.0, 1.0])
    # sorted by pred = y: losses 0, 1, 2, 3 of total 6
    # points (0, 0), (1/4, 0), (2/4, 1/6), (3/4, 3/6), (1, 1)
    # area = 1/4 * [(0 + 0) + (0 + 1/6) + (1/6 + 1/2) + (1/2 + 1)] / 2 = 1/8 * 14/6 = 7/24
    # Gini = 1 - 2 * 7/24 = 5/12
    curve = lorenz_curve(y, y)
    np.testing.assert_allclose(curve["exposure_share"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve["loss_share"], [0, 0, 1 / 6, 0.5, 1.0])
    assert gini(y, y) == pytest.approx(5 / 12, rel=1e-14)
    assert gini(y, -y) == pytest.approx(-5 / 12, rel=1e-14)


def test_gini_weights_by_exposure():
    y, pred, exposure = [1.0, 0.0, 3.0], [0.3, 0.1, 0.2], [1.0, 2.0, 1.0]
    # sorted by pred: (v 2, y 0), (v 1, y 3), (v 1, y 1); total exposure 4, losses 4
    # points (0, 0), (1/2, 0), (3/4, 3/4), (1, 1)
    # area = 1/2 * 0 + 1/4 * (0 + 3/4) / 2 + 1/4 * (3/4 + 1) / 2 = 3/32 + 7/32 = 10/32
    assert gini(y, pred, exposure) == pytest.approx(1 - 2 * 10 / 32, rel=1e-14)


def test_tied_predictions_form_one_linear_block():
    y, pred = [0.0, 2.0, 0.0, 2.0], [1.0, 2.0, 2.0, 3.0]
    # rows 1 and 2 tie: one block of exposure 2/4 and losses 2/4
    # points (0, 0), (1/4, 0), (3/4, 1/2), (1, 1): area = 0 + 1/2 * 1/4 + 1/4 * 3/4 = 5/16
    curve = lorenz_curve(y, pred)
    np.testing.assert_allclose(curve["loss_share"], [0, 0, 0.5, 1.0])
    assert gini(y, pred) == pytest.approx(1 - 2 * 5 / 16, rel=1e-14)
    # the average of the two orders of the tied rows (Gini 0.5 and 0.25)
    assert gini(y, pred) == pytest.approx(gini(y, [1, 2, 2.5, 3]) / 2 + gini(y, [1, 2.5, 2, 3]) / 2)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0.1, 2.0, allow_subnormal=False)),
        min_size=1,
        max_size=15,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_lorenz_curve_does_not_depend_on_row_order(data, seed):
    y, pred, exposure = (np.array(column, dtype=float) for column in zip(*data, strict=True))
    if y.sum() == 0:
        y[0] = 1.0
    order = np.random.default_rng(seed).permutation(y.size)
    curve = lorenz_curve(y, pred, exposure)
    shuffled = lorenz_curve(y[order], pred[order], exposure[order])
    np.testing.assert_allclose(shuffled.to_numpy(), curve.to_numpy(), rtol=1e-12, atol=1e-15)
    assert gini(y, -pred, exposure) == pytest.approx(-gini(y, pred, exposure), abs=1e-12)


def test_ordered_lorenz_by_hand():
    y, base, alternative = [1.0, 2.0, 1.0], [1.0, 1.0, 2.0], [2.0, 1.0, 1.0]
    # relativities 2, 1, 1/2: sorted rows 2 (premium 2, loss 1), 1 (1, 2), 0 (1, 1); totals 4, 4
    # points (0, 0), (1/2, 1/4), (3/4, 3/4), (1, 1)
    # area = 1/2 * 1/4 / 2 + 1/4 * (1/4 + 3/4) / 2 + 1/4 * (3/4 + 1) / 2 = 13/32
    curve = ordered_lorenz(y, base, alternative)
    assert list(curve.columns) == ["premium_share", "loss_share"]
    np.testing.assert_allclose(curve["premium_share"], [0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve["loss_share"], [0, 0.25, 0.75, 1.0])
    assert ordered_gini(y, base, alternative) == pytest.approx(1 - 2 * 13 / 32, rel=1e-14)


def test_ordered_gini_identities():
    rng = np.random.default_rng(1)
    exposure = rng.uniform(0.1, 1.0, 300)
    base = rng.uniform(0.05, 0.2, 300)
    alternative = base * rng.lognormal(0.0, 0.3, 300)
    claims = rng.poisson(exposure * alternative).astype(float)
    assert ordered_gini(claims, base, base, exposure) == 0.0
    # with a flat base, the premium share is the exposure share: the plain Lorenz curve
    flat = np.full(300, 0.1)
    assert ordered_gini(claims, flat, alternative, exposure) == pytest.approx(
        gini(claims, alternative, exposure), rel=1e-12
    )
    # the base scales premiums: exposure * base as premium with exposure 1 is the same curve
    assert ordered_gini(claims, exposure * base, exposure * alternative) == pytest.approx(
        ordered_gini(claims, base, alternative, exposure), rel=1e-12
    )


def test_double_lift_and_lift_by_ratio_by_hand():
    y = np.array([0.0, 1.0, 0.0, 3.0])
    pred_a = np.array([1.0, 2.0, 1.0, 2.0])
    pred_b = np.array([2.0, 1.0, 1.0, 1.0])
    exposure = np.array([2.0, 1.0, 1.0, 2.0])
    # ratios 1/2, 2, 1, 2: blocks 1/2 (v 2), 1 (v 1), 2 (rows 1 and 3, v 3); cumulative 2, 3, 6
    # midpoints 1, 2.5, 4.5 -> 2 bins: floor(2 * mid / 6) = 0, 0, 1
    table = double_lift(y, pred_a, pred_b, exposure, n_bins=2)
    expected = pd.DataFrame(
        {
            "bin": [1, 2],
            "exposure": [3.0, 3.0],
            "observed": [0.0, 4 / 3],  # (0 + 0) / 3 and (1 + 3) / 3
            "predicted_a": [1.0, 2.0],  # (2 * 1 + 1 * 1) / 3 and (1 * 2 + 2 * 2) / 3
            "predicted_b": [5 / 3, 1.0],  # (2 * 2 + 1 * 1) / 3 and (1 * 1 + 2 * 1) / 3
            "ratio_mean": [2 / 3, 2.0],  # (2 * 1/2 + 1 * 1) / 3 and 2
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, rtol=1e-14)

    lift = lift_by_ratio(y, pred_b, pred_a, exposure, n_bins=2)
    assert list(lift.columns) == [
        "bin", "exposure", "observed", "base", "alternative", "ratio_mean", "loss_ratio_base",
        "loss_ratio_alternative",
    ]  # fmt: skip
    np.testing.assert_allclose(lift["base"], [5 / 3, 1.0])
    np.testing.assert_allclose(lift["alternative"], [1.0, 2.0])
    # observed / premium: 0 / (5/3) and (4/3) / 1; 0 / 1 and (4/3) / 2
    np.testing.assert_allclose(lift["loss_ratio_base"], [0.0, 4 / 3])
    np.testing.assert_allclose(lift["loss_ratio_alternative"], [0.0, 2 / 3])


def test_double_lift_keeps_tied_ratios_in_one_bin():
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.05, 0.2, 100)
    claims = rng.poisson(pred).astype(float) + (np.arange(100) == 0)
    table = double_lift(claims, pred, pred, n_bins=10)
    # one block of exposure 100 whose midpoint 50 lies in bin floor(10 * 50 / 100) + 1 = 6
    assert table["bin"].tolist() == [6]
    assert table["exposure"].tolist() == [100.0]
    assert table["ratio_mean"].tolist() == [1.0]
    with pytest.raises(ValueError, match="n_bins must be >= 1"):
        double_lift(claims, pred, pred, n_bins=0)


# ---------------------------------------------------------------------------------- calibration
def test_isotonic_regression_known_examples():
    y = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]
    # violators (3, 2) and (4, 3) pool to their means
    np.testing.assert_allclose(
        isotonic_regression(y, [1, 2, 3, 4, 5, 6]), [1, 2.5, 2.5, 3.5, 3.5, 5]
    )
    # the same data given in reverse order come back in that order
    np.testing.assert_allclose(
        isotonic_regression(y[::-1], [6, 5, 4, 3, 2, 1]), [5, 3.5, 3.5, 2.5, 2.5, 1]
    )
    # weighted pool: (1 * 3 + 3 * 1) / 4 = 1.5
    np.testing.assert_allclose(isotonic_regression([3.0, 1.0], [1, 2], [1.0, 3.0]), [1.5, 1.5])
    # ties in x are pooled first: x = 1 has mean (0 + 1) / 2, below x = 2
    np.testing.assert_allclose(isotonic_regression([0.0, 5.0, 1.0], [1, 2, 1]), [0.5, 5, 0.5])
    # decreasing: (1, 2) pool to 1.5 after 3
    np.testing.assert_allclose(
        isotonic_regression([3.0, 1.0, 2.0], [1, 2, 3], increasing=False), [3, 1.5, 1.5]
    )


def _isotonic_min_max(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Brute force: f_j = max_{s <= j} min_{t >= j} (weighted mean of blocks s..t), x pooled."""
    keys = sorted(set(x.tolist()))
    sums = np.array([np.sum(w[x == k] * y[x == k]) for k in keys])
    weights = np.array([np.sum(w[x == k]) for k in keys])
    m = len(keys)
    fitted = [
        max(
            min(sums[s : t + 1].sum() / weights[s : t + 1].sum() for t in range(j, m))
            for s in range(j + 1)
        )
        for j in range(m)
    ]
    return np.array([fitted[keys.index(v)] for v in x.tolist()])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-10, 10, allow_subnormal=False),
            st.integers(0, 6),
            st.floats(0.1, 5, allow_subnormal=False),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_isotonic_regression_matches_the_min_max_formula(rows):
    y, x, w = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    fitted = isotonic_regression(y, x, w)
    np.testing.assert_allclose(fitted, _isotonic_min_max(y, x, w), rtol=1e-9, atol=1e-9)
    assert np.sum(w * fitted) == pytest.approx(np.sum(w * y), abs=1e-9)
    # decreasing in x is increasing in -x
    np.testing.assert_allclose(
        isotonic_regression(y, x, w, increasing=False),
        _isotonic_min_max(y, -x, w),
        rtol=1e-9,
        atol=1e-9,
    )


def test_calibration_bins_by_hand():
    y, pred = [0.0, 1.0, 1.0, 3.0], [0.5, 1.0, 2.0, 2.0]
    # blocks 0.5, 1, 2 (two rows) of weight 1, 1, 2; midpoints 0.5, 1.5, 3 -> bins 0, 0, 1
    table = calibration_bins(y, pred, n_bins=2)
    assert table["bin"].tolist() == [1, 2]
    np.testing.assert_allclose(table["weight"], [2.0, 2.0])
    np.testing.assert_allclose(table["mean_predicted"], [0.75, 2.0])
    np.testing.assert_allclose(table["mean_observed"], [0.5, 2.0])
    # sd / sqrt(n): sd(0, 1) = sqrt(1/2), sd(1, 3) = sqrt(2); divided by sqrt(2)
    np.testing.assert_allclose(table["std_error"], [0.5, 1.0])
    # weights: sqrt(n / (n - 1) * sum w^2 (y - m)^2) / W with w = (1, 3), y = (0, 1), m = 3/4
    weighted = calibration_bins([0.0, 1.0], [1.0, 2.0], [1.0, 3.0], n_bins=1)
    expected = math.sqrt(2 * ((1 * 0.75) ** 2 + (3 * 0.25) ** 2)) / 4
    assert weighted["std_error"].item() == pytest.approx(expected, rel=1e-14)
    assert weighted["mean_observed"].item() == pytest.approx(0.75, rel=1e-15)


def test_calibration_isotonic_is_sorted_by_pred():
    table = calibration_isotonic([1.0, 0.0, 2.0, 1.0], [3.0, 1.0, 2.0, 1.0])
    # pred 1: mean (0 + 1) / 2; pred 2: 2 > pred 3: 1, pooled to 1.5
    assert table["pred"].tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(table["recalibrated"], [0.5, 1.5, 1.5])


def test_bias_by_feature_by_hand():
    feature = ["a", "b", "a", "b", "a"]
    y = [0.0, 1.0, 2.0, 1.0, 1.0]
    pred = [1.0, 1.0, 1.0, 2.0, 1.0]
    w = [1.0, 1.0, 2.0, 1.0, 1.0]
    table = bias_by_feature(feature, y, pred, w)
    assert table["level"].tolist() == ["a", "b"]
    assert list(table.columns) == [
        "level", "weight", "observed", "predicted", "bias", "std_error", "p_value",
    ]  # fmt: skip
    # a: w (1, 2, 1), residuals pred - y = (1, -1, 0): bias (1 - 2 + 0) / 4 = -1/4
    #    w (r - bias) = (1.25, -1.5, 0.25); squares sum 3.875; se = sqrt(3/2 * 3.875) / 4
    # b: w (1, 1), residuals (0, 1): bias 1/2; se = sqrt(2 * (0.25 + 0.25)) / 2 = 1/2, z = 1
    se_a = math.sqrt(1.5 * 3.875) / 4
    np.testing.assert_allclose(table["weight"], [4.0, 2.0])
    np.testing.assert_allclose(table["observed"], [5 / 4, 1.0])
    np.testing.assert_allclose(table["predicted"], [1.0, 1.5])
    np.testing.assert_allclose(table["bias"], [-0.25, 0.5])
    np.testing.assert_allclose(table["std_error"], [se_a, 0.5])
    np.testing.assert_allclose(
        table["p_value"], [math.erfc(0.25 / se_a / math.sqrt(2)), math.erfc(1 / math.sqrt(2))]
    )


def test_bias_by_feature_bins_a_numeric_feature_with_many_values():
    # 20 distinct values stay levels; 40 are cut into bins of equal weight
    twenty = bias_by_feature(np.arange(20), np.ones(20), np.ones(20))
    assert twenty["level"].tolist() == list(range(20))
    x = np.arange(40.0)
    table = bias_by_feature(x, x % 2, np.ones(40), n_bins=4)
    assert table["level"].tolist() == [
        pd.Interval(0.0, 9.0, closed="both"), pd.Interval(10.0, 19.0, closed="both"),
        pd.Interval(20.0, 29.0, closed="both"), pd.Interval(30.0, 39.0, closed="both"),
    ]  # fmt: skip
    # each bin: residuals 1 - y, five 1s and five 0s: bias 1/2, sd = sqrt(2.5 / 9), se = sd/sqrt(10)
    np.testing.assert_allclose(table["bias"], 0.5)
    np.testing.assert_allclose(table["std_error"], 1 / 6)


def test_bias_by_feature_errors():
    with pytest.raises(ValueError, match="feature_values has length 2 but y has length 3"):
        bias_by_feature(["a", "b"], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"feature_values: 1 row has no value \(NaN\) .* row 1"):
        bias_by_feature(["a", None, "b"], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])


def test_murphy_decomposition_by_hand():
    y, pred = [0.0, 2.0, 1.0, 3.0], [1.0, 2.0, 3.0, 4.0]
    # recalibrated: y in pred order (0, 2, 1, 3) pools (2, 1) -> (0, 1.5, 1.5, 3); mean 1.5
    d = _poisson_d
    score = (d(0, 1) + d(2, 2) + d(1, 3) + d(3, 4)) / 4
    recal = (d(0, 0) + d(2, 1.5) + d(1, 1.5) + d(3, 3)) / 4
    unc = (d(0, 1.5) + d(2, 1.5) + d(1, 1.5) + d(3, 1.5)) / 4
    table = murphy_decomposition(y, pred)
    assert table.shape == (1, 4)
    assert table.attrs["units"]["score"] == "weighted mean poisson unit deviance (plain number)"
    row = table.iloc[0]
    assert row["score"] == pytest.approx(score, rel=1e-13)
    assert row["miscalibration"] == pytest.approx(score - recal, rel=1e-13)
    assert row["discrimination"] == pytest.approx(unc - recal, rel=1e-13)
    assert row["uncertainty"] == pytest.approx(unc, rel=1e-13)


def test_murphy_decomposition_of_a_tweedie_with_an_all_zero_block():
    # recalibrated = y (perfect order), including the block of zeros: S(recalibrated) = 0
    y, pred = [0.0, 0.0, 1.0, 2.0], [0.1, 0.2, 0.3, 0.4]
    row = murphy_decomposition(y, pred, family=Tweedie(1.5)).iloc[0]
    assert np.isfinite(row.to_numpy()).all()
    assert row["miscalibration"] == pytest.approx(row["score"], rel=1e-12)
    assert row["discrimination"] == pytest.approx(row["uncertainty"], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.floats(0.05, 3.0, allow_subnormal=False),
            st.floats(0.1, 2.0, allow_subnormal=False),
        ),
        min_size=2,
        max_size=20,
    ),
    st.sampled_from(["poisson", "gamma"]),
)
def test_murphy_components_add_up_and_are_non_negative(rows, family):
    counts, pred, w = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    y = counts / w + (0.5 if family == "gamma" else 0.0)  # Gamma needs y > 0
    row = murphy_decomposition(y, pred, w, family).iloc[0]
    total = row["miscalibration"] - row["discrimination"] + row["uncertainty"]
    assert row["score"] == pytest.approx(total, rel=1e-12, abs=1e-12)
    assert row["score"] == pytest.approx(deviance(y, pred, family, w), rel=1e-15)
    assert row["miscalibration"] >= -1e-12
    assert row["discrimination"] >= -1e-12


def test_murphy_decomposition_of_calibrated_and_constant_predictions():
    # Gamma claim sizes (a Poisson recalibration can be 0, which is no valid prediction)
    rng = np.random.default_rng(4)
    counts = rng.integers(1, 4, 400).astype(float)
    severity = rng.uniform(1.0, 3.0, 400)
    y = rng.gamma(2.0 * counts, severity / (2.0 * counts))
    recalibrated = isotonic_regression(y, severity, counts)
    calibrated = murphy_decomposition(y, recalibrated, counts, "gamma").iloc[0]
    assert calibrated["miscalibration"] == pytest.approx(0.0, abs=1e-12)
    assert calibrated["discrimination"] > 0
    flat = murphy_decomposition(y, np.full(400, 2.0), counts, "gamma").iloc[0]
    assert flat["discrimination"] == pytest.approx(0.0, abs=1e-12)
    assert flat["miscalibration"] > 0


# ---------------------------------------------------------------------------------- a real GLM
@pytest.fixture(scope="module")
def glm1(portfolio):
    return GLM(get_preset("nsw2018_glm1")).fit(portfolio, "ClaimNb", exposure="Exposure")


@pytest.mark.parametrize("feature", ["VehBrand", "Region"])
def test_poisson_glm_is_unbiased_on_every_level_of_its_categorical_features(
    glm1, portfolio, feature
):
    exposure = portfolio["Exposure"].to_numpy()
    frequency = portfolio["ClaimNb"].to_numpy() / exposure
    table = bias_by_feature(
        portfolio[feature], frequency, glm1.predict_frequency(portfolio), exposure
    )
    assert table["level"].tolist() == list(portfolio[feature].cat.categories)
    assert table["weight"].sum() == pytest.approx(exposure.sum(), rel=1e-12)
    # the score equations of a dummy: sum over the level of (N - mu) = 0
    np.testing.assert_allclose(table["bias"], 0.0, atol=1e-9 * table["observed"].max())
    np.testing.assert_allclose(table["predicted"], table["observed"], rtol=1e-9)


def test_poisson_glm_is_in_balance_and_its_deviance_matches(glm1, portfolio):
    table = score_table(
        {"glm1": glm1.predict(portfolio)},
        portfolio["ClaimNb"],
        exposure=portfolio["Exposure"],
        published={"glm1": 31.26},
    )
    row = table.loc["glm1"]
    assert row["balance"] == pytest.approx(1.0, abs=1e-8)
    assert row["deviance"] * len(portfolio) / 100 == pytest.approx(glm1.deviance_, rel=1e-9)
    assert row["d2"] == pytest.approx(1 - glm1.deviance_ / glm1.null_deviance_, rel=1e-9)
    assert row["published"] == 31.26
