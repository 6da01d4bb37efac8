"""Losses in the published units, at hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actnn.metrics import gamma_deviance, poisson_deviance, poisson_deviance_per_exposure


def test_poisson_deviance_in_units_of_1e_minus_2():
    claims = np.array([0.0, 1.0, 2.0])
    mu = np.array([0.1, 0.5, 1.0])
    # d(0, 0.1) = 0.2; d(1, 0.5) = 2 (0.5 - 1 - log 0.5) = 2 log 2 - 1; d(2, 1) = 2 (2 log 2 - 1)
    unit = [0.2, 2 * math.log(2) - 1, 2 * (2 * math.log(2) - 1)]
    assert poisson_deviance(claims, mu) == pytest.approx(100 * sum(unit) / 3, rel=1e-14)


def test_per_exposure_variant_is_the_exposure_weighted_frequency_deviance():
    rng = np.random.default_rng(1)
    exposure = rng.uniform(0.1, 1.0, 50)
    freq = rng.uniform(0.05, 0.3, 50)
    claims = rng.poisson(exposure * freq).astype(float)
    got = poisson_deviance_per_exposure(claims, exposure * freq, exposure)
    # v d(N / v, lambda) = d(N, v lambda): the weighted mean of frequency deviances with weight v
    f = claims / exposure
    # d(f, lambda) = 2 [lambda - f + f log(f / lambda)], the last term 0 at f = 0
    d_freq = 2 * (freq - f) + 2 * np.where(f > 0, f * np.log(np.where(f > 0, f, 1) / freq), 0)
    assert got == pytest.approx(100 * np.sum(exposure * d_freq) / exposure.sum(), rel=1e-12)
    assert got == pytest.approx(
        poisson_deviance(claims, exposure * freq) * len(claims) / exposure.sum(), rel=1e-12
    )


def test_gamma_deviance_is_the_weighted_mean_unit_deviance():
    y, mu, w = np.array([1.0, 2.0]), np.array([2.0, 2.0]), np.array([3.0, 1.0])
    # d(1, 2) = 2 ((1 - 2) / 2 - log(1 / 2)) = 2 (log 2 - 0.5); d(2, 2) = 0
    assert gamma_deviance(y, mu, w) == pytest.approx(3 * 2 * (math.log(2) - 0.5) / 4, rel=1e-14)
