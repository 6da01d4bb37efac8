"""Synthetic French-MTPL-like motor portfolios with a known true model.

`simulate_mtpl` draws a portfolio with the columns and dtypes of freMTPL2freq (`schema`) and
marginals close to the real data, then claim counts (and claim sizes) from a true model that is
known exactly: `true_frequency` and `true_severity` evaluate it on any frame with the feature
columns. The truth is deliberately out of reach of a main-effects GLM (smooth non-linear effects
and three interactions), so that a network, or a CANN on top of a GLM, has something to find.

Notes
-----
**Frequency** (claims per year of exposure), with ``a = DrivAge``, ``b = BonusMalus``,
``v = VehAge``, ``p = VehPower``, ``d = Density`` and ``M = 1 - exp(-(b - 50) / 60)`` (0 at
BonusMalus 50, saturating towards 1)::

    log true_frequency = -2.9
        + 0.25 exp(-(a - 18) / 7) + 0.3 ((a - 50) / 35)^2            U-shape in DrivAge
        + 2.0 M                                                      increasing, saturating in BM
        + 0.25 exp(-((v - 3) / 2.5)^2 / 2) - 0.25 min(v, 25) / 25    bump around VehAge 3
        + 0.01 (p - 4)
        + 0.06 (log d - 6)
        + VEHBRAND_FREQUENCY_EFFECT[VehBrand] + REGION_FREQUENCY_EFFECT[Region]
        + 0.8 exp(-(a - 18) / 5) (p - 4) / 11                        DrivAge x VehPower
        + [VehGas == "Diesel"] (-0.15 + 0.4 min(v, 15) / 15)         VehGas x VehAge
        + 0.6 M clip((a - 30) / 30, 0, 1)                            BonusMalus x DrivAge

The three last lines are the interactions: a powerful car adds risk for an 18-year-old but hardly
for a 40-year-old, Diesel cars get riskier with age while petrol cars do not, and a malus says
more about an experienced driver than about a novice (who starts at 100). Area has no effect of
its own: it is a binning of Density (A: Density <= 50, B: <= 100, C: <= 500, D: <= 2000,
E: <= 10000, F: above), as in the real data.

The expected claim count is ``true_mu = Exposure * true_frequency`` and
``ClaimNb ~ Poisson(true_mu)``. The intercept makes the portfolio frequency
``sum(ClaimNb) / sum(Exposure)`` about 0.10, as in freMTPL2freq.

**Severity** (mean size of one claim)::

    log true_severity = log(1800)
        + 0.04 (p - 6) + 0.3 exp(-(a - 18) / 8) + 0.15 ((a - 50) / 35)^2
        + VEHBRAND_SEVERITY_EFFECT[VehBrand]

Each claim is Gamma distributed with mean ``true_severity`` and shape ``SEVERITY_SHAPE = 1.5``
(coefficient of variation 0.82), independently of the claim count and of the other claims.
``ClaimTotal`` is the sum of a policy's ``ClaimNb`` claims (Gamma with shape ``1.5 * ClaimNb``;
0.0 without a claim) and ``ClaimAmount = ClaimTotal / ClaimNb`` is the average claim size, NaN for
a policy without a claim (there is no claim to average).

**Features**, calibrated on freMTPL2freq, are drawn in this order: Region (real shares);
log Density between the region's real 2 % and 98 % quantiles (Beta(1, 0.85), leaning to the
towns), 15 % of R11 in Paris (Density 27000), rounded and clipped to 1..27000; Area from Density;
VehBrand (real shares); VehGas with the brand's real Diesel share; VehPower from the real
distribution given VehGas; VehAge from the real distribution (brand B12: mostly new cars,
geometric with mean 2.6), at most 100; DrivAge = 18 + 31.5 Weibull(2), at most 100; BonusMalus by
the French rules (start at 100, -5 % a claim-free year down to 50, +25 % a year with an at-fault
claim, rounded down, capped at 230) run over the years since licence; Exposure one year for a
quarter of the policies, otherwise Beta(0.7, 1.2) rounded up to hundredths of a year. The features
do not depend on the claims: the same seed gives the same portfolio with or without severities.
"""

from __future__ import annotations

