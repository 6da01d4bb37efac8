"""Losses as the published tables report them.

Wüthrich's units: the **average Poisson deviance per policy, in units of 10^-2**,

``L = 100 * (1/n) * sum_i d(N_i, mu_i)``, with ``d(N, mu) = 2 [mu - N - N log(mu / N)]``

and ``mu_i = exposure_i * frequency_i`` the expected claim count. Keras' ``"poisson"`` loss is not
this quantity. The exposure-weighted variant divides by the total exposure instead of the number of
policies; it is the weighted mean of the frequency deviances ``d(N/v, lambda)`` with weights ``v``.
"""

from __future__ import annotations

import numpy as np

from .families import Gamma, Poisson

__all__ = [
    "POISSON_UNITS",
    "POISSON_EXPOSURE_UNITS",
    "GAMMA_UNITS",
    "poisson_deviance",
    "poisson_deviance_per_exposure",
    "gamma_deviance",
]

POISSON_UNITS = "average Poisson deviance per policy, in units of 10^-2"
POISSON_EXPOSURE_UNITS = "Poisson deviance per unit of exposure, in units of 10^-2"
GAMMA_UNITS = "weighted mean Gamma unit deviance, sum w_i d_i / sum w_i (plain number)"

_POISSON = Poisson()
_GAMMA = Gamma()


def poisson_deviance(claims: np.ndarray, mu: np.ndarray) -> float:
    """Average Poisson deviance per policy in units of 10^-2 (the published tables' loss).

    Parameters
    ----------
    claims : array
        Observed claim counts ``N_i``.
    mu : array
        Expected claim counts ``mu_i = exposure_i * frequency_i`` (not frequencies).
    """
    return 100.0 * _POISSON.mean_deviance(claims, mu)


def poisson_deviance_per_exposure(
    claims: np.ndarray, mu: np.ndarray, exposure: np.ndarray
) -> float:
    """Poisson deviance per unit of exposure in units of 10^-2: ``100 sum_i d_i / sum_i v_i``."""
    return 100.0 * _POISSON.deviance(claims, mu) / float(np.sum(exposure))


def gamma_deviance(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean Gamma unit deviance ``sum_i w_i d(y_i, mu_i) / sum_i w_i`` (plain number)."""
    return _GAMMA.mean_deviance(y, mu, weights)
