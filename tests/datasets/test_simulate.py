"""Tests of actnn.simulate: schema, determinism, the true model and the shipped sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnn.datasets import schema
from actnn.datasets.simulate import (
    FREQUENCY_TRUTH_COLUMNS,
    SEVERITY_COLUMNS,
    SEVERITY_SHAPE,
    main,
    simulate_mtpl,
    true_frequency,
    true_severity,
)

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "data" / "sample_mtpl.csv"
FLOAT_COLUMNS = ("Exposure", *FREQUENCY_TRUTH_COLUMNS, *SEVERITY_COLUMNS)


@pytest.fixture(scope="module")
def portfolio() -> pd.DataFrame:
    """A large portfolio, for statistical checks."""
    return simulate_mtpl(200_000, seed=20240601)


def _base_policy(n: int = 1) -> pd.DataFrame:
    """`n` copies of a middle-of-the-road policy, to vary one or two features at a time."""
    return pd.DataFrame(
        {
            "DrivAge": np.full(n, 45),
            "BonusMalus": np.full(n, 50),
            "VehAge": np.full(n, 5),
            "VehPower": np.full(n, 6),
            "Density": np.full(n, 500),
            "VehBrand": pd.Categorical(["B1"] * n, dtype=schema.categorical_dtype("VehBrand")),
            "VehGas": pd.Categorical(["Regular"] * n, dtype=schema.categorical_dtype("VehGas")),
            "Region": pd.Categorical(["R24"] * n, dtype=schema.categorical_dtype("Region")),
        }
    )


def _interaction_contrast(column_1: str, values_1, column_2: str, values_2) -> float:
    """Difference in differences of log true_frequency over a 2 x 2 grid of two features.

    Zero for every pair of values if and only if the two features act additively on the log
    scale (given the other features).
    """
    df = _base_policy(4)
    df[column_1] = [values_1[0], values_1[1], values_1[0], values_1[1]]
    df[column_2] = [values_2[0], values_2[0], values_2[1], values_2[1]]
    eta = np.log(true_frequency(df))
    return float((eta[1] - eta[0]) - (eta[3] - eta[2]))


def _frequency_along(column: str, values) -> np.ndarray:
    df = _base_policy(len(values))
    df[column] = values
    return true_frequency(df)


def test_columns_and_dtypes_follow_schema():
    df = simulate_mtpl(500, seed=3)
    assert tuple(df.columns) == (schema.FREQ_COLUMNS + FREQUENCY_TRUTH_COLUMNS + SEVERITY_COLUMNS)
    for column in schema.INTEGER_COLUMNS:
        assert df[column].dtype == np.int64, column
    for column in FLOAT_COLUMNS:
        assert df[column].dtype == np.float64, column
    for column in schema.CATEGORICAL_LEVELS:
        assert df[column].dtype == schema.categorical_dtype(column), column
    assert df["IDpol"].tolist() == list(range(1, 501))


def test_without_severity_has_no_claim_sizes_and_the_same_counts():
    with_sizes = simulate_mtpl(1_000, seed=5)
    counts_only = simulate_mtpl(1_000, seed=5, severity=False)
    assert tuple(counts_only.columns) == schema.FREQ_COLUMNS + FREQUENCY_TRUTH_COLUMNS
    pd.testing.assert_frame_equal(counts_only, with_sizes[list(counts_only.columns)])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_values_are_in_range_and_consistent(n, seed):
    df = simulate_mtpl(n, seed)
    assert len(df) == n
    assert ((df["Exposure"] > 0) & (df["Exposure"] <= 1)).all()
    assert df["VehPower"].between(4, 15).all()
    assert df["VehAge"].between(0, 100).all()
    assert df["DrivAge"].between(18, 100).all()
    assert df["BonusMalus"].between(50, 230).all()
    assert df["Density"].between(1, 27_000).all()
    assert not df[list(schema.CATEGORICAL_LEVELS)].isna().any().any()
    area = pd.cut(
        df["Density"], [0, 50, 100, 500, 2_000, 10_000, np.inf], labels=list(schema.AREA_LEVELS)
    )
    assert (df["Area"].astype(str) == area.astype(str)).all()
    np.testing.assert_allclose(df["true_mu"], df["Exposure"] * df["true_frequency"], rtol=1e-15)
    no_claim = df["ClaimNb"] == 0
    assert (df["ClaimNb"] >= 0).all()
    assert df["ClaimAmount"].isna().equals(no_claim)
    assert (df.loc[no_claim, "ClaimTotal"] == 0.0).all()
    assert (df.loc[~no_claim, "ClaimTotal"] > 0.0).all()
    np.testing.assert_allclose(
        df.loc[~no_claim, "ClaimAmount"] * df.loc[~no_claim, "ClaimNb"],
        df.loc[~no_claim, "ClaimTotal"],
        rtol=1e-12,
    )


def test_same_seed_gives_the_same_frame():
    first = simulate_mtpl(2_000, seed=11)
    pd.testing.assert_frame_equal(first, simulate_mtpl(2_000, seed=11))
    assert first.attrs["simulation"] == {
        "generator": "actnn.datasets.simulate.simulate_mtpl",
        "n": 2_000,
        "seed": 11,
        "severity": True,
    }


def test_numpy_integers_are_accepted():
    pd.testing.assert_frame_equal(simulate_mtpl(np.int64(100), np.int32(4)), simulate_mtpl(100, 4))


def test_different_seeds_give_different_frames():
    first, second = simulate_mtpl(2_000, seed=1), simulate_mtpl(2_000, seed=2)
    for column in ("Exposure", "DrivAge", "BonusMalus", "Density", "ClaimNb"):
        assert not first[column].equals(second[column]), column


@pytest.mark.parametrize(
    ("n", "seed", "error", "message"),
    [
        (0, 1, ValueError, "n must be >= 1; got n=0"),
        (-3, 1, ValueError, "n must be >= 1; got n=-3"),
        (2.5, 1, TypeError, "n must be an int; got float 2.5"),
        ("10", 1, TypeError, "n must be an int; got str '10'"),
        (True, 1, TypeError, "n must be an int; got bool True"),
        (None, 1, TypeError, "n must be an int; got NoneType None"),
        (10, -1, ValueError, "seed must be >= 0; got seed=-1"),
        (10, 1.0, TypeError, "seed must be an int; got float 1.0"),
        (10, "1", TypeError, "seed must be an int; got str '1'"),
    ],
)
def test_invalid_n_or_seed_is_rejected(n, seed, error, message):
    with pytest.raises(error, match=message):
        simulate_mtpl(n, seed)


def test_claim_counts_agree_with_true_mu(portfolio):
    expected = portfolio["true_mu"].sum()
    observed = portfolio["ClaimNb"].sum()
    assert abs(observed - expected) <= 4.0 * np.sqrt(expected)


def test_marginals_are_close_to_freMTPL2freq(portfolio):
    df = portfolio
    frequency = df["ClaimNb"].sum() / df["Exposure"].sum()
    assert 0.07 <= frequency <= 0.13
    assert 0.07 <= df["true_mu"].sum() / df["Exposure"].sum() <= 0.13
    assert 0.45 <= df["Exposure"].mean() <= 0.6  # real: 0.529
    assert 0.2 <= (df["Exposure"] == 1.0).mean() <= 0.3  # real: 0.250
    assert 0.1 <= (df["Exposure"] <= 0.1).mean() <= 0.3  # real: 0.188
    assert 0.5 <= (df["BonusMalus"] == 50).mean() <= 0.65  # real: 0.567
    assert 40 <= df["DrivAge"].mean() <= 50  # real: 45.5
    assert 0.95 <= (df["VehAge"] < 20).mean() < 1  # real: 0.983
    assert 5.5 <= np.log(df["Density"]).mean() <= 6.5  # real: 5.98
    area_share = df["Area"].value_counts(normalize=True)
    assert area_share.idxmax() == "C" and area_share.idxmin() == "F"  # real: C 0.283, F 0.026


def test_true_frequency_reproduces_the_column(portfolio):
    np.testing.assert_array_equal(true_frequency(portfolio), portfolio["true_frequency"])


def test_true_severity_reproduces_the_column(portfolio):
    np.testing.assert_array_equal(true_severity(portfolio), portfolio["true_severity"])


@pytest.mark.parametrize("dtype", [str, "category"], ids=["strings", "categories-sorted"])
def test_truth_accepts_other_encodings_of_the_categories(dtype):
    df = simulate_mtpl(300, seed=8)
    recoded = df.astype({column: str for column in schema.CATEGORICAL_LEVELS}).astype(
        {column: dtype for column in schema.CATEGORICAL_LEVELS}
    )
    np.testing.assert_array_equal(true_frequency(recoded), df["true_frequency"])
    np.testing.assert_array_equal(true_severity(recoded), df["true_severity"])


def test_truth_rejects_missing_columns_and_unknown_levels():
    with pytest.raises(ValueError, match=r"missing: \['Region'\]"):
        true_frequency(_base_policy().drop(columns="Region"))
    df = _base_policy(3).astype({"VehBrand": str})
    df.loc[2, "VehBrand"] = "B99"
    with pytest.raises(ValueError, match="1 rows do not \\(first: row 2, VehBrand='B99'\\)"):
        true_severity(df)
    with pytest.raises(TypeError, match="df must be a pandas DataFrame, got ndarray"):
        true_frequency(_base_policy().to_numpy())


@pytest.mark.parametrize(
    ("column_1", "values_1", "column_2", "values_2"),
    [
        ("DrivAge", (20, 50), "VehPower", (4, 15)),
        ("VehGas", ("Diesel", "Regular"), "VehAge", (0, 15)),
        ("BonusMalus", (50, 150), "DrivAge", (20, 70)),
    ],
)
def test_true_log_frequency_is_not_additive(column_1, values_1, column_2, values_2):
    assert abs(_interaction_contrast(column_1, values_1, column_2, values_2)) > 0.2


def test_features_without_interaction_are_additive():
    """The contrast of the interaction tests is zero where the truth is additive."""
    contrast = _interaction_contrast("VehBrand", ("B1", "B12"), "Region", ("R24", "R94"))
    assert contrast == pytest.approx(0.0, abs=1e-12)


def test_true_frequency_has_the_documented_shapes():
    by_age = _frequency_along("DrivAge", np.arange(18, 101))
    youngest, lowest, oldest = by_age[0], by_age.min(), by_age[-1]
    assert youngest > 1.2 * lowest and oldest > 1.2 * lowest
    assert 30 <= 18 + int(np.argmin(by_age)) <= 60

    by_bonus_malus = _frequency_along("BonusMalus", np.arange(50, 231))
    steps = np.diff(np.log(by_bonus_malus))
    assert (steps > 0).all() and (np.diff(steps) < 0).all()

    by_vehicle_age = _frequency_along("VehAge", np.arange(0, 31))
    peak = int(np.argmax(by_vehicle_age))
    assert 1 <= peak <= 6 and by_vehicle_age[peak] > 1.1 * by_vehicle_age[0]


def test_claim_sizes_agree_with_true_severity(portfolio):
    claims = portfolio[portfolio["ClaimNb"] > 0]
    count, mean = claims["ClaimNb"].to_numpy(), claims["true_severity"].to_numpy()
    expected_total = np.sum(count * mean)
    sd_total = np.sqrt(np.sum(count * mean**2 / SEVERITY_SHAPE))
    assert abs(claims["ClaimTotal"].sum() - expected_total) <= 4.0 * sd_total
    claim_weighted_mean = np.average(claims["ClaimAmount"], weights=count)
    true_weighted_mean = np.average(mean, weights=count)
    assert abs(claim_weighted_mean - true_weighted_mean) <= 4.0 * sd_total / count.sum()


def test_claim_sizes_have_the_gamma_shape(portfolio):
    single = portfolio[portfolio["ClaimNb"] == 1]
    ratio = single["ClaimAmount"] / single["true_severity"]
    variance = 1.0 / SEVERITY_SHAPE
    # Var of a sample variance of a Gamma(k) variable: sigma^4 (2 + 6 / k) / m.
    sd = variance * np.sqrt((2.0 + 6.0 / SEVERITY_SHAPE) / len(single))
    assert abs(ratio.var() - variance) <= 4.0 * sd


def _assert_csv_matches(read_back: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(read_back.columns) == list(expected.columns)
    for column in expected.columns:
        if column in schema.CATEGORICAL_LEVELS:
            assert read_back[column].astype(str).tolist() == expected[column].astype(str).tolist()
        elif column in schema.INTEGER_COLUMNS:
            np.testing.assert_array_equal(read_back[column], expected[column])
        else:
            np.testing.assert_allclose(read_back[column], expected[column], rtol=1e-12)


def test_sample_file_is_simulate_mtpl_2000_seed_1():
    assert SAMPLE_CSV.stat().st_size < 300_000
    _assert_csv_matches(pd.read_csv(SAMPLE_CSV), simulate_mtpl(2_000, seed=1))


def test_main_writes_the_simulated_portfolio(tmp_path):
    out = tmp_path / "nested" / "portfolio.csv"
    assert main(["--n", "50", "--seed", "3", "--out", str(out), "--no-severity"]) == 0
    _assert_csv_matches(pd.read_csv(out), simulate_mtpl(50, seed=3, severity=False))


def test_main_reports_invalid_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--n", "0", "--seed", "1", "--out", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    assert "n must be >= 1; got n=0" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