import argparse
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import _check_frame
from .schema import (
    CATEGORICAL_LEVELS,
    REGION_LEVELS,
    VEHBRAND_LEVELS,
    VEHGAS_LEVELS,
    categorical_dtype,
)

#: Shape of the Gamma distribution of one claim size (coefficient of variation 1 / sqrt(1.5)).
SEVERITY_SHAPE: float = 1.5


#: Columns after the freMTPL2freq columns: the true frequency model and the claim sizes.
FREQUENCY_TRUTH_COLUMNS: tuple[str, ...] = ("true_frequency", "true_mu")


SEVERITY_COLUMNS: tuple[str, ...] = ("ClaimTotal", "ClaimAmount", "true_severity")


#: Additive effects on log true_frequency and log true_severity of the categorical features.
VEHBRAND_FREQUENCY_EFFECT: dict[str, float] = {
    "B1": 0.0, "B2": 0.0, "B3": 0.05, "B4": 0.0, "B5": 0.1, "B6": -0.05,
    "B10": -0.05, "B11": 0.1, "B12": 0.2, "B13": 0.0, "B14": -0.2,
}  # fmt: skip


REGION_FREQUENCY_EFFECT: dict[str, float] = {
    "R11": 0.05, "R21": 0.25, "R22": 0.2, "R23": -0.05, "R24": -0.05, "R25": 0.0,
    "R26": 0.0, "R31": 0.0, "R41": -0.25, "R42": 0.05, "R43": 0.0, "R52": -0.05,
    "R53": 0.0, "R54": -0.1, "R72": -0.05, "R73": 0.0, "R74": 0.1, "R82": 0.1,
    "R83": -0.2, "R91": 0.0, "R93": 0.05, "R94": 0.3,
}  # fmt: skip


VEHBRAND_SEVERITY_EFFECT: dict[str, float] = {
    "B1": 0.0, "B2": 0.0, "B3": 0.0, "B4": 0.05, "B5": 0.05, "B6": 0.0,
    "B10": 0.1, "B11": 0.1, "B12": -0.1, "B13": 0.0, "B14": 0.15,
}  # fmt: skip


# Marginals calibrated on freMTPL2freq (shares of policies).
_REGION_SHARE: dict[str, float] = {
    "R11": 0.1029, "R21": 0.0045, "R22": 0.0118, "R23": 0.0130, "R24": 0.2369, "R25": 0.0161,
    "R26": 0.0155, "R31": 0.0402, "R41": 0.0192, "R42": 0.0032, "R43": 0.0020, "R52": 0.0572,
    "R53": 0.0621, "R54": 0.0281, "R72": 0.0462, "R73": 0.0253, "R74": 0.0067, "R82": 0.1250,
    "R83": 0.0078, "R91": 0.0528, "R93": 0.1170, "R94": 0.0067,
}  # fmt: skip


# log Density of a region: uniform-ish between its 2 % and 98 % quantiles, leaning to the top.
_REGION_LOG_DENSITY_RANGE: dict[str, tuple[float, float]] = {
    "R11": (3.9, 9.7), "R21": (2.1, 8.4), "R22": (3.0, 7.9), "R23": (3.3, 8.5), "R24": (2.3, 8.3),
    "R25": (3.0, 8.4), "R26": (2.1, 8.2), "R31": (3.8, 8.9), "R41": (3.1, 8.7), "R42": (4.1, 8.5),
    "R43": (2.4, 8.0), "R52": (3.1, 8.3), "R53": (3.4, 8.1), "R54": (2.9, 7.9), "R72": (2.5, 8.4),
    "R73": (2.5, 8.1), "R74": (1.6, 7.5), "R82": (3.3, 9.1), "R83": (2.3, 8.4), "R91": (2.9, 8.3),
    "R93": (3.2, 8.5), "R94": (1.8, 7.6),
}  # fmt: skip


_LOG_DENSITY_BETA = (1.0, 0.85)


_R11_PARIS_SHARE = 0.15


_DENSITY_MAX = 27_000


_AREA_DENSITY_EDGES = (50, 100, 500, 2_000, 10_000)


