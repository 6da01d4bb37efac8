"""Losses as the published tables report them.

Wüthrich's units: the **average Poisson deviance per policy, in units of 10^-2**,

``L = 100 * (1/n) * sum_i d(N_i, mu_i)``, with ``d(N, mu) = 2 [mu - N - N log(mu / N)]``

and ``mu_i = exposure_i * frequency_i`` the expected claim count. Keras' ``"poisson"`` loss is not
this quantity. The exposure-weighted variant divides by the total exposure instead of the number of
policies; it is the weighted mean of the frequency deviances ``d(N/v, lambda)`` with weights ``v``.
"""

from __future__ import annotations

import numpy as np

from .data import _positive
from .families import Family, Gamma, Poisson

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


def _checked(
    family: Family,
    y_name: str,
    y: np.ndarray,
    mu: np.ndarray,
    weights: np.ndarray | None = None,
    weights_name: str = "weights",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The arrays as float64, or a ValueError naming the argument and the offending rows.

    Equal lengths, numbers only (no text, NaN or inf), ``y`` in the family's support, ``mu``
    and ``weights`` > 0.
    """
    from .metrics import _arrays  # metrics imports this module

    y_arr, mu_arr, w_arr = _arrays(**{y_name: y, "mu": mu, weights_name: weights})
    family.check_response(y_arr, y_name)
    _positive(mu_arr, "mu")
    if w_arr is not None:
        _positive(w_arr, weights_name)
    return y_arr, mu_arr, w_arr


def poisson_deviance(claims: np.ndarray, mu: np.ndarray) -> float:
    """Average Poisson deviance per policy in units of 10^-2 (the published tables' loss).

    Parameters
    ----------
    claims : array
        Observed claim counts ``N_i``.
    mu : array
        Expected claim counts ``mu_i = exposure_i * frequency_i`` (not frequencies), > 0.

    Raises
    ------
    ValueError
        Arrays of different lengths, text, NaN or inf, negative claims or ``mu <= 0``; the
        message names the argument and the first offending rows.
    """
    y, mu = _checked(_POISSON, "claims", claims, mu)[:2]
    return 100.0 * _POISSON.mean_deviance(y, mu)


def poisson_deviance_per_exposure(
    claims: np.ndarray, mu: np.ndarray, exposure: np.ndarray
) -> float:
    """Poisson deviance per unit of exposure in units of 10^-2: ``100 sum_i d_i / sum_i v_i``.

    The arrays are checked as by :func:`poisson_deviance`, the exposure to be > 0.
    """
    y, mu, v = _checked(_POISSON, "claims", claims, mu, exposure, "exposure")
    return 100.0 * _POISSON.deviance(y, mu) / float(np.sum(v))


def gamma_deviance(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean Gamma unit deviance ``sum_i w_i d(y_i, mu_i) / sum_i w_i`` (plain number).

    The arrays are checked as by :func:`poisson_deviance`: ``y`` and ``mu`` > 0, weights > 0.
    """
    y_arr, mu_arr, w = _checked(_GAMMA, "y", y, mu, weights)
    return _GAMMA.mean_deviance(y_arr, mu_arr, w)