_VEHBRAND_SHARE: dict[str, float] = {
    "B1": 0.2400, "B2": 0.2358, "B3": 0.0788, "B4": 0.0371, "B5": 0.0513, "B6": 0.0421,
    "B10": 0.0261, "B11": 0.0200, "B12": 0.2449, "B13": 0.0180, "B14": 0.0060,
}  # fmt: skip


_DIESEL_SHARE: dict[str, float] = {
    "B1": 0.46, "B2": 0.53, "B3": 0.56, "B4": 0.45, "B5": 0.48, "B6": 0.40,
    "B10": 0.74, "B11": 0.49, "B12": 0.45, "B13": 0.50, "B14": 0.32,
}  # fmt: skip


_VEHPOWER_MIN = 4


_VEHPOWER_SHARE: dict[str, tuple[float, ...]] = {  # VehPower 4, 5, ..., 15
    "Diesel": (0.085, 0.189, 0.302, 0.21, 0.097, 0.021, 0.043, 0.031, 0.018, 0.002, 0.001, 0.002),
    "Regular": (0.252, 0.18, 0.141, 0.219, 0.042, 0.067, 0.049, 0.023, 0.007, 0.007, 0.006, 0.007),
}


# VehAge 0, 1, ..., 20 of brands other than B12; the rest (1.7 %) is 21 + geometric(mean 4.5).
_VEHAGE_SHARE: tuple[float, ...] = (
    0.04, 0.059, 0.06, 0.061, 0.061, 0.06, 0.06, 0.059, 0.06, 0.059, 0.068,
    0.056, 0.055, 0.052, 0.047, 0.044, 0.029, 0.021, 0.016, 0.01, 0.006,
)  # fmt: skip


_VEHAGE_TAIL_MEAN = 4.5


_VEHAGE_MAX = 100


_VEHAGE_B12_MEAN = 2.6


_DRIVAGE_MIN, _DRIVAGE_MAX = 18, 100


_DRIVAGE_WEIBULL_SHAPE, _DRIVAGE_WEIBULL_SCALE = 2.0, 31.5


_LICENCE_DELAY_MEAN = 3.0


_EXPOSURE_FULL_YEAR_SHARE = 0.25


_EXPOSURE_BETA = (0.7, 1.2)


def simulate_mtpl(n: int, seed: int, *, severity: bool = True) -> pd.DataFrame:
    """Simulate a motor portfolio like freMTPL2freq, with claims from a known true model.

    Parameters
    ----------
    n : int
        Number of policies (rows), >= 1.
    seed : int
        Seed of ``np.random.default_rng``, >= 0. The same ``n`` and ``seed`` give the same frame;
        the features and claim counts do not depend on ``severity``.
    severity : bool, default True
        Also simulate claim sizes (columns ``ClaimTotal``, ``ClaimAmount``, ``true_severity``).

    Returns
    -------
    pandas.DataFrame
        One row a policy: the columns of freMTPL2freq in their order and with the dtypes of
        `actnn.datasets.schema` (IDpol is 1..n), then ``true_frequency`` (claims per year),
        ``true_mu = Exposure * true_frequency`` (expected claim count) and, with ``severity``,
        ``ClaimTotal`` (sum of the claim sizes, 0.0 without a claim), ``ClaimAmount`` (average
        claim size ``ClaimTotal / ClaimNb``, NaN when ``ClaimNb == 0``) and ``true_severity``
        (expected size of one claim), all float64. ``attrs["simulation"]`` records the call.

    Notes
    -----
    The true model and the feature distributions are given in the module docstring.

    Examples
    --------
    >>> df = simulate_mtpl(1_000, seed=1)
    >>> df.shape
    (1000, 17)
    >>> bool(np.array_equal(true_frequency(df), df["true_frequency"]))
    True
    """
    _check_int("n", n, minimum=1)
    _check_int("seed", seed, minimum=0)
    n = int(n)
    feature_rng, count_rng, size_rng = np.random.default_rng(int(seed)).spawn(3)

    df = _simulate_features(feature_rng, n)
    frequency = true_frequency(df)
    mu = df["Exposure"].to_numpy() * frequency
    df.insert(1, "ClaimNb", count_rng.poisson(mu).astype(np.int64))
    df["true_frequency"] = frequency
    df["true_mu"] = mu
    if severity:
        claim_size = true_severity(df)
        claim_count = df["ClaimNb"].to_numpy()
        total = np.zeros(n)
        has_claim = claim_count > 0
        total[has_claim] = size_rng.gamma(
            SEVERITY_SHAPE * claim_count[has_claim], claim_size[has_claim] / SEVERITY_SHAPE
        )
        average = np.full(n, np.nan)
        average[has_claim] = total[has_claim] / claim_count[has_claim]
        df["ClaimTotal"] = total
        df["ClaimAmount"] = average
        df["true_severity"] = claim_size
    df.attrs["simulation"] = {
        "generator": "actnn.datasets.simulate.simulate_mtpl",
        "n": n,
        "seed": int(seed),
        "severity": bool(severity),
    }
    return df


def true_frequency(df: pd.DataFrame) -> np.ndarray:
    """Evaluate the true claim frequency (claims per year of exposure) of `simulate_mtpl`.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns DrivAge, BonusMalus, VehAge, VehPower, Density (numbers) and VehBrand, VehGas,
        Region (categorical or strings with the levels of `actnn.datasets.schema`).

    Returns
    -------
    numpy.ndarray
        float64, one value a row: the frequency, not the expected claim count (multiply by
        Exposure for ``mu``).

    Notes
    -----
    The formula is given in the module docstring.
    """
    _check_columns(
        df,
        ("DrivAge", "BonusMalus", "VehAge", "VehPower", "Density", "VehBrand", "VehGas", "Region"),
        "true_frequency",
    )
    age = df["DrivAge"].to_numpy(dtype=np.float64)
    bonus_malus = df["BonusMalus"].to_numpy(dtype=np.float64)
    veh_age = df["VehAge"].to_numpy(dtype=np.float64)
    power = df["VehPower"].to_numpy(dtype=np.float64)
    log_density = np.log(df["Density"].to_numpy(dtype=np.float64))
    diesel = _level_codes(df, "VehGas") == VEHGAS_LEVELS.index("Diesel")
    malus = 1.0 - np.exp(-(bonus_malus - 50.0) / 60.0)

    eta = (
        -2.9
        + 0.25 * np.exp(-(age - 18.0) / 7.0)
        + 0.3 * ((age - 50.0) / 35.0) ** 2
        + 2.0 * malus
        + 0.25 * np.exp(-0.5 * ((veh_age - 3.0) / 2.5) ** 2)
        - 0.25 * np.minimum(veh_age, 25.0) / 25.0
        + 0.01 * (power - 4.0)
        + 0.06 * (log_density - 6.0)
        + _level_effect(df, "VehBrand", VEHBRAND_FREQUENCY_EFFECT)
        + _level_effect(df, "Region", REGION_FREQUENCY_EFFECT)
        + 0.8 * np.exp(-(age - 18.0) / 5.0) * (power - 4.0) / 11.0
        + np.where(diesel, -0.15 + 0.4 * np.minimum(veh_age, 15.0) / 15.0, 0.0)
        + 0.6 * malus * np.clip((age - 30.0) / 30.0, 0.0, 1.0)
    )
    return np.exp(eta)


def true_severity(df: pd.DataFrame) -> np.ndarray:
    """Evaluate the true mean size of one claim of `simulate_mtpl`.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns VehPower, DrivAge (numbers) and VehBrand (categorical or strings).

    Returns
    -------
    numpy.ndarray
        float64, one value a row.

    Notes
    -----
    The formula is given in the module docstring.
    """
    _check_columns(df, ("VehPower", "DrivAge", "VehBrand"), "true_severity")
    power = df["VehPower"].to_numpy(dtype=np.float64)
    age = df["DrivAge"].to_numpy(dtype=np.float64)
    eta = (
        np.log(1800.0)
        + 0.04 * (power - 6.0)
        + 0.3 * np.exp(-(age - 18.0) / 8.0)
        + 0.15 * ((age - 50.0) / 35.0) ** 2
        + _level_effect(df, "VehBrand", VEHBRAND_SEVERITY_EFFECT)
    )
    return np.exp(eta)


def main(argv: Sequence[str] | None = None) -> int:
    """Write a simulated portfolio to CSV.

    ``python -m actnn.datasets.simulate --n N --seed S --out F``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m actnn.datasets.simulate",
        description="Simulate a French-MTPL-like motor portfolio with a known true model.",
    )
    parser.add_argument("--n", type=int, required=True, help="number of policies")
    parser.add_argument("--seed", type=int, required=True, help="seed of the random generator")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument(
        "--no-severity", action="store_true", help="simulate claim counts only, no claim sizes"
    )
    args = parser.parse_args(argv)
    try:
        df = simulate_mtpl(args.n, args.seed, severity=not args.no_severity)
    except ValueError as error:
        parser.error(str(error))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False)
    return 0


def _simulate_features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Draw the rating factors and Exposure; columns of freMTPL2freq except ClaimNb."""
    region = _draw_levels(rng, _REGION_SHARE, REGION_LEVELS, n)
    ranges = np.array([_REGION_LOG_DENSITY_RANGE[level] for level in REGION_LEVELS])
    low, high = ranges[region, 0], ranges[region, 1]
    log_density = low + (high - low) * rng.beta(*_LOG_DENSITY_BETA, size=n)
    in_paris = (region == REGION_LEVELS.index("R11")) & (rng.random(n) < _R11_PARIS_SHARE)
    log_density[in_paris] = np.log(_DENSITY_MAX)
    density = np.clip(np.rint(np.exp(log_density)), 1, _DENSITY_MAX).astype(np.int64)
    area = np.searchsorted(_AREA_DENSITY_EDGES, density, side="left")

    brand = _draw_levels(rng, _VEHBRAND_SHARE, VEHBRAND_LEVELS, n)
    diesel_share = _effect_array(_DIESEL_SHARE, VEHBRAND_LEVELS)[brand]
    diesel = rng.random(n) < diesel_share
    gas = np.where(diesel, VEHGAS_LEVELS.index("Diesel"), VEHGAS_LEVELS.index("Regular"))
    power = np.empty(n, dtype=np.int64)
    for code, level in enumerate(VEHGAS_LEVELS):
        rows = gas == code
        share = np.asarray(_VEHPOWER_SHARE[level])
        power[rows] = _VEHPOWER_MIN + rng.choice(share.size, size=rows.sum(), p=share / share.sum())
    veh_age = _draw_vehicle_age(rng, brand == VEHBRAND_LEVELS.index("B12"))

    driv_age = _DRIVAGE_MIN + _DRIVAGE_WEIBULL_SCALE * rng.weibull(_DRIVAGE_WEIBULL_SHAPE, size=n)
    driv_age = np.minimum(np.floor(driv_age), _DRIVAGE_MAX).astype(np.int64)
    bonus_malus = _draw_bonus_malus(rng, driv_age)
    exposure = _draw_exposure(rng, n)

    columns = {
        "IDpol": np.arange(1, n + 1, dtype=np.int64),
        "Exposure": exposure,
        "Area": _categorical(area, "Area"),
        "VehPower": power,
        "VehAge": veh_age,
        "DrivAge": driv_age,
        "BonusMalus": bonus_malus,
        "VehBrand": _categorical(brand, "VehBrand"),
        "VehGas": _categorical(gas, "VehGas"),
        "Density": density,
        "Region": _categorical(region, "Region"),
    }
    return pd.DataFrame(columns)


def _draw_vehicle_age(rng: np.random.Generator, is_b12: np.ndarray) -> np.ndarray:
    """VehAge: the real table with a geometric tail; brand B12 mostly new cars."""
    n = is_b12.size
    share = np.asarray(_VEHAGE_SHARE)
    probabilities = np.append(share, 1.0 - share.sum())
    veh_age = rng.choice(probabilities.size, size=n, p=probabilities)
    in_tail = veh_age == share.size
    veh_age[in_tail] += rng.geometric(1.0 / (1.0 + _VEHAGE_TAIL_MEAN), size=in_tail.sum()) - 1
    new_car_age = rng.geometric(1.0 / (1.0 + _VEHAGE_B12_MEAN), size=n) - 1
    veh_age = np.where(is_b12, new_car_age, veh_age)
    return np.minimum(veh_age, _VEHAGE_MAX).astype(np.int64)


def _draw_bonus_malus(rng: np.random.Generator, driv_age: np.ndarray) -> np.ndarray:
    """BonusMalus from the French rules, run over the years since the driver was licensed.

    A driver is licensed at 18 plus a geometric delay (mean 3 years) and starts at 100. Every year,
    an at-fault claim (probability ``0.035 + 0.05 exp(-(age - 18) / 6)`` at the age of that year)
    raises the level by 25 %, otherwise it falls by 5 %; levels are rounded down and kept within
    50..350, then capped at 230 as in the data.
    """
    n = driv_age.size
    licence_delay = rng.geometric(1.0 / (1.0 + _LICENCE_DELAY_MEAN), size=n) - 1
    years_licensed = np.maximum(driv_age - _DRIVAGE_MIN - licence_delay, 0)
    # Sort by years licensed, longest first: the drivers licensed t or more years ago are a prefix.
    order = np.argsort(-years_licensed, kind="stable")
    years_sorted = years_licensed[order]
    age_sorted = driv_age[order].astype(np.float64)
    level = np.full(n, 100.0)
    for years_ago in range(int(years_sorted.max(initial=0)), 0, -1):
        m = int(np.searchsorted(-years_sorted, -years_ago, side="right"))
        age_then = age_sorted[:m] - years_ago
        claim = rng.random(m) < 0.035 + 0.05 * np.exp(-(age_then - _DRIVAGE_MIN) / 6.0)
        level[:m] = np.where(
            claim,
            np.minimum(np.floor(level[:m] * 1.25), 350.0),
            np.maximum(np.floor(level[:m] * 0.95), 50.0),
        )
    bonus_malus = np.empty(n, dtype=np.int64)
    bonus_malus[order] = np.minimum(level, 230.0)
    return bonus_malus


def _draw_exposure(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exposure in years: a full year for a quarter, Beta otherwise, rounded up to 0.01."""
    partial = np.ceil(100.0 * rng.beta(*_EXPOSURE_BETA, size=n)) / 100.0
    full_year = rng.random(n) < _EXPOSURE_FULL_YEAR_SHARE
    return np.where(full_year, 1.0, np.clip(partial, 0.01, 1.0))


def _draw_levels(
    rng: np.random.Generator, share: Mapping[str, float], levels: Sequence[str], n: int
) -> np.ndarray:
    """Draw level codes (indices into `levels`) with the given shares."""
    p = _effect_array(share, levels)
    return rng.choice(len(levels), size=n, p=p / p.sum())


def _effect_array(values: Mapping[str, float], levels: Sequence[str]) -> np.ndarray:
    """Values of a level->value mapping as an array in the order of `levels`."""
    return np.array([values[level] for level in levels], dtype=np.float64)


def _categorical(codes: np.ndarray, column: str) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=categorical_dtype(column))


def _level_codes(df: pd.DataFrame, column: str) -> np.ndarray:
    """Codes of a categorical column in the schema's level order; unknown levels are an error."""
    values = df[column]
    levels = pd.Index(CATEGORICAL_LEVELS[column])
    if isinstance(values.dtype, pd.CategoricalDtype):
        category_codes = values.cat.codes.to_numpy()
        codes = np.where(
            category_codes >= 0, levels.get_indexer(values.cat.categories)[category_codes], -1
        )
    else:
        codes = levels.get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(
            f"{column} must take the levels {list(levels)}; "
            f"{int(unknown.sum())} rows do not (first: row {first}, "
            f"{column}={values.iloc[first]!r})"
        )
    return codes


def _level_effect(df: pd.DataFrame, column: str, effect: Mapping[str, float]) -> np.ndarray:
    levels = CATEGORICAL_LEVELS[column]
    return _effect_array(effect, levels)[_level_codes(df, column)]


def _check_columns(df: pd.DataFrame, columns: Sequence[str], caller: str) -> None:
    _check_frame(df, "df")
    missing = [column for column in columns if column not in df.columns]
    if missing:
        raise ValueError(f"{caller} needs the columns {list(columns)}; missing: {missing}")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {name}={value}")


if __name__ == "__main__":
    raise SystemExit(main())
